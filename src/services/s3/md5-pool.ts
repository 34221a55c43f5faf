/**
 * Several MD5 worker threads (Md5Thread each), so that concurrent uploads (the parts of a
 * multipart upload, above all: `aws s3 cp` sends up to 10 at once) hash on as many cores: one MD5
 * runs at about 700 MiB/s on one core, under what a disk writes. A session stays on the worker it
 * started on (its hash lives there); a new one goes to the worker with the fewest open sessions.
 * Each worker starts on its first session and restarts after a crash as Md5Thread does.
 */
import { availableParallelism } from 'node:os';
import type { ChecksumName } from '../../platform/aws/sigv4/checksum.js';
import { type Md5Session, Md5Thread } from './md5-thread.js';

/** More than this many hashing threads would only take cores from the requests feeding them. */
const maxThreads = 4;

export class Md5Pool {
  readonly #threads: Md5Thread[];

  constructor(size = defaultPoolSize()) {
    this.#threads = Array.from({ length: Math.max(1, size) }, () => new Md5Thread());
  }

  get size(): number {
    return this.#threads.length;
  }

  session(checksum?: ChecksumName): Md5Session {
    let least = this.#threads[0]!;
    for (const thread of this.#threads) {
      if (thread.openSessions < least.openSessions) least = thread;
    }
    return least.session(checksum);
  }

  async stop(): Promise<void> {
    await Promise.all(this.#threads.map((thread) => thread.stop()));
  }
}

export function defaultPoolSize(): number {
  return Math.min(maxThreads, Math.max(1, availableParallelism()));
}
