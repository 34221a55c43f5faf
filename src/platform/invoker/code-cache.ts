import { createHash, randomBytes } from 'node:crypto';
import {
  chmod,
  chown,
  copyFile,
  link,
  lstat,
  mkdir,
  readdir,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  unlink,
} from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from '../../blob/blob-store.js';
import { makeTreeReadable } from '../../packaging/readable-tree.js';
import { extractZip, type ZipLimits, ZipRejectedError } from '../../packaging/zip-safety.js';
import type { RunAs } from '../pool/runtime-interpreters.js';

/**
 * Extracted code per artifact sha256, shared read-only by every instance that runs it, so a cold
 * start never unzips. A directory appears under its final name only when complete (extract to a
 * temp name, then rename), so a crash never leaves a half-extracted tree that looks valid.
 *
 * The root sits outside the data dir: functions run as an unprivileged user that must be able to
 * read their code but never the data dir (store, tokens, keys).
 *
 * With a uid per service stage (docs/security.md) each stage gets its own copy, owned by root
 * and readable by the stage's group alone: another stage's functions cannot read it, and its own
 * cannot change it (Lambda's /var/task is read-only too).
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

  /**
   * The directory holding the artifact's files, extracting it on first use; with `owner`, the
   * copy only that user's group can read.
   */
  dir(sha256: string, owner?: RunAs): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(sha256))
      return Promise.reject(new Error(`bad artifact id ${sha256}`));
    const name = owner ? `${sha256}-g${owner.gid}` : sha256;
    let pending = this.#pending.get(name);
    if (!pending) {
      pending = this.#ensure(sha256, name, owner);
      this.#pending.set(name, pending);
      // A zip that cannot be extracted stays refused (it will not change); an I/O failure is
      // tried again by the next request.
      pending.catch((error: unknown) => {
        if (!(error instanceof ZipRejectedError)) this.#pending.delete(name);
      });
    }
    return pending;
  }

  /**
   * Lambda's /opt for a function's layers (docs/layers.md): each layer is extracted once per
   * version (as code is, `dir`), and a list of several is merged into one tree in order, later
   * layers' files replacing earlier ones'. The merged tree is hard links to the extracted files
   * (a copy where linking is refused), built once per list and as read-only as code.
   */
  layersDir(shas: readonly string[], owner?: RunAs): Promise<string> {
    if (shas.length === 1) return this.dir(shas[0]!, owner);
    const id = createHash('sha256').update(shas.join(',')).digest('hex');
    const name = owner ? `layers-${id}-g${owner.gid}` : `layers-${id}`;
    let pending = this.#pending.get(name);
    if (!pending) {
      pending = this.#merge(shas, name, owner);
      this.#pending.set(name, pending);
      pending.catch(() => this.#pending.delete(name));
    }
    return pending;
  }

  async #merge(shas: readonly string[], name: string, owner: RunAs | undefined): Promise<string> {
    const final = join(this.#root, name);
    if (await isDir(final)) return final;
    const sources: string[] = [];
    for (const sha of shas) sources.push(await this.dir(sha, owner));
    const temp = join(this.#root, `.tmp-${name.slice(7, 15)}-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(temp, { recursive: true });
      for (const source of sources) await overlay(source, temp);
      if (owner) await makeGroupReadable(temp, owner.gid);
      else await makeTreeReadable(temp);
      await rename(temp, final).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
        await rm(temp, { recursive: true, force: true });
      });
      return final;
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      throw error;
    }
  }

  async #ensure(sha256: string, name: string, owner: RunAs | undefined): Promise<string> {
    const final = join(this.#root, name);
    if (await isDir(final)) return final;
    // 0711: the unprivileged function user may pass through to a directory it is told about,
    // but cannot list which artifacts exist.
    await mkdir(this.#root, { recursive: true, mode: 0o711 });
    await chmod(this.#root, 0o711);
    const temp = join(this.#root, `.tmp-${sha256.slice(0, 8)}-${randomBytes(6).toString('hex')}`);
    try {
      await extractZip(await this.#blobs.get(sha256), temp, this.#limits);
      if (owner) await makeGroupReadable(temp, owner.gid);
      else await makeTreeReadable(temp);
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

/**
 * Lays `source`'s tree over `dest`: a file replaces what was there (a directory of that name
 * included: Lambda's extraction order makes the later layer's entry win), directories merge.
 */
async function overlay(source: string, dest: string): Promise<void> {
  for (const name of await readdir(source)) {
    const from = join(source, name);
    const to = join(dest, name);
    const info = await lstat(from);
    const there = await lstat(to).catch(() => undefined);
    if (info.isDirectory()) {
      if (there && !there.isDirectory()) await unlink(to);
      if (!there?.isDirectory()) await mkdir(to);
      await overlay(from, to);
      continue;
    }
    if (there) await rm(to, { recursive: true, force: true });
    if (info.isSymbolicLink()) await symlink(await readlink(from), to);
    else await link(from, to).catch(() => copyFile(from, to));
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** root:gid, readable (and for executables runnable) by that group, nothing for others. */
async function makeGroupReadable(dir: string, gid: number): Promise<void> {
  await chown(dir, 0, gid);
  await chmod(dir, 0o750);
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await lstat(path);
    if (info.isSymbolicLink()) continue;
    if (info.isDirectory()) await makeGroupReadable(path, gid);
    else {
      await chown(path, 0, gid);
      await chmod(path, info.mode & 0o100 ? 0o750 : 0o640);
    }
  }
}
