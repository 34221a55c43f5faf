/**
 * Object bytes as files under `<root>/objects/<2 hex>/<blob id>`, where a blob id is a generated
 * 32-hex-digit name: object keys never reach the file system, so `..`, absolute paths or NUL in
 * a key name nothing on disk. A write goes to `<root>/tmp` first and is renamed into place only
 * once every byte is flushed and the body checked out, so a failed or crashed upload leaves no
 * object; start() sweeps the temp files such a crash left behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NimbusError } from '../../errors/nimbus-error.js';

export interface WrittenBlob {
  blobId: string;
  size: number;
  md5Hex: string;
}

/** The S3 operation answers it as EntityTooLarge. */
export class BlobTooLargeError extends NimbusError {
  constructor(readonly limit: number) {
    super('NIMBUS_S3_TOO_LARGE', `body exceeds ${limit} bytes`);
  }
}

export const blobIdPattern = /^[0-9a-f]{32}$/;
const readChunkBytes = 1024 * 1024;

/**
 * Where object bytes live, by blob id: this node's disk (ObjectFiles, the default), or where
 * every node of a cluster reads them: chunked rows of the store (PgObjectFiles, with `--blobs
 * postgres`) or a bucket (S3ObjectFiles, with `--blobs s3://...`).
 */
export interface ObjectStorage {
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Streams `source` into a new blob; throws (leaving nothing) when the source throws or passes
   * maxBytes.
   */
  write(source: AsyncIterable<Buffer>, maxBytes: number): Promise<WrittenBlob>;
  /** A new blob with the bytes of `blobId` (CopyObject). */
  copy(blobId: string): Promise<string>;
  /** `start`/`end` inclusive, as in a Range header. */
  read(blobId: string, range?: { start: number; end: number }): Readable;
  /** Removing an absent blob is not an error. */
  remove(blobId: string): Promise<void>;
}

export class ObjectFiles implements ObjectStorage {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  async start(): Promise<void> {
    await rm(join(this.#root, 'tmp'), { recursive: true, force: true });
    await mkdir(join(this.#root, 'tmp'), { recursive: true });
    await mkdir(join(this.#root, 'objects'), { recursive: true });
  }

  async stop(): Promise<void> {}

  /**
   * Streams `source` into a new blob; throws (leaving nothing) when the source throws or passes
   * maxBytes.
   */
  async write(source: AsyncIterable<Buffer>, maxBytes: number): Promise<WrittenBlob> {
    const blobId = newBlobId();
    const temp = join(this.#root, 'tmp', `${blobId}.tmp`);
    const md5 = createHash('md5');
    let size = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const piece of source) {
        size += piece.length;
        if (size > maxBytes) throw new BlobTooLargeError(maxBytes);
        md5.update(piece);
        yield piece;
      }
    }
    try {
      await pipeline(counted(), createWriteStream(temp, { flags: 'wx', mode: 0o600 }));
      await this.#commit(temp, blobId);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
    return { blobId, size, md5Hex: md5.digest('hex') };
  }

  /** A new blob with the bytes of `blobId` (CopyObject). */
  async copy(blobId: string): Promise<string> {
    const copyId = newBlobId();
    const temp = join(this.#root, 'tmp', `${copyId}.tmp`);
    try {
      await copyFile(this.#path(blobId), temp);
      await this.#commit(temp, copyId);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
    return copyId;
  }

  /** `start`/`end` inclusive, as in a Range header. */
  read(blobId: string, range?: { start: number; end: number }): Readable {
    // 1 MiB reads (not the default 64 KiB): a sixteenth of the reads and socket writes.
    return createReadStream(this.#path(blobId), { ...range, highWaterMark: readChunkBytes });
  }

  /** Removing an absent blob is not an error. */
  async remove(blobId: string): Promise<void> {
    await unlink(this.#path(blobId)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  async #commit(temp: string, blobId: string): Promise<void> {
    // Flushed before the rename: after a crash an object is whole or absent.
    const file = await open(temp, 'r+');
    try {
      await file.sync();
    } finally {
      await file.close();
    }
    const final = this.#path(blobId);
    await mkdir(join(final, '..'), { recursive: true });
    await rename(temp, final);
  }

  #path(blobId: string): string {
    if (!blobIdPattern.test(blobId)) throw new Error(`invalid blob id ${JSON.stringify(blobId)}`);
    return join(this.#root, 'objects', blobId.slice(0, 2), blobId);
  }
}

export function newBlobId(): string {
  return randomBytes(16).toString('hex');
}
