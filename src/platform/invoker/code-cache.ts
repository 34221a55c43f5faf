import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from '../../blob/blob-store.js';
import { extractZip, type ZipLimits } from '../../packaging/zip-safety.js';

/**
 * Extracted code per artifact sha256, shared read-only by every instance that runs it, so a cold
 * start never unzips. A directory appears under its final name only when complete (extract to a
 * temp name, then rename), so a crash never leaves a half-extracted tree that looks valid.
 *
 * The root sits outside the data dir: functions run as an unprivileged user that must be able to
 * read their code but never the data dir (store, tokens, keys).
 */
export class CodeCache {
  readonly #root: string;
  readonly #blobs: BlobStore;
  readonly #limits: ZipLimits;
  readonly #pending = new Map<string, Promise<string>>();

  constructor(opts: { root: string; blobs: BlobStore; limits: ZipLimits }) {
    this.#root = opts.root;
    this.#blobs = opts.blobs;
    this.#limits = opts.limits;
  }

  /** The directory holding the artifact's files, extracting it on first use. */
  dir(sha256: string): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(sha256))
      return Promise.reject(new Error(`bad artifact id ${sha256}`));
    let pending = this.#pending.get(sha256);
    if (!pending) {
      pending = this.#ensure(sha256);
      this.#pending.set(sha256, pending);
      pending.catch(() => this.#pending.delete(sha256));
    }
    return pending;
  }

  async #ensure(sha256: string): Promise<string> {
    const final = join(this.#root, sha256);
    if (await isDir(final)) return final;
    // 0711: the unprivileged function user may pass through to a directory it is told about,
    // but cannot list which artifacts exist.
    await mkdir(this.#root, { recursive: true, mode: 0o711 });
    await chmod(this.#root, 0o711);
    const temp = join(this.#root, `.tmp-${sha256.slice(0, 8)}-${randomBytes(6).toString('hex')}`);
    try {
      await extractZip(await this.#blobs.get(sha256), temp, this.#limits);
      await makeReadable(temp);
      await rename(temp, final).catch(async (error: NodeJS.ErrnoException) => {
        // Another process finished the same artifact first: theirs is as good as ours.
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
        await rm(temp, { recursive: true, force: true });
      });
      return final;
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      throw error;
    }
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Readable (and traversable) by the function user whatever the platform's umask was. */
async function makeReadable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await lstat(path);
    if (info.isSymbolicLink()) continue;
    if (info.isDirectory()) await makeReadable(path);
    else await chmod(path, info.mode & 0o100 ? 0o755 : 0o644);
  }
}
