import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { NimbusError } from '../errors/nimbus-error.js';
import { assertBlobKey } from './blob-key.js';
import { BlobHashMismatchError, BlobNotFoundError, type BlobStore } from './blob-store.js';

/**
 * Where blobs go with `--blobs s3://bucket[/prefix]`: any S3-compatible endpoint (AWS S3, MinIO,
 * another Nimbus). Keys never reach a log line; `describe` names only bucket, prefix and endpoint.
 */
export interface S3BlobsOptions {
  kind: 's3';
  bucket: string;
  /** Prepended to every object key: '' or ending in '/'. */
  prefix: string;
  /** `http(s)://host:port`; none: AWS S3 of `region`. */
  endpoint?: string;
  region: string;
  /** `bucket` in the path rather than the host name (what most S3-compatible servers want). */
  forcePathStyle: boolean;
  /** None: the AWS SDK's default chain (AWS_ACCESS_KEY_ID..., profiles, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export class BlobsUnavailableError extends NimbusError {
  constructor(message: string, cause?: unknown) {
    super('NIMBUS_BLOBS_UNAVAILABLE', message, { cause });
  }
}

/** `s3://bucket` or `s3://bucket/some/prefix`: the bucket and a prefix ending in '/' (or ''). */
export function parseS3BlobsUrl(url: string): { bucket: string; prefix: string } | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) return undefined;
  const rest = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (rest.split('/').some((p) => p === '..' || p === '.')) return undefined;
  return { bucket: m[1]!, prefix: rest === '' ? '' : `${rest}/` };
}

export function describeS3Blobs(o: S3BlobsOptions): string {
  const where = o.endpoint ? ` at ${redactEndpoint(o.endpoint)}` : ` (AWS S3, ${o.region})`;
  return `S3 s3://${o.bucket}/${o.prefix}${where}`;
}

/** One client for the node's artifacts and S3 objects, with the compatibility settings below. */
export function openS3BlobsClient(o: S3BlobsOptions): S3Client {
  return new S3Client({
    region: o.region,
    forcePathStyle: o.forcePathStyle,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    // Checksums only where S3 demands them: the newer default (CRC32 trailers in aws-chunked
    // bodies) is refused by many S3-compatible servers. Integrity is checked by content hash.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Fails the start early, and clearly, when the bucket cannot be reached or does not exist. */
export async function checkS3Bucket(client: S3Client, o: S3BlobsOptions): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: o.bucket }));
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const why =
      status === 404
        ? 'the bucket does not exist'
        : status === 403 || status === 401
          ? 'access denied (check NIMBUS_BLOBS_ACCESS_KEY_ID / NIMBUS_BLOBS_SECRET_ACCESS_KEY)'
          : `${(error as Error).name}: ${(error as Error).message}`;
    throw new BlobsUnavailableError(`blob storage ${describeS3Blobs(o)}: ${why}`, error);
  }
}

/**
 * Blobs as objects `<prefix>sha256/<hex>` in a bucket of any S3-compatible endpoint, shared by
 * every node. Reads stream the response body as it arrives. Wrap it in a CachedBlobStore: each
 * node then fetches a blob once and serves it from its disk afterwards.
 */
export class S3BlobStore implements BlobStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(client: S3Client, opts: { bucket: string; prefix: string }) {
    this.#client = client;
    this.#bucket = opts.bucket;
    this.#prefix = opts.prefix;
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.size(sha256)) !== undefined;
  }

  async size(sha256: string): Promise<number | undefined> {
    const Key = this.#key(sha256);
    try {
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async put(sha256: string, data: Buffer): Promise<void> {
    const Key = this.#key(sha256);
    const actual = createHash('sha256').update(data).digest('hex');
    if (actual !== sha256) throw new BlobHashMismatchError(sha256, actual);
    if (await this.has(sha256)) return;
    // One PUT: S3 replaces objects whole, so a blob is whole or absent; a racing put of the same
    // key writes the same bytes.
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key,
        Body: data,
        ContentLength: data.length,
        ContentType: 'application/octet-stream',
        ContentMD5: createHash('md5').update(data).digest('base64'),
      }),
    );
  }

  async get(sha256: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.#body(sha256)) parts.push(chunk);
    return Buffer.concat(parts);
  }

  /** A bad key throws here; a missing blob surfaces as the stream's BlobNotFoundError. */
  stream(sha256: string): Readable {
    assertBlobKey(sha256);
    return Readable.from(this.#body(sha256), { objectMode: false });
  }

  /** Deleting an absent blob is not an error (S3 answers 204 either way). */
  async delete(sha256: string): Promise<void> {
    const Key = this.#key(sha256);
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key }));
  }

  async *#body(sha256: string): AsyncGenerator<Buffer> {
    const Key = this.#key(sha256);
    let body: AsyncIterable<Uint8Array>;
    try {
      const res = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key }));
      body = res.Body as AsyncIterable<Uint8Array>;
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(sha256);
      throw error;
    }
    for await (const chunk of body) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
  }

  #key(sha256: string): string {
    assertBlobKey(sha256);
    return `${this.#prefix}sha256/${sha256}`;
  }
}

export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** The endpoint without any user:password in it. */
function redactEndpoint(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid endpoint)';
  }
}
