/**
 * Browser CORS for buckets: the preflight (`OPTIONS`, unsigned, as browsers send it) and the
 * Access-Control-* headers of actual requests. A preflight reads only the bucket's CORS rules
 * and answers with headers alone: it is never an operation, so answering it unsigned opens
 * nothing else.
 */
import type { IncomingMessage } from 'node:http';
import type { RestXmlResponse } from '../../platform/aws/protocols/rest-xml.js';
import { corsHeaders, corsVary, matchCorsRule, requestedHeaderNames } from './cors-match.js';
import { drain } from './s3-call.js';
import { s3Errors } from './s3-errors.js';
import type { S3Metadata } from './s3-metadata.js';

const notAllowed =
  "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

/** OPTIONS on a bucket or object: 200 with the rule's headers, or S3's refusal. */
export async function preflight(
  meta: S3Metadata,
  req: IncomingMessage,
  bucket: string | undefined,
  key: string | undefined,
): Promise<RestXmlResponse> {
  drain(req);
  const origin = single(req.headers.origin);
  if (origin === undefined) {
    throw s3Errors.badRequest('Insufficient information. Origin request header needed.');
  }
  const asked = single(req.headers['access-control-request-method']);
  const resourceType = key === undefined ? 'BUCKET' : 'OBJECT';
  if (bucket === undefined) throw s3Errors.methodNotAllowed();
  const rules = await meta.bucketCors(bucket);
  if (rules === 'missing') {
    throw s3Errors.corsForbidden('Bucket not found', asked ?? 'OPTIONS', resourceType);
  }
  if (rules === undefined) {
    throw s3Errors.corsForbidden(
      'CORS is not enabled for this bucket.',
      asked ?? 'OPTIONS',
      resourceType,
    );
  }
  if (asked === undefined) {
    throw s3Errors.badRequest('Invalid Access-Control-Request-Method: null');
  }
  const requested = requestedHeaderNames(req.headers['access-control-request-headers']);
  const match = matchCorsRule(rules, origin, asked, requested);
  if (!match) throw s3Errors.corsForbidden(notAllowed, asked, resourceType);
  return { headers: corsHeaders(match, origin, requested) };
}

/**
 * The Access-Control-* headers an actual request from a browser (one with an Origin) gets,
 * answer or error alike, when a rule of its bucket allows its origin and method. Nothing when
 * no rule does: the browser then keeps the answer from the page.
 */
export async function actualCorsHeaders(
  meta: S3Metadata,
  req: IncomingMessage,
  bucket: string | undefined,
): Promise<Record<string, string> | undefined> {
  const origin = single(req.headers.origin);
  if (origin === undefined || bucket === undefined) return undefined;
  const rules = await meta.bucketCors(bucket);
  if (rules === 'missing' || rules === undefined) return undefined;
  const match = matchCorsRule(rules, origin, req.method ?? 'GET');
  return match ? corsHeaders(match, origin) : { vary: corsVary };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
