/**
 * PostObject: a browser form upload (`POST /<bucket>`, multipart/form-data). The form carries
 * its own authorization: a policy document signed with SigV4's signing key (checked by the one
 * SigV4 implementation, src/platform/auth/sigv4.ts). The file streams to the object files as it
 * arrives, cut off as soon as it passes the policy's content-length-range.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { PostPolicyVerifier } from '../../platform/auth/request-verifier.js';
import { AwsError } from '../../platform/aws/aws-error.js';
import type { RestXmlResponse } from '../../platform/aws/protocols/rest-xml.js';
import { textNode } from '../../platform/aws/protocols/xml.js';
import { FormSyntaxError, formBoundary, readUploadForm, type UploadForm } from './form-data.js';
import { BlobTooLargeError } from './object-files.js';
import { storedHeaders, userMetadata } from './object-headers.js';
import { storeObject } from './object-operations.js';
import { checkPolicy, invalidPolicy, parsePolicy } from './post-policy.js';
import { s3AuthError } from './s3-auth.js';
import { checkBucketAccess, checkKey, objectChanged, type S3Deps, s3Namespace } from './s3-call.js';
import { s3Errors } from './s3-errors.js';
import type { ObjectRow } from './s3-metadata.js';

export interface PostCall {
  deps: S3Deps;
  req: IncomingMessage;
  bucket: string;
  requestId: string;
  verifyPolicy: PostPolicyVerifier;
}

/** Whether a bucket request is a form upload rather than a signed API call. */
export function isFormUpload(req: IncomingMessage): boolean {
  return req.method === 'POST' && formBoundary(req.headers['content-type']) !== undefined;
}

export async function postObject(call: PostCall): Promise<RestXmlResponse> {
  const boundary = formBoundary(call.req.headers['content-type'])!;
  let form: UploadForm;
  try {
    form = await readUploadForm(call.req, boundary);
  } catch (error) {
    if (error instanceof FormSyntaxError) throw malformedPost(error.message);
    throw error;
  }
  const { fields, file } = form;
  const principal = await authorize(call, fields);
  const scope = await call.deps.scopeOf?.(principal);
  await checkBucketAccess({ deps: call.deps, ...(scope ? { scope } : {}) }, call.bucket, true);
  const policy = parsePolicy(fields.get('policy')!);
  checkPolicy(policy, fields, call.bucket, call.deps.clock.now());
  if (!file) throw malformedPost('The body of your POST request is missing the file field.');
  const template = fields.get('key');
  if (template === undefined) throw malformedPost('Bucket POST must contain a field named key.');
  // `${filename}` stands for the name of the file the browser sent (without its directory).
  const filename = file.filename.split(/[\\/]/).pop() ?? '';
  const key = template.replaceAll('${filename}', filename);
  if (key === '') throw malformedPost('The key must not be empty.');
  checkKey(key);
  const bucketRow = await call.deps.meta.findBucket(call.bucket);
  if (!bucketRow) throw s3Errors.noSuchBucket(call.bucket);

  const headers = formHeaders(fields);
  const max = Math.min(
    call.deps.maxObjectBytes,
    policy.lengthRange?.max ?? Number.POSITIVE_INFINITY,
  );
  let written: Awaited<ReturnType<typeof call.deps.files.write>>;
  try {
    written = await call.deps.files.write(file.stream, max);
  } catch (error) {
    if (error instanceof BlobTooLargeError) {
      const tooLarge = s3Errors.entityTooLarge(max);
      tooLarge.headers.connection = 'close';
      throw tooLarge;
    }
    if (error instanceof FormSyntaxError) throw malformedPost(error.message);
    throw error;
  }
  if (policy.lengthRange && written.size < policy.lengthRange.min) {
    await call.deps.files.remove(written.blobId);
    throw s3Errors.entityTooSmall();
  }
  // What follows the file is ignored, as S3 does; drained so the connection can be reused.
  if (!call.req.readableEnded) call.req.resume();
  const row: ObjectRow = {
    bucket: call.bucket,
    key,
    blobId: written.blobId,
    size: written.size,
    etag: `"${written.md5Hex}"`,
    lastModified: call.deps.clock.now(),
    headers: storedHeaders(headers),
    userMetadata: userMetadata(headers),
  };
  await storeObject({ deps: call.deps }, row);
  await objectChanged(
    { deps: call.deps, req: call.req, principal, requestId: call.requestId },
    {
      bucket: row.bucket,
      key: row.key,
      eventName: 'ObjectCreated:Post',
      size: row.size,
      etag: row.etag,
      at: row.lastModified,
    },
  );
  return answer(call, fields, row);
}

async function authorize(call: PostCall, fields: ReadonlyMap<string, string>): Promise<string> {
  const policy = fields.get('policy');
  const signature = fields.get('x-amz-signature');
  if (policy === undefined || signature === undefined) {
    // Nimbus buckets are never public: an unsigned form is refused.
    throw s3Errors.accessDenied();
  }
  const credential = fields.get('x-amz-credential');
  const amzDate = fields.get('x-amz-date');
  const algorithm = fields.get('x-amz-algorithm');
  if (credential === undefined || amzDate === undefined || algorithm === undefined) {
    throw invalidPolicy(
      'Bucket POST must contain the fields x-amz-algorithm, x-amz-credential and x-amz-date.',
    );
  }
  const token = fields.get('x-amz-security-token');
  const result = await call.verifyPolicy({
    policy,
    signature,
    credential,
    amzDate,
    algorithm,
    ...(token === undefined ? {} : { sessionToken: token }),
  });
  if (!result.ok) throw s3AuthError(result, true);
  return result.accessKeyId;
}

/** The form fields an object keeps, as the request headers a PutObject would have sent. */
function formHeaders(fields: ReadonlyMap<string, string>): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of fields) {
    if (
      name.startsWith('x-amz-meta-') ||
      [
        'content-type',
        'cache-control',
        'content-disposition',
        'content-encoding',
        'content-language',
        'expires',
      ].includes(name)
    ) {
      headers[name] = value;
    }
  }
  return headers;
}

/** success_action_redirect (303), else success_action_status: 200, 201 (a PostResponse) or 204. */
function answer(
  call: PostCall,
  fields: ReadonlyMap<string, string>,
  row: ObjectRow,
): RestXmlResponse {
  const location = `/${encodeURIComponent(call.bucket)}/${row.key
    .split('/')
    .map(encodeURIComponent)
    .join('/')}`;
  const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
  if (redirect !== undefined && /^https?:\/\//i.test(redirect)) {
    const url = new URL(redirect);
    url.searchParams.set('bucket', call.bucket);
    url.searchParams.set('key', row.key);
    url.searchParams.set('etag', row.etag);
    return { status: 303, headers: { location: url.toString(), etag: row.etag } };
  }
  const status = fields.get('success_action_status');
  if (status === '201') {
    return {
      status: 201,
      headers: { location, etag: row.etag },
      body: {
        name: 'PostResponse',
        attrs: { xmlns: s3Namespace },
        children: [
          textNode('Location', location),
          textNode('Bucket', call.bucket),
          textNode('Key', row.key),
          textNode('ETag', row.etag),
        ],
      },
    };
  }
  return { status: status === '200' ? 200 : 204, headers: { location, etag: row.etag } };
}

function malformedPost(message: string): AwsError {
  return new AwsError(
    400,
    'MalformedPOSTRequest',
    `The body of your POST request is not well-formed multipart/form-data. ${message}`,
  );
}
