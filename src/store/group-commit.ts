import { CompiledQuery, type Kysely } from 'kysely';
import { StoreSyncError } from './errors.js';
import type { Database } from './schema.js';
import { forgoSync } from './sqlite.js';

/** A transaction on the store's handle: every repository that takes one writes through it. */
export type StoreTx = Kysely<Database>;

/** Work that may share its transaction with others: it must write only through `tx`. */
export type TxWork<T> = (tx: StoreTx) => Promise<T>;

interface Pending {
  work: TxWork<unknown>;
  /** Run inside a savepoint: its own failure is its caller's alone. */
  isolated: boolean;
  /** Answered only once the commit is on disk (false: once it is committed). */
  durable: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface GroupCommitOptions {
  /** Most units of work per transaction; a longer queue waits for the next one. */
  maxBatch?: number;
  /**
   * Batches committing at once. A PostgreSQL pool carries a few, since there a batch's time is
   * mostly round trips; on SQLite (one connection) their statements take turns, but with the
   * sync off the event loop (sqlite-durable-dialect.ts) one batch's statements run while the
   * batch before waits for the disk.
   */
  parallel?: number;
  /** Told the size of every batch that committed (tests, metrics). */
  onCommit?: (size: number) => void;
}

/** A unit's savepoint statements, compiled once: they run around every unit of a shared batch. */
const savepoint = CompiledQuery.raw('savepoint group_commit_unit');
const rollbackToSavepoint = CompiledQuery.raw('rollback to savepoint group_commit_unit');
const releaseSavepoint = CompiledQuery.raw('release savepoint group_commit_unit');

/**
 * Group commit: concurrent callers' small transactions are run back to back inside one database
 * transaction, so many of them share one commit (one fsync on SQLite with synchronous=FULL, one
 * WAL flush on PostgreSQL). Each caller is answered only after that commit, so "resolved" still
 * means "durable" (unless the caller said its unit need not be: `run`'s `durable: false`).
 *
 * While one batch commits, the next one collects; an idle committer starts a batch on the next
 * turn of the event loop, so callers arriving together (a burst of requests) land in one batch.
 *
 * If a batch fails, its units run again one transaction each, so one bad unit fails only its own
 * caller. Units therefore may run twice: they must not have effects outside `tx`, and must not
 * touch the database other than through `tx` (on SQLite that would wait for the transaction
 * forever).
 */
export class GroupCommitter {
  readonly #db: Kysely<Database>;
  readonly #maxBatch: number;
  readonly #onCommit: ((size: number) => void) | undefined;
  readonly #parallel: number;
  #pending: Pending[] = [];
  #draining = 0;
  /** Transactions committed, and units of work they carried (tests, metrics). */
  readonly stats = { commits: 0, units: 0 };

  constructor(db: Kysely<Database>, opts: GroupCommitOptions = {}) {
    this.#db = db;
    this.#maxBatch = opts.maxBatch ?? 256;
    this.#parallel = opts.parallel ?? 1;
    this.#onCommit = opts.onCommit;
  }

  /**
   * Runs `work` in the next batch. `isolated`: the unit runs inside a savepoint, so an error it
   * throws (a failed condition) rolls back only its own writes and rejects only its caller, and
   * the rest of the batch still commits together, without running again.
   *
   * `durable: false` (default true): the unit is answered as soon as its batch has committed,
   * before the commit's sync to disk (SQLite with the WAL sync of sqlite-durable-dialect.ts);
   * a batch of such units alone forgoes the sync. Its writes survive a crash or kill -9 of the
   * process (they are in the WAL), and become safe from a power loss with the next sync anyone
   * makes. Only for writes whose loss in a power cut is harmless (a lease that will be taken
   * again, a delete whose message would be delivered again: at-least-once).
   */
  run<T>(work: TxWork<T>, opts: { isolated?: boolean; durable?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({
        work,
        isolated: opts.isolated ?? false,
        durable: opts.durable ?? true,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      if (this.#draining < this.#parallel) {
        this.#draining += 1;
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#maxBatch);
      await this.#commit(batch);
    }
    this.#draining -= 1;
  }

  async #commit(batch: Pending[]): Promise<void> {
    let results: { ok: boolean; value: unknown }[];
    const answered = new Set<Pending>();
    try {
      // One use of the connection: on SQLite with the WAL sync its release waits for the disk,
      // and the units that need not wait are answered in between, right after the commit.
      results = await this.#db.connection().execute(async (connection) => {
        const out = await connection.transaction().execute((tx) => this.#runUnits(batch, tx));
        this.#answer(batch, out, (p) => !p.durable, answered);
        if (answered.size === batch.length) forgoSync(this.#db);
        return out;
      });
    } catch (error) {
      const unanswered = batch.filter((p) => !answered.has(p));
      // The batch committed but is not known durable: its units must not run a second time.
      if (batch.length === 1 || error instanceof StoreSyncError) {
        for (const p of unanswered) p.reject(error);
        return;
      }
      for (const p of unanswered) await this.#commit([p]);
      return;
    }
    this.stats.commits += 1;
    this.stats.units += batch.length;
    this.#onCommit?.(batch.length);
    this.#answer(batch, results, (p) => !answered.has(p), answered);
  }

  async #runUnits(batch: Pending[], tx: StoreTx): Promise<{ ok: boolean; value: unknown }[]> {
    const out: { ok: boolean; value: unknown }[] = [];
    for (const p of batch) {
      if (!p.isolated || batch.length === 1) {
        out.push({ ok: true, value: await p.work(tx) });
        continue;
      }
      await tx.executeQuery(savepoint);
      try {
        out.push({ ok: true, value: await p.work(tx) });
      } catch (error) {
        await tx.executeQuery(rollbackToSavepoint);
        out.push({ ok: false, value: error });
      }
      await tx.executeQuery(releaseSavepoint);
    }
    return out;
  }

  #answer(
    batch: Pending[],
    results: { ok: boolean; value: unknown }[],
    now: (p: Pending) => boolean,
    answered: Set<Pending>,
  ): void {
    for (const [i, p] of batch.entries()) {
      if (!now(p)) continue;
      answered.add(p);
      const r = results[i]!;
      if (r.ok) p.resolve(r.value);
      else p.reject(r.value);
    }
  }
}

const committers = new WeakMap<Kysely<Database>, GroupCommitter>();

/**
 * The one committer of a database handle: every repository on that handle shares it, so an
 * accept and a settle arriving together also commit together. The first caller's options hold.
 */
export function groupCommitter(
  db: Kysely<Database>,
  opts: GroupCommitOptions = {},
): GroupCommitter {
  let c = committers.get(db);
  if (c === undefined) {
    c = new GroupCommitter(db, opts);
    committers.set(db, c);
  }
  return c;
}
