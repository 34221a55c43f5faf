import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreSyncError } from './errors.js';

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * fdatasync of a SQLite database's write-ahead log, on libuv's thread pool instead of the event
 * loop, shared by every commit that asks while one is running.
 *
 * Why it is enough: in WAL mode a commit is the frames it appends to the -wal file; SQLite with
 * synchronous=FULL makes them durable by syncing that file inside the commit (5 ms on some
 * disks, with the event loop blocked). With synchronous=NORMAL it only writes them to the OS;
 * a sync of the same file (fsync is per file, not per descriptor) makes them exactly as durable,
 * and the caller is answered after it. Checkpoints still sync the log before copying it and the
 * database after (NORMAL does that itself).
 *
 * A sync that is running may have started before a caller's commit wrote its frames, so callers
 * arriving meanwhile wait for the next one, which then covers all of them.
 */
export class WalFlusher {
  readonly #walFile: string;
  #handle: FileHandle | undefined;
  #waiting: Waiter[] = [];
  #running = false;
  /** Syncs run, and the callers they answered (tests, metrics). */
  readonly stats = { syncs: 0, callers: 0 };

  constructor(databaseFile: string) {
    this.#walFile = `${databaseFile}-wal`;
  }

  /** Resolves once everything committed before this call is on disk. */
  flush(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async close(): Promise<void> {
    while (this.#running) await this.flush();
    await this.#handle?.close();
    this.#handle = undefined;
  }

  async #drain(): Promise<void> {
    this.#running = true;
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0);
      try {
        const handle = await this.#open();
        await handle.datasync();
        this.stats.syncs += 1;
        this.stats.callers += batch.length;
        for (const w of batch) w.resolve();
      } catch (error) {
        const failed = new StoreSyncError(this.#walFile, { cause: error });
        for (const w of batch) w.reject(failed);
      }
    }
    this.#running = false;
  }

  /**
   * The log exists once a commit was written in WAL mode, and stays (the same file, truncated or
   * rewritten) while the database is open. Its directory entry is synced once, so the log itself
   * survives a power loss, not only its contents.
   */
  async #open(): Promise<FileHandle> {
    if (this.#handle !== undefined) return this.#handle;
    const handle = await open(this.#walFile, 'r');
    const dir = await open(dirname(this.#walFile), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    this.#handle = handle;
    return handle;
  }
}
