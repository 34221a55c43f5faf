import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { assertBlobKey } from './blob-key.js';
import { BlobHashMismatchError, BlobNotFoundError, type BlobStore } from './blob-store.js';

/**
 * Blobs as files under `<root>/sha256/<first 2 hex>/<hex>`. The two-character fan-out keeps any
 * one directory small. Files appear whole or not at all: written to a temp name beside the final
 * one, flushed, then renamed.
 */
export class FsBlobStore implements BlobStore {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.size(sha256)) !== undefined;
  }

  async size(sha256: string): Promise<number | undefined> {
    try {
      return (await stat(this.#path(sha256))).size;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async put(sha256: string, data: Buffer): Promise<void> {
    const path = this.#path(sha256);
    const actual = createHash('sha256').update(data).digest('hex');
    if (actual !== sha256) throw new BlobHashMismatchError(sha256, actual);
    // Same key, same bytes: an existing file is already this blob.
    if (await this.has(sha256)) return;

    await mkdir(dirname(path), { recursive: true });
    // A unique temp name per call, so concurrent puts of one blob never share a file; the last
    // rename wins and every candidate holds the same bytes.
    const temp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
    try {
      const file = await open(temp, 'wx', 0o644);
      try {
        await file.writeFile(data);
        // The umask may have narrowed the mode given to open().
        await file.chmod(0o644);
        // Flushed before the rename: after a crash the blob is absent (and re-uploaded) rather
        // than present with missing bytes under a hash that no longer matches.
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, path);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
  }

  async get(sha256: string): Promise<Buffer> {
    try {
      return await readFile(this.#path(sha256));
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(sha256);
      throw err;
    }
  }

  /** A bad key throws here; a missing blob surfaces as the stream's BlobNotFoundError. */
  stream(sha256: string): Readable {
    return Readable.from(readChunks(this.#path(sha256), sha256), { objectMode: false });
  }

  /** Deleting an absent blob is not an error: the outcome is the same. */
  async delete(sha256: string): Promise<void> {
    try {
      await unlink(this.#path(sha256));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  #path(sha256: string): string {
    assertBlobKey(sha256);
    return join(this.#root, 'sha256', sha256.slice(0, 2), sha256);
  }
}

async function* readChunks(path: string, sha256: string): AsyncGenerator<Buffer> {
  try {
    yield* createReadStream(path);
  } catch (err) {
    throw isNotFound(err) ? new BlobNotFoundError(sha256) : err;
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ENOENT';
}
