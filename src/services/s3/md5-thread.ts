/**
 * MD5 of large upload bodies on a worker thread (md5-worker.ts), so that an upload's ETag costs
 * its request no CPU: the uploading thread copies the body into 1 MiB slabs of shared memory,
 * writes each slab to disk and hands the same slab to the worker, both at once. One worker serves
 * the uploads Md5Pool gives it (one hash per session); it starts on the first large upload, holds
 * the process open only while a session is open, and is started again after a crash (the sessions
 * it held fail, so their uploads fail and leave nothing).
 */
import { Worker } from 'node:worker_threads';
import type { ChecksumName } from '../../platform/aws/sigv4/checksum.js';

export type Md5Request =
  | {
      op: 'update';
      id: number;
      slab: SharedArrayBuffer;
      length: number;
      checksum: ChecksumName | undefined;
    }
  | { op: 'digest'; id: number }
  | { op: 'forget'; id: number };

export type Md5Reply =
  | { id: number; op: 'updated' }
  | { id: number; op: 'digest'; md5Hex: string; checksum?: string }
  | { id: number; op: 'failed'; message: string };

export interface Md5Session {
  /** Settles once the worker has hashed the slab's first `length` bytes: the slab is free again. */
  update(slab: SharedArrayBuffer, length: number): Promise<void>;
  /** The MD5 of everything updated, in hex, and the session's checksum (base64); ends it. */
  digest(): Promise<BodyDigests>;
  /** Ends a session whose upload failed. */
  forget(): void;
}

/** An upload body's MD5 (the ETag) and, when asked for, its x-amz-checksum-* value. */
export interface BodyDigests {
  md5Hex: string;
  checksum?: string;
}

interface Waiter {
  resolve(reply: Md5Reply): void;
  reject(error: Error): void;
}

export class Md5Thread {
  #worker: Worker | undefined;
  #nextId = 1;
  /** Per session, the replies still owed, in order: the worker answers each session in order. */
  readonly #waiting = new Map<number, Waiter[]>();
  /** Sessions neither digested nor forgotten: the worker holds the process open while any is. */
  readonly #open = new Set<number>();

  /** Sessions neither digested nor forgotten (how busy the worker is, for Md5Pool). */
  get openSessions(): number {
    return this.#open.size;
  }

  /**
   * `checksum`: also computed over the same slabs, on the same thread (one pass over bytes the
   * worker has in cache), instead of on the request's thread.
   */
  session(checksum?: ChecksumName): Md5Session {
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    this.#waiting.set(id, []);
    if (this.#open.size === 0) worker.ref();
    this.#open.add(id);
    const end = () => {
      if (this.#open.delete(id) && this.#open.size === 0) this.#worker?.unref();
    };
    const ask = (request: Md5Request): Promise<Md5Reply> =>
      new Promise((resolve, reject) => {
        const waiters = this.#waiting.get(id);
        if (!waiters || this.#worker !== worker) {
          reject(new Error('the MD5 worker thread stopped'));
          return;
        }
        waiters.push({ resolve, reject });
        worker.postMessage(request);
      });
    return {
      update: async (slab, length) => {
        const reply = await ask({ op: 'update', id, slab, length, checksum });
        if (reply.op === 'failed') throw new Error(`MD5 worker: ${reply.message}`);
      },
      digest: async () => {
        try {
          const reply = await ask({ op: 'digest', id });
          if (reply.op !== 'digest') throw new Error('MD5 worker: no digest');
          return reply.checksum === undefined
            ? { md5Hex: reply.md5Hex }
            : { md5Hex: reply.md5Hex, checksum: reply.checksum };
        } finally {
          this.#waiting.delete(id);
          end();
        }
      },
      forget: () => {
        if (!this.#open.has(id)) return;
        if (this.#worker === worker) worker.postMessage({ op: 'forget', id });
        // Replies still owed for it settle their waiters; its entry goes with the last of them.
        if (this.#waiting.get(id)?.length === 0) this.#waiting.delete(id);
        end();
      },
    };
  }

  async stop(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#failAll(new Error('the MD5 worker thread stopped'));
    await worker?.terminate();
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./md5-worker.js', import.meta.url));
    worker.unref();
    worker.on('message', (reply: Md5Reply) => {
      const waiters = this.#waiting.get(reply.id);
      waiters?.shift()?.resolve(reply);
      if (waiters?.length === 0 && !this.#open.has(reply.id)) this.#waiting.delete(reply.id);
    });
    const lost = (error: Error) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#failAll(error);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the MD5 worker thread exited (${code})`)));
    this.#worker = worker;
    return worker;
  }

  #failAll(error: Error): void {
    for (const waiters of this.#waiting.values()) {
      for (const waiter of waiters.splice(0)) waiter.reject(error);
    }
    this.#waiting.clear();
    this.#open.clear();
  }
}
