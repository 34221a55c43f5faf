import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { assertBlobKey } from './blob-key.js';
import { BlobHashMismatchError, type BlobStore } from './blob-store.js';

/**
 * A shared BlobStore (PostgreSQL, S3) with a local disk copy in front. Keys are content hashes,
 * so a cached blob can never be stale: the cache is filled on first read and never invalidated,
 * only emptied by delete. Writes go to the shared store first (what other nodes read), then to
 * the cache.
 */
export class CachedBlobStore implements BlobStore {
  readonly #shared: BlobStore;
  readonly #local: BlobStore;

  constructor(shared: BlobStore, local: BlobStore) {
    this.#shared = shared;
    this.#local = local;
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.#local.has(sha256)) || this.#shared.has(sha256);
  }

  async size(sha256: string): Promise<number | undefined> {
    return (await this.#local.size(sha256)) ?? this.#shared.size(sha256);
  }

  async put(sha256: string, data: Buffer): Promise<void> {
    await this.#shared.put(sha256, data);
    await this.#local.put(sha256, data);
  }

  async get(sha256: string): Promise<Buffer> {
    if (await this.#local.has(sha256)) return this.#local.get(sha256);
    const data = await this.#shared.get(sha256);
    // Checked again on the way in: a corrupted row must not be cached under a good name.
    const actual = createHash('sha256').update(data).digest('hex');
    if (actual !== sha256) throw new BlobHashMismatchError(sha256, actual);
    await this.#local.put(sha256, data);
    return data;
  }

  stream(sha256: string): Readable {
    assertBlobKey(sha256);
    return Readable.from(this.#streamChunks(sha256), { objectMode: false });
  }

  async delete(sha256: string): Promise<void> {
    await this.#shared.delete(sha256);
    await this.#local.delete(sha256);
  }

  async *#streamChunks(sha256: string): AsyncGenerator<Buffer> {
    // Filled whole before streaming from disk: a half-read stream must not leave a cache entry.
    if (!(await this.#local.has(sha256))) await this.get(sha256);
    yield* this.#local.stream(sha256);
  }
}
