import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Part } from './lifecycle.js';

/**
 * The node's scratch directory for extracted code and instance temp dirs. It lives outside the
 * data dir, which functions must never reach, and is removed on stop so nothing is left behind.
 */
export class RunRoot implements Part {
  #dir: string | undefined;

  /** The directory; only after start(). */
  get dir(): string {
    if (!this.#dir) throw new Error('RunRoot used before start()');
    return this.#dir;
  }

  async start(): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'nimbus-run-'));
    // Traversable, not listable, by the unprivileged function user.
    await chmod(dir, 0o711);
    await mkdir(join(dir, 'tmp'), { mode: 0o711 });
    this.#dir = dir;
  }

  async stop(): Promise<void> {
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
  }
}
