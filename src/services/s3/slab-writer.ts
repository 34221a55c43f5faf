/**
 * A large upload body on its way into a temp file: copied into 1 MiB slabs of shared memory, and
 * each full slab written to the file and MD5-summed on the worker thread at the same time, while
 * the next slab fills from the request. One copy per byte buys 1 MiB writes (a sixteenth of the
 * socket's 64 KiB pieces) and an ETag that costs the request's thread nothing; a few slabs per
 * upload keep memory flat however large the body is.
 */
import type { FileHandle } from 'node:fs/promises';
import type { BodyDigests, Md5Session } from './md5-thread.js';

export const slabBytes = 1024 * 1024;
/**
 * One filling, the others being written and hashed: enough to ride out a busy machine's delay in
 * waking the writer or the hashing thread, few enough that an upload holds 4 MiB however large.
 */
const slabsPerUpload = 4;

interface Slab {
  shared: SharedArrayBuffer;
  bytes: Buffer;
}

/**
 * Slabs of finished uploads, reused by the next: a multipart upload's parts would otherwise each
 * allocate their own (shared memory is external to the heap and freed only when a collection
 * gets to it), and a 100 MiB upload in 8 MiB parts held 50 MiB of dead slabs at its peak. As many
 * as the parts `aws s3 cp` sends at once (10) hold: with 16, a 256 MiB upload in 8 MiB parts, 10
 * in flight, cost the server 4.8 ms/MiB of CPU (main thread 1.78) instead of 3.8 (1.17), medians, the
 * difference page faults of fresh slabs. At most 40 MiB held.
 */
const idleSlabs: Slab[] = [];
const maxIdleSlabs = 40;

export class SlabWriter {
  readonly #file: FileHandle;
  readonly #md5: Md5Session;
  readonly #free: Slab[] = [];
  /** Slabs being written and hashed, oldest first; each settles with its slab once both are done. */
  readonly #inFlight: Promise<Slab>[] = [];
  /** Every slab this upload took, handed back to idleSlabs when it ends. */
  readonly #owned: Slab[] = [];
  #slab: Slab | undefined;
  #fill = 0;
  #position = 0;
  #lastWrite: Promise<void> = Promise.resolve();

  constructor(file: FileHandle, md5: Md5Session) {
    this.#file = file;
    this.#md5 = md5;
  }

  async add(piece: Buffer): Promise<void> {
    let at = 0;
    while (at < piece.length) {
      this.#slab ??= await this.#take();
      const n = Math.min(piece.length - at, slabBytes - this.#fill);
      copyInto(this.#slab.bytes, this.#fill, piece.subarray(at, at + n));
      at += n;
      this.#fill += n;
      if (this.#fill === slabBytes) this.#flush();
    }
  }

  /** Writes what is left and waits for every write and hash; then the body's digests. */
  async finish(): Promise<BodyDigests> {
    if (this.#fill > 0) this.#flush();
    try {
      while (this.#inFlight.length > 0) await this.#inFlight.shift();
      return await this.#md5.digest();
    } finally {
      this.#release();
    }
  }

  /**
   * After a failure: waits for the writes still running (the file must not be closed under them)
   * and ends the hash.
   */
  async abandon(): Promise<void> {
    await Promise.allSettled(this.#inFlight.splice(0));
    this.#md5.forget();
    this.#release();
  }

  /** Only once no write or hash of this upload can still touch its slabs. */
  #release(): void {
    if (this.#inFlight.length > 0) return;
    for (const slab of this.#owned.splice(0)) {
      if (idleSlabs.length < maxIdleSlabs) idleSlabs.push(slab);
    }
    this.#free.length = 0;
    this.#slab = undefined;
  }

  #flush(): void {
    const slab = this.#slab as Slab;
    const length = this.#fill;
    const position = this.#position;
    this.#slab = undefined;
    this.#fill = 0;
    this.#position += length;
    // Writes go one at a time, in order: concurrent writes to one file only contend for its lock.
    const written = this.#lastWrite.then(() => writeAll(this.#file, slab.bytes, length, position));
    this.#lastWrite = written.catch(() => {});
    const done = Promise.all([written, this.#md5.update(slab.shared, length)]).then(() => slab);
    // Awaited in order by #take, finish or abandon; this only keeps a failure that arrives before
    // then from counting as unhandled.
    done.catch(() => {});
    this.#inFlight.push(done);
  }

  async #take(): Promise<Slab> {
    const free = this.#free.pop();
    if (free) return free;
    if (this.#owned.length < slabsPerUpload) {
      let slab = idleSlabs.pop();
      if (slab === undefined) {
        const shared = new SharedArrayBuffer(slabBytes);
        slab = { shared, bytes: Buffer.from(shared) };
      }
      this.#owned.push(slab);
      return slab;
    }
    // Every slab is busy: the oldest is the first to come back (and throws if it failed).
    return this.#inFlight.shift() as Promise<Slab>;
  }
}

/**
 * `source` into `slab` at `offset`, with one plain memcpy. Not `source.copy(slab)`: that is
 * TypedArray#set, which V8 performs on shared memory with relaxed atomics, byte by byte when the
 * two addresses are not equally aligned (as request pieces past an aws-chunked header are): 0.5
 * ms/MiB of the request's thread against 0.04. `fill` with a Buffer exactly as long as the range
 * is the same copy, done in C++ without regard to the memory being shared (the worker reads a
 * slab only after it is handed over, so nothing races).
 */
function copyInto(slab: Buffer, offset: number, source: Buffer): void {
  slab.fill(source, offset, offset + source.length);
}

async function writeAll(
  file: FileHandle,
  bytes: Buffer,
  length: number,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await file.write(bytes, done, length - done, position + done);
    if (bytesWritten === 0) throw new Error('the object file took no bytes');
    done += bytesWritten;
  }
}
