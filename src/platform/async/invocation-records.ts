import type { Kysely } from 'kysely';
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

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  within(tx: Kysely<Database>): InvocationRecords {
    return new InvocationRecords(tx);
  }

  async create(record: InvocationRecord): Promise<void> {
    await this.#db.insertInto('async_invocations').values(toRow(record)).execute();
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
    await this.#db.updateTable('async_invocations').set(row).where('id', '=', id).execute();
  }

  /**
   * Attempts start: each record becomes Running with its attempt count, unless it was stopped
   * meanwhile or is already final (its settle never reached the queue: see AsyncWorker). One
   * statement per distinct attempt count (usually one for a whole lease batch).
   * Resolves to the ids that did not start (stopped, final, or no record).
   */
  async start(
    attempts: readonly { id: string; attempts: number }[],
    now: number,
  ): Promise<Set<string>> {
    const byCount = new Map<number, string[]>();
    for (const a of attempts) byCount.set(a.attempts, [...(byCount.get(a.attempts) ?? []), a.id]);
    const notStarted = new Set(attempts.map((a) => a.id));
    for (const [count, ids] of byCount) {
      const rows = await this.#db
        .updateTable('async_invocations')
        .set({ status: 'Running', attempts: count, updated_at: now })
        .where('id', 'in', ids)
        .where('status', 'not in', [...finalStatuses])
        .returning('id')
        .execute();
      for (const row of rows) notStarted.delete(row.id);
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
