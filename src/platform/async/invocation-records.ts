import type { Kysely } from 'kysely';
import { type PrecompiledQuery, precompile } from '../../store/precompiled-query.js';
import type { AsyncInvocationsTable, Database } from '../../store/schema.js';

export type InvocationStatus =
  | 'Enqueued'
  | 'Running'
  | 'Retrying'
  | 'Succeeded'
  | 'Failed'
  | 'Expired'
  | 'Stopped';

/** The task status of one asynchronous invocation (beyond Lambda; like Function Compute's). */
export interface InvocationRecord {
  id: string;
  functionName: string;
  version: string;
  status: InvocationStatus;
  jobId?: string;
  /** Deliveries to the function so far. */
  attempts: number;
  createdAt: number;
  updatedAt: number;
  lastError?: unknown;
  /** The function's result (JSON text, up to 1 MB). */
  result?: string;
  /** Where the final record went: `{ type: 'function'|'url'|'dead-letter', target?, status }`. */
  destination?: unknown;
}

export type RecordPatch = Partial<Omit<InvocationRecord, 'id' | 'functionName' | 'createdAt'>> & {
  updatedAt: number;
};

/** Statuses after which nothing runs again. */
export const finalStatuses: ReadonlySet<InvocationStatus> = new Set([
  'Succeeded',
  'Failed',
  'Expired',
  'Stopped',
]);

/**
 * Records on the store's database (SQLite or PostgreSQL); it borrows the handle. `within(tx)`
 * writes inside a caller's transaction, so a record commits with its queue job.
 */
export class InvocationRecords {
  readonly #db: Kysely<Database>;
  readonly #hot: RecordStatements;

  constructor(db: Kysely<Database>, hot?: RecordStatements) {
    this.#db = db;
    this.#hot = hot ?? new RecordStatements(db);
  }

  within(tx: Kysely<Database>): InvocationRecords {
    return new InvocationRecords(tx, this.#hot);
  }

  async create(record: InvocationRecord): Promise<void> {
    await this.#hot.create.run(this.#db, toRow(record) as RecordRow);
  }

  async update(id: string, patch: RecordPatch): Promise<void> {
    const row: Record<string, unknown> = { updated_at: patch.updatedAt };
    if (patch.status !== undefined) row.status = patch.status;
    if (patch.version !== undefined) row.version = patch.version;
    if (patch.jobId !== undefined) row.job_id = patch.jobId;
    if (patch.attempts !== undefined) row.attempts = patch.attempts;
    if (patch.lastError !== undefined) row.last_error = JSON.stringify(patch.lastError);
    if (patch.result !== undefined) row.result = patch.result;
    if (patch.destination !== undefined) row.destination = JSON.stringify(patch.destination);
    row.id = id;
    await this.#hot.update(Object.keys(row)).run(this.#db, row);
  }

  /**
   * Attempts start: each record becomes Running with its attempt count, unless it was stopped
   * meanwhile or is already final (its settle never reached the queue: see AsyncWorker). One
   * statement per distinct attempt count (usually one for a whole lease batch) and 64 ids.
   * Resolves to the ids that did not start (stopped, final, or no record).
   */
  async start(
    attempts: readonly { id: string; attempts: number }[],
    now: number,
  ): Promise<Set<string>> {
    const byCount = new Map<number, string[]>();
    for (const a of attempts) byCount.set(a.attempts, [...(byCount.get(a.attempts) ?? []), a.id]);
    const notStarted = new Set(attempts.map((a) => a.id));
    for (const [count, all] of byCount) {
      for (let from = 0; from < all.length; from += startChunk) {
        const ids = all.slice(from, from + startChunk);
        const args: Record<string, unknown> = { attempts: count, now };
        for (const [i, id] of ids.entries()) args[`id${i}`] = id;
        const { rows } = await this.#hot.start(ids.length).run(this.#db, args);
        for (const row of rows) notStarted.delete(row.id);
      }
    }
    return notStarted;
  }

  async get(id: string): Promise<InvocationRecord | undefined> {
    const row = await this.#db
      .selectFrom('async_invocations')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async findByJob(functionName: string, jobId: string): Promise<InvocationRecord | undefined> {
    const row = await this.#db
      .selectFrom('async_invocations')
      .selectAll()
      .where('function_name', '=', functionName)
      .where('job_id', '=', jobId)
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  /** Newest first. */
  async list(
    functionName: string,
    opts: { status?: InvocationStatus; limit: number },
  ): Promise<InvocationRecord[]> {
    let query = this.#db
      .selectFrom('async_invocations')
      .selectAll()
      .where('function_name', '=', functionName)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(opts.limit);
    if (opts.status) query = query.where('status', '=', opts.status);
    return (await query.execute()).map(fromRow);
  }

  /** Counts per status for one function (or all): for the crash test and the console. */
  async countByStatus(functionName?: string): Promise<Record<string, number>> {
    let query = this.#db
      .selectFrom('async_invocations')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status');
    if (functionName) query = query.where('function_name', '=', functionName);
    const out: Record<string, number> = {};
    for (const row of await query.execute()) out[row.status] = Number(row.n);
    return out;
  }
}

/** A record's row, as the insert binds it. */
type RecordRow = AsyncInvocationsTable & Record<string, unknown>;

/** Columns an update may set; the id is the update's key. */
const patchColumns: ReadonlySet<string> = new Set([
  'updated_at',
  'status',
  'version',
  'job_id',
  'attempts',
  'last_error',
  'result',
  'destination',
]);

/** The most ids one start statement is compiled for; a bigger batch is split. */
const startChunk = 64;

/**
 * The statements every event runs, compiled once per store handle (building and compiling a
 * Kysely query each time cost more CPU than running it): the insert, one update per set of
 * columns a patch names (a handful: Running, Succeeded, Retrying...), one start per batch size.
 */
class RecordStatements {
  readonly create: PrecompiledQuery<RecordRow, never>;
  readonly #db: Kysely<Database>;
  readonly #updates = new Map<string, PrecompiledQuery<Record<string, unknown>, never>>();
  readonly #starts = new Map<number, PrecompiledQuery<Record<string, unknown>, { id: string }>>();

  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.create = precompile<RecordRow, never>(
      [
        'id',
        'function_name',
        'version',
        'status',
        'job_id',
        'attempts',
        'created_at',
        'updated_at',
        'last_error',
        'result',
        'destination',
      ],
      (a) => db.insertInto('async_invocations').values(a),
    );
  }

  /** `columns`: the patch's columns (in the order update() adds them), then 'id'. */
  update(columns: readonly string[]): PrecompiledQuery<Record<string, unknown>, never> {
    const shape = columns.join(',');
    let q = this.#updates.get(shape);
    if (q === undefined) {
      const set = columns.filter((c) => c !== 'id');
      if (!set.every((c) => patchColumns.has(c))) throw new Error(`not a record column: ${shape}`);
      q = precompile<Record<string, unknown>, never>(columns, (a) =>
        this.#db
          .updateTable('async_invocations')
          .set(Object.fromEntries(set.map((c) => [c, a[c]])))
          .where('id', '=', a.id as string),
      );
      this.#updates.set(shape, q);
    }
    return q;
  }

  /** Args: `attempts`, `now`, and `id0`..`id{n-1}`. */
  start(n: number): PrecompiledQuery<Record<string, unknown>, { id: string }> {
    let q = this.#starts.get(n);
    if (q === undefined) {
      const ids = Array.from({ length: n }, (_, i) => `id${i}`);
      q = precompile<Record<string, unknown>, { id: string }>(['attempts', 'now', ...ids], (a) =>
        this.#db
          .updateTable('async_invocations')
          .set({ status: 'Running', attempts: a.attempts as number, updated_at: a.now as number })
          .where(
            'id',
            'in',
            ids.map((k) => a[k] as string),
          )
          .where('status', 'not in', [...finalStatuses])
          .returning('id'),
      );
      this.#starts.set(n, q);
    }
    return q;
  }
}

function toRow(r: InvocationRecord): AsyncInvocationsTable {
  return {
    id: r.id,
    function_name: r.functionName,
    version: r.version,
    status: r.status,
    job_id: r.jobId ?? null,
    attempts: r.attempts,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
    last_error: r.lastError === undefined ? null : JSON.stringify(r.lastError),
    result: r.result ?? null,
    destination: r.destination === undefined ? null : JSON.stringify(r.destination),
  };
}

function fromRow(row: AsyncInvocationsTable): InvocationRecord {
  const record: InvocationRecord = {
    id: row.id,
    functionName: row.function_name,
    version: row.version,
    status: row.status as InvocationStatus,
    attempts: Number(row.attempts),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
  if (row.job_id !== null) record.jobId = row.job_id;
  if (row.last_error !== null) record.lastError = JSON.parse(row.last_error);
  if (row.result !== null) record.result = row.result;
  if (row.destination !== null) record.destination = JSON.parse(row.destination);
  return record;
}
