/**
 * S3 objects' bytes in a bucket every node of a cluster shares (`--blobs s3://bucket/prefix`), as
 * `<prefix>objects/<blob id>`; the rows naming them are in the shared store. An upload is staged
 * on local disk first (streamed, counted and MD5-summed by ObjectFiles, so a body over its cap or
 * cut short never reaches the bucket), then sent in one PUT streamed from that file and the file
 * removed: no object is ever held in memory. Reads stream the bucket's answer (ranges included).
 * Blob ids are never reused, so no node can read a stale copy.
 */
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  blobIdPattern,
  newBlobId,
  ObjectFiles,
  type ObjectStorage,
  type WriteOptions,
  type WrittenBlob,
} from './object-files.js';

export class S3ObjectFiles implements ObjectStorage {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #staging: ObjectFiles;

  /** `stagingDir`: this node's own directory for uploads on their way to the bucket. */
  constructor(client: S3Client, opts: { bucket: string; prefix: string; stagingDir: string }) {
    this.#client = client;
    this.#bucket = opts.bucket;
    this.#prefix = opts.prefix;
    this.#staging = new ObjectFiles(opts.stagingDir);
  }

  async start(): Promise<void> {
    await this.#staging.start();
  }

  async stop(): Promise<void> {
    await this.#staging.stop();
  }

  async write(
    source: AsyncIterable<Buffer>,
    maxBytes: number,
    opts?: WriteOptions,
  ): Promise<WrittenBlob> {
    // Checked on the staged copy: a body that fails never reaches the bucket.
    const staged = await this.#staging.write(source, maxBytes, opts);
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key(staged.blobId),
          Body: staged.size === 0 ? Buffer.alloc(0) : this.#staging.read(staged.blobId),
          ContentLength: staged.size,
          ContentMD5: Buffer.from(staged.md5Hex, 'hex').toString('base64'),
          ContentType: 'application/octet-stream',
        }),
      );
    } finally {
      await this.#staging.remove(staged.blobId);
    }
    return staged;
  }

  async copy(blobId: string): Promise<string> {
    const copyId = newBlobId();
    await this.#client.send(
      new CopyObjectCommand({
        Bucket: this.#bucket,
        Key: this.#key(copyId),
        CopySource: `${this.#bucket}/${this.#key(blobId)}`,
      }),
    );
    return copyId;
  }

  read(blobId: string, range?: { start: number; end: number }): Readable {
    const Key = this.#key(blobId);
    const client = this.#client;
    const Bucket = this.#bucket;
    async function* body(): AsyncGenerator<Buffer> {
      const res = await client.send(
        new GetObjectCommand({
          Bucket,
          Key,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      for await (const chunk of res.Body as AsyncIterable<Uint8Array>) {
        yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
      }
    }
    return Readable.from(body(), { objectMode: false });
  }

  async remove(blobId: string): Promise<void> {
    await this.#client.send(
      new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key(blobId) }),
    );
  }

  #key(blobId: string): string {
    if (!blobIdPattern.test(blobId)) throw new Error(`invalid blob id ${JSON.stringify(blobId)}`);
    return `${this.#prefix}objects/${blobId}`;
  }
}
