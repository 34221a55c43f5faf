/**
 * WAL checkpoints off the event loop. SQLite checkpoints on the connection whose commit took the
 * WAL past `wal_autocheckpoint` pages (1,000 by default): the platform's one connection, on the
 * event loop, copying the WAL into the database and fsyncing both, synchronous=NORMAL or not.
 * Under a warm HTTP load the log lines alone filled 1,000 pages about every second, and each
 * checkpoint stalled every request in flight for its length (measured in docs/performance.md).
 *
 * A worker thread with its own connection to the same file runs PASSIVE checkpoints instead
 * (they never block the platform's readers or writer); the platform's connection keeps a much
 * higher `wal_autocheckpoint` only as a bound on the WAL should the worker fall behind or die.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the worker checkpoints; a checkpoint with nothing to copy costs a header read. */
export const checkpointEveryMs = 250;

/** The platform connection's own bound, in pages (4 KiB each): 64 MiB of WAL. */
export const fallbackAutocheckpointPages = 16_384;

/**
 * Plain CommonJS, run with `eval`: the CLI is bundled (dist/cli), where a worker file would not
 * be found beside it. better-sqlite3 is passed by its resolved path (it is never bundled).
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = ' + workerData.synchronous);
let failed = false;
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    if (!failed) parentPort.postMessage({ error: String(err && err.message || err) });
    failed = true;
  }
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Stops the worker; resolves once its connection is closed. */
  close(): Promise<void>;
}

/**
 * Starts the checkpoint worker for `file` (already in WAL mode). `synchronous` is the
 * platform's own level: a checkpoint fsyncs under FULL and NORMAL alike. `onError` hears of the
 * first failure (the fallback bound still applies).
 */
export function startCheckpointer(
  file: string,
  synchronous: 'FULL' | 'NORMAL',
  onError: (message: string) => void = () => {},
): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(workerSource, {
    eval: true,
    workerData: { file, synchronous, driver, everyMs: checkpointEveryMs },
  });
  worker.on('message', (m: { error?: string }) => {
    if (m.error) onError(m.error);
  });
  worker.on('error', (err) => onError(err.message));
  // Never what keeps the platform (or a test) alive; after the listeners, which ref it again.
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    close: async () => {
      // Held by the loop while it leaves, or a process with nothing else to do would end with
      // the close still pending.
      worker.ref();
      worker.postMessage('close');
      // A worker that does not leave in time (stuck in a checkpoint) is stopped: closing the
      // store must end, and SQLite recovers whatever a stopped checkpoint left.
      const stop = setTimeout(() => void worker.terminate(), 2000);
      stop.unref();
      await exited;
      clearTimeout(stop);
    },
  };
}
