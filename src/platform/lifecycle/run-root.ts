import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Part } from './lifecycle.js';

const prefix = 'nimbus-run-';
const ownerFile = 'owner.pid';

/**
 * The node's scratch directory for extracted code and instance temp dirs. It lives outside the
 * data dir, which functions must never reach, and is removed on stop so nothing is left behind.
 *
 * A platform killed with -9 (or a start that failed half way) cannot remove its own, so each
 * run root records its owner's pid and start time, and a starting platform removes the run roots
 * whose owner is no longer running: extracted code of every version it ran, hundreds of MB.
 */
export class RunRoot implements Part {
  #dir: string | undefined;
  readonly #parent: string;

  constructor(opts: { parent?: string } = {}) {
    this.#parent = opts.parent ?? tmpdir();
  }

  /** The directory; only after start(). */
  get dir(): string {
    if (!this.#dir) throw new Error('RunRoot used before start()');
    return this.#dir;
  }

  async start(): Promise<void> {
    await removeLeftovers(this.#parent);
    const dir = await mkdtemp(join(this.#parent, prefix));
    // Traversable, not listable, by the unprivileged function user.
    await chmod(dir, 0o711);
    // Written aside and renamed in: a platform starting beside this one must never read a
    // half-written owner file, take it for a dead owner's and remove this run root.
    const staged = join(dir, `${ownerFile}.new`);
    await writeFile(staged, `${process.pid} ${processStartTime(process.pid)}\n`, { mode: 0o600 });
    await rename(staged, join(dir, ownerFile));
    await mkdir(join(dir, 'tmp'), { mode: 0o711 });
    this.#dir = dir;
  }

  async stop(): Promise<void> {
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
  }
}

/**
 * Removes the run roots in `parent` whose owner is gone: its pid runs no process, or another
 * process than the one that wrote it (start times differ: the pid was reused). Returns the dirs
 * removed.
 */
export async function removeLeftovers(parent: string): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const dir = join(parent, name);
    if (await ownerAlive(dir)) continue;
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    removed.push(dir);
  }
  return removed;
}

async function ownerAlive(dir: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(join(dir, ownerFile), 'utf8');
  } catch {
    // No owner file: a platform between mkdtemp and writing it, or not a run root of this
    // layout; either way not known to be dead, so left alone.
    return true;
  }
  const [pid, started] = text.trim().split(' ');
  if (!pid || !/^\d+$/.test(pid)) return false;
  const now = processStartTime(Number(pid));
  return now !== undefined && String(now) === started;
}

/** Field 22 of /proc/<pid>/stat (clock ticks since boot): tells a reused pid from its owner. */
function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}
