import { isTextMediaType } from '../body-encoding.js';
import { rawHeader } from '../headers.js';

/** The request as the ALB listener hands it to the event builder. */
export interface AlbRequest {
  method: string;
  /** As sent, still percent-encoded: ELB passes the path on undecoded. */
  path: string;
  rawQuery: string;
  /** node's rawHeaders, plus the X-Forwarded-* and X-Amzn-Trace-Id ELB adds. */
  headers: string[];
  body: Buffer;
  targetGroupArn: string;
  multiValueHeaders: boolean;
}

/**
 * Splits a raw query into key/value pairs WITHOUT decoding: ELB hands query parameters to the
 * function exactly as sent ("If the query parameters are URL-encoded, the load balancer does
 * not decode them").
 */
function rawQueryPairs(rawQuery: string): [string, string][] {
  const pairs: [string, string][] = [];
  if (rawQuery === '') return pairs;
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    pairs.push(eq < 0 ? [piece, ''] : [piece.slice(0, eq), piece.slice(eq + 1)]);
  }
  return pairs;
}

/**
 * The ALB target-group event (Lambda developer guide, "Using Lambda with an Application Load
 * Balancer"): header names lower-case; with multi-value headers off, a repeated header or query
 * key keeps its last value, with them on `multiValueHeaders` and
 * `multiValueQueryStringParameters` hold every value and the single-value fields are absent.
 * The body is `''` when there is none; binary media types travel base64.
 */
export function buildAlbEvent(request: AlbRequest): Record<string, unknown> {
  const contentType = rawHeader(request.headers, 'content-type');
  const binary = request.body.length > 0 && !isTextMediaType(contentType);
  const event: Record<string, unknown> = {
    requestContext: { elb: { targetGroupArn: request.targetGroupArn } },
    httpMethod: request.method,
    path: request.path,
  };
  const pairs = rawQueryPairs(request.rawQuery);
  if (request.multiValueHeaders) {
    const query: Record<string, string[]> = {};
    for (const [k, v] of pairs) push(query, k, v);
    const headers: Record<string, string[]> = {};
    for (let i = 0; i + 1 < request.headers.length; i += 2) {
      push(headers, request.headers[i]!.toLowerCase(), request.headers[i + 1]!);
    }
    event.multiValueQueryStringParameters = query;
    event.multiValueHeaders = headers;
  } else {
    const query: Record<string, string> = {};
    for (const [k, v] of pairs) query[k] = v;
    const headers: Record<string, string> = {};
    for (let i = 0; i + 1 < request.headers.length; i += 2) {
      headers[request.headers[i]!.toLowerCase()] = request.headers[i + 1]!;
    }
    event.queryStringParameters = query;
    event.headers = headers;
  }
  event.body = binary ? request.body.toString('base64') : request.body.toString('utf8');
  event.isBase64Encoded = binary;
  return event;
}

function push(into: Record<string, string[]>, key: string, value: string): void {
  const list = into[key];
  if (list === undefined) into[key] = [value];
  else list.push(value);
}
