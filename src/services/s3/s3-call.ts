/** What every S3 operation gets: its dependencies and the verified request. */
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../model/clock.js';
import {
  type AccessKeyScope,
  isRestricted,
  scopeAllowsResource,
} from '../../platform/auth/access-key-store.js';
import type { CallerScopes } from '../../platform/auth/caller-scopes.js';
import type { OwnerLookup } from '../../platform/auth/resource-access.js';
import type { SignatureChain } from '../../platform/auth/sigv4.js';
import { parseXml, type XmlElement, XmlSyntaxError } from '../../platform/aws/protocols/xml.js';
import { verifiedPayload } from '../../platform/aws/sigv4/verified-payload.js';
import type { ObjectChange } from '../../platform/triggers/s3/s3-notifications.js';
import type { DestinationKind } from './notification-config.js';
import type { ObjectStorage } from './object-files.js';
import { s3Errors } from './s3-errors.js';
import type { BucketRow, S3Metadata } from './s3-metadata.js';

export interface S3Deps {
  meta: S3Metadata;
  files: ObjectStorage;
  clock: Clock;
  /** The region of buckets created without a LocationConstraint. */
  region: string;
  /** The largest single PUT (object or part): 5 GiB, as on S3. */
  maxObjectBytes: number;
  /**
   * Told of every object created or removed, after it committed (S3 event notifications,
   * src/platform/triggers/s3/). Awaited, so an answered write's events are already durable;
   * it never throws.
   */
  onChange?: (change: ObjectChange) => Promise<void>;
  /**
   * The scope of the key that signed (session credentials: their service stage); without it
   * every verified caller reaches every bucket.
   */
  scopeOf?: CallerScopes;
  /** Who owns queues, topics and functions: what a restricted caller may send its bucket's events to. */
  owners?: OwnerLookup;
  /** The queues, topics and functions a notification configuration names (server.ts). */
  destinations?: NotificationDestinations;
}

/** Where bucket notifications go: the platform's queues, topics and functions. */
export interface NotificationDestinations {
  exists(kind: DestinationKind, arn: string): Promise<boolean>;
  /** Sends a message to a queue or topic (a function gets an asynchronous invocation). */
  send(kind: DestinationKind, arn: string, body: string): Promise<void>;
}

export interface S3Call {
  deps: S3Deps;
  req: IncomingMessage;
  query: URLSearchParams;
  chain: SignatureChain;
  /** The access key id that signed the request. */
  principal: string;
  /** The signer's scope, when it is restricted (session credentials, scoped keys). */
  scope?: AccessKeyScope;
  requestId: string;
}

export interface BucketCall extends S3Call {
  bucket: string;
}

export interface ObjectCall extends BucketCall {
  key: string;
}

/** S3's limit on key length, in UTF-8 bytes. */
export const maxKeyBytes = 1024;
/** Request documents (DeleteObjects with 1,000 keys, CompleteMultipartUpload) stay small. */
const maxXmlBodyBytes = 2 * 1024 * 1024;

export function checkKey(key: string): void {
  if (Buffer.byteLength(key, 'utf8') > maxKeyBytes) throw s3Errors.keyTooLong();
}

export async function requireBucket(call: BucketCall): Promise<BucketRow> {
  const bucket = await call.deps.meta.findBucket(call.bucket);
  if (!bucket) throw s3Errors.noSuchBucket(call.bucket);
  return bucket;
}

/**
 * Refuses (AccessDenied) a restricted caller a bucket of another service stage (docs/s3.md). A
 * missing bucket passes: the operation answers NoSuchBucket, or creates it.
 */
export async function checkBucketAccess(
  call: Pick<S3Call, 'deps' | 'scope'>,
  bucket: string,
  write: boolean,
): Promise<void> {
  if (!isRestricted(call.scope)) return;
  if (call.scope.readOnly && write) throw s3Errors.accessDenied();
  const row = await call.deps.meta.findBucket(bucket);
  if (row && !scopeAllowsResource(call.scope, row.owner, write)) throw s3Errors.accessDenied();
}

/** The body, checked against its signature and checksums, for operations whose body is small. */
export async function readSmallBody(call: S3Call): Promise<Buffer> {
  const payload = verifiedPayload(call.req, call.req.headers, call.chain);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const piece of payload.stream) {
    total += piece.length;
    if (total > maxXmlBodyBytes) throw s3Errors.malformedXml();
    chunks.push(piece);
  }
  return Buffer.concat(chunks, total);
}

export async function readXmlBody(call: S3Call): Promise<XmlElement | undefined> {
  const body = await readSmallBody(call);
  if (body.length === 0) return undefined;
  try {
    return parseXml(body.toString('utf8'));
  } catch (error) {
    if (error instanceof XmlSyntaxError) throw s3Errors.malformedXml();
    throw error;
  }
}

/** Bodies the operation does not read are still drained, so the connection can be reused. */
export function drain(req: IncomingMessage): void {
  if (!req.readableEnded) req.resume();
}

/** The declared size of the body before aws-chunked framing, when the client said. */
export function declaredSize(req: IncomingMessage): number | undefined {
  const decoded = req.headers['x-amz-decoded-content-length'];
  const raw = typeof decoded === 'string' ? decoded : req.headers['content-length'];
  const size = raw === undefined ? Number.NaN : Number(raw);
  return Number.isFinite(size) ? size : undefined;
}

export const s3Namespace = 'http://s3.amazonaws.com/doc/2006-03-01/';
export const owner = { id: 'nimbus', displayName: 'nimbus' };

/** Reports a committed change to whoever listens for object events. */
export async function objectChanged(
  call: Pick<S3Call, 'deps' | 'req' | 'principal' | 'requestId'>,
  change: Pick<ObjectChange, 'bucket' | 'key' | 'eventName' | 'size' | 'etag' | 'at'>,
): Promise<void> {
  await call.deps.onChange?.({
    ...change,
    principal: call.principal,
    sourceIp: call.req.socket.remoteAddress ?? '127.0.0.1',
    requestId: call.requestId,
  });
}
