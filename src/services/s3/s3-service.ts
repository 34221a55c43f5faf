/**
 * The S3 service behind the front door: verifies the request (SigV4, header or presigned),
 * works out bucket and key (virtual-host or path style), and routes to the operation by method
 * and sub-resource. Operations answer through the REST-XML codec.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRestricted } from '../../platform/auth/access-key-store.js';
import type {
  PostPolicyVerifier,
  StreamingRequestVerifier,
} from '../../platform/auth/request-verifier.js';
import { AwsError } from '../../platform/aws/aws-error.js';
import {
  createRestXmlHandler,
  type RestXmlResponse,
} from '../../platform/aws/protocols/rest-xml.js';
import { splitTarget } from '../../platform/front-door/front-door.js';
import { deleteBucketCors, getBucketCors, putBucketCors } from './bucket-cors.js';
import { getBucketNotification, putBucketNotification } from './bucket-notification.js';
import {
  createBucket,
  deleteBucket,
  getBucketLocation,
  headBucket,
  listBuckets,
} from './bucket-operations.js';
import { copyObject, parseCopySource } from './copy-object.js';
import { actualCorsHeaders, preflight } from './cors-preflight.js';
import { deleteObjects } from './delete-objects.js';
import { listObjectsV1, listObjectsV2 } from './list-objects.js';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listMultipartUploads,
  listParts,
  uploadPart,
  uploadPartCopy,
} from './multipart.js';
import { deleteObject, getObject, headObject, putObject } from './object-operations.js';
import { deleteObjectTagging, getObjectTagging, putObjectTagging } from './object-tagging.js';
import { isFormUpload, postObject } from './post-object.js';
import { type S3Address, s3Address } from './s3-address.js';
import { s3AuthError } from './s3-auth.js';
import {
  type BucketCall,
  checkBucketAccess,
  type ObjectCall,
  type S3Call,
  type S3Deps,
} from './s3-call.js';
import { s3Errors } from './s3-errors.js';

export interface S3ServiceOptions extends S3Deps {
  verify: StreamingRequestVerifier;
  /** Browser form uploads (presigned POST) carry a signed policy instead of a signed request. */
  verifyPolicy: PostPolicyVerifier;
  onError?: (error: unknown) => void;
}

/** Bucket sub-resources Nimbus does not serve yet: answered NotImplemented, never as a listing. */
const unsupportedBucketResources = [
  'acl',
  'policy',
  'lifecycle',
  'versioning',
  'versions',
  'website',
  'encryption',
  'replication',
  'tagging',
  'logging',
  'ownershipControls',
  'publicAccessBlock',
  'object-lock',
  'accelerate',
  'requestPayment',
  'analytics',
  'metrics',
  'inventory',
  'intelligent-tiering',
  'policyStatus',
];
const unsupportedObjectResources = [
  'acl',
  'retention',
  'legal-hold',
  'restore',
  'select',
  'torrent',
  'attributes',
];

export function createS3Service(options: S3ServiceOptions) {
  const opts = options;
  const handler = createRestXmlHandler({
    onError: opts.onError,
    serve: async (req, ctx) => {
      const { path, rawQuery } = splitTarget(req.url);
      const address = s3Address(req.headers.host, path, rawQuery);
      // Browsers send preflights unsigned; they read CORS rules and nothing else.
      if (req.method === 'OPTIONS') return preflight(opts.meta, req, address.bucket, address.key);
      const cors = await actualCorsHeaders(opts.meta, req, address.bucket);
      try {
        const answer = await route(opts, req, address, ctx.requestId);
        return cors ? { ...answer, headers: { ...answer.headers, ...cors } } : answer;
      } catch (error) {
        // Errors carry the headers too, so a page can read why its upload was refused.
        if (cors && error instanceof AwsError) Object.assign(error.headers, cors);
        throw error;
      }
    },
  });
  return (req: IncomingMessage, res: ServerResponse): Promise<void> => handler(req, res);
}

async function route(
  opts: S3ServiceOptions,
  req: IncomingMessage,
  address: S3Address,
  requestId: string,
): Promise<RestXmlResponse> {
  if (address.bucket !== undefined && address.key === undefined && isFormUpload(req)) {
    return postObject({
      deps: opts,
      req,
      bucket: address.bucket,
      requestId,
      verifyPolicy: opts.verifyPolicy,
    });
  }
  const auth = await opts.verify(req);
  if (!auth.ok) throw s3AuthError(auth, !req.headers.authorization);
  const found = opts.scopeOf?.(auth.principal);
  const scope = found instanceof Promise ? await found : found;
  const call: S3Call = {
    deps: opts,
    req,
    query: address.query,
    chain: auth.chain,
    principal: auth.principal,
    ...(isRestricted(scope) ? { scope } : {}),
    requestId,
  };
  if (address.bucket === undefined) return serviceOperation(call);
  const write = req.method !== 'GET' && req.method !== 'HEAD';
  await checkBucketAccess(call, address.bucket, write);
  const copySource = req.headers['x-amz-copy-source'];
  if (address.key !== undefined && req.method === 'PUT' && typeof copySource === 'string') {
    await checkBucketAccess(call, parseCopySource(copySource).bucket, false);
  }
  if (address.key === undefined) return bucketOperation({ ...call, bucket: address.bucket });
  return objectOperation({ ...call, bucket: address.bucket, key: address.key });
}

function serviceOperation(call: S3Call): Promise<RestXmlResponse> {
  if (call.req.method === 'GET') return listBuckets(call);
  throw s3Errors.methodNotAllowed();
}

function bucketOperation(call: BucketCall): Promise<RestXmlResponse> {
  const q = call.query;
  const unsupported = unsupportedBucketResources.find((r) => q.has(r));
  if (unsupported) throw s3Errors.notImplemented(`The bucket ${unsupported} sub-resource`);
  switch (call.req.method) {
    case 'PUT':
      if (q.has('cors')) return putBucketCors(call);
      if (q.has('notification')) return putBucketNotification(call);
      return createBucket(call);
    case 'HEAD':
      return headBucket(call);
    case 'DELETE':
      if (q.has('cors')) return deleteBucketCors(call);
      return deleteBucket(call);
    case 'POST':
      if (q.has('delete')) return deleteObjects(call);
      break;
    case 'GET':
      if (q.has('location')) return getBucketLocation(call);
      if (q.has('cors')) return getBucketCors(call);
      if (q.has('notification')) return getBucketNotification(call);
      if (q.has('uploads')) return listMultipartUploads(call);
      if (q.get('list-type') === '2') return listObjectsV2(call);
      return listObjectsV1(call);
  }
  throw s3Errors.methodNotAllowed();
}

function objectOperation(call: ObjectCall): Promise<RestXmlResponse> {
  const q = call.query;
  const unsupported = unsupportedObjectResources.find((r) => q.has(r));
  if (unsupported) throw s3Errors.notImplemented(`The object ${unsupported} sub-resource`);
  switch (call.req.method) {
    case 'PUT':
      if (q.has('tagging')) return putObjectTagging(call);
      if (q.has('uploadId')) {
        if (call.req.headers['x-amz-copy-source'] !== undefined) return uploadPartCopy(call);
        return uploadPart(call);
      }
      if (call.req.headers['x-amz-copy-source'] !== undefined) return copyObject(call);
      return putObject(call);
    case 'GET':
      if (q.has('tagging')) return getObjectTagging(call);
      if (q.has('uploadId')) return listParts(call);
      return getObject(call);
    case 'HEAD':
      return headObject(call);
    case 'DELETE':
      if (q.has('tagging')) return deleteObjectTagging(call);
      if (q.has('uploadId')) return abortMultipartUpload(call);
      return deleteObject(call);
    case 'POST':
      if (q.has('uploads')) return createMultipartUpload(call);
      if (q.has('uploadId')) return completeMultipartUpload(call);
      break;
  }
  throw s3Errors.methodNotAllowed();
}
