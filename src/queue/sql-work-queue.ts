import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../model/clock.js';
import { groupCommitter, type StoreTx } from '../store/group-commit.js';
import type { SqlFlavor } from '../store/migrations/sql-flavor.js';
import type { Database, WorkJobsTable } from '../store/schema.js';
import {
  cancelJob,
  findKey,
  type HotStatements,
  hotStatements,
  insertJob,
  jobStats,
  listDeadJobs,
  purgeKeys,
  redriveJobs,
  takeKey,
} from './sql-work-queue-statements.js';
import {
  type DeadJob,
  type EnqueueInput,
  type EnqueueResult,
  type Job,
  type LeaseOptions,
  type LeaseRef,
  type QueueStats,
  type RetryOptions,
  type TransactionalWorkQueue,
  WorkQueueInputError,
} from './work-queue.js';
import { checkDuration, checkQueue, checkTime, toJson } from './work-queue-input.js';

export interface SqlWorkQueueOptions {
  /** Which SQL the claim needs (PostgreSQL adds FOR UPDATE SKIP LOCKED). */
  flavor: SqlFlavor;
  clock: Clock;
  /** How long an idempotency key holds for a job without expiresAt; default 6 hours. */
  idempotencyWindowMs?: number;
}

/** Lambda's default maximum event age: a retried async event can still arrive that late. */
const defaultIdempotencyWindowMs = 6 * 60 * 60 * 1000;

/** Bind parameters per redrive statement: far below either dialect's cap. */
const idChunk = 500;

/**
 * The WorkQueue on the store's Kysely handle, SQLite or PostgreSQL (docs/internals/queue.md). It does not
 * own the handle: whoever opened it closes it.
 */
export class SqlWorkQueue implements TransactionalWorkQueue<StoreTx> {
  readonly #db: Kysely<Database>;
  readonly #opts: SqlWorkQueueOptions;
  readonly #flavor: SqlFlavor;
  readonly #clock: Clock;
  readonly #windowMs: number;
  /** Compiled once on the store's handle; a queue within a transaction shares its root's. */
  readonly #hot: HotStatements;

  constructor(db: Kysely<Database>, opts: SqlWorkQueueOptions, hot?: HotStatements) {
    this.#db = db;
    this.#opts = opts;
    this.#flavor = opts.flavor;
    this.#clock = opts.clock;
    this.#windowMs = opts.idempotencyWindowMs ?? defaultIdempotencyWindowMs;
    this.#hot = hot ?? hotStatements(db, opts.flavor);
  }

  within(tx: StoreTx): SqlWorkQueue {
    return new SqlWorkQueue(tx, this.#opts, this.#hot);
  }

  transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    // Several batches at once: on PostgreSQL they take pool connections; on SQLite the SQL of one
    // runs while the disk syncs the one before (sqlite-durable-dialect.ts).
    return groupCommitter(this.#db, { parallel: 4 }).run(work);
  }

  async enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    checkQueue(input.queue);
    const now = this.#now();
    const row = {
      queue: input.queue,
      payload: toJson(input.payload, 'payload'),
      enqueuedAt: now,
      runAt: input.runAt === undefined ? now : checkTime(input.runAt, 'runAt'),
      expiresAt: input.expiresAt === undefined ? null : checkTime(input.expiresAt, 'expiresAt'),
      idempotencyKey: input.idempotencyKey ?? null,
    };
    const key = input.idempotencyKey;
    if (key === undefined) {
      const { rows } = await this.#hot.insert.run(this.#db, row);
      return { id: String(rows[0]!.id), duplicate: false };
    }
    if (key === '') throw new WorkQueueInputError('idempotencyKey must not be empty');

    // Insert first, then take the key: the common case (a new key) is two statements. When a
    // live window holds the key, the new job is deleted again in the same transaction; no
    // rollback, so this also works inside a caller's (shared) transaction.
    const keyed = async (tx: Kysely<Database>): Promise<EnqueueResult> => {
      const { id } = await insertJob(tx, row).executeTakeFirstOrThrow();
      const taken = await takeKey(tx, {
        queue: input.queue,
        key,
        jobId: id,
        expiresAt: row.expiresAt ?? now + this.#windowMs,
        now,
      }).executeTakeFirst();
      if (taken !== undefined) return { id: String(id), duplicate: false };
      await tx.deleteFrom('work_jobs').where('id', '=', id).execute();
      const first = await findKey(tx, input.queue, key).executeTakeFirstOrThrow();
      return { id: String(first.job_id), duplicate: true };
    };
    return this.#db.isTransaction ? keyed(this.#db) : this.#db.transaction().execute(keyed);
  }

  async lease(queue: string, opts: LeaseOptions): Promise<Job[]> {
    checkQueue(queue);
    if (!Number.isInteger(opts.max) || opts.max < 1) {
      throw new WorkQueueInputError(`max must be an integer >= 1, got ${opts.max}`);
    }
    const leaseMs = checkDuration(opts.leaseMs, 'leaseMs');
    const now = this.#now();
    const leaseToken = newLeaseToken();
    const { rows } = await this.#hot.claim.run(this.#db, {
      queue,
      now,
      max: opts.max,
      leaseToken,
      leaseUntil: now + leaseMs,
    });
    // RETURNING promises no order.
    rows.sort((a, b) => a.run_at - b.run_at || a.id - b.id);
    return rows.map((r) => toJob(r, now));
  }

  async queuesReady(): Promise<string[]> {
    const { rows } = await this.#hot.readyQueues.run(this.#db, { now: this.#now() });
    return rows.map((r) => r.queue);
  }

  async ack(ref: LeaseRef): Promise<boolean> {
    const id = parseId(ref.id);
    if (id === undefined) return false;
    return changed(await this.#hot.ack.run(this.#db, { id, token: ref.leaseToken }));
  }

  async retryAt(ref: LeaseRef, runAt: number, opts?: RetryOptions): Promise<boolean> {
    const at = checkTime(runAt, 'runAt');
    const id = parseId(ref.id);
    if (id === undefined) return false;
    const retry =
      (opts?.countFailure ?? true) ? this.#hot.retryCounting : this.#hot.retryNotCounting;
    return changed(await retry.run(this.#db, { id, token: ref.leaseToken, runAt: at }));
  }

  async deadLetter(ref: LeaseRef, reason: unknown): Promise<boolean> {
    const json = toJson(reason, 'reason');
    const id = parseId(ref.id);
    if (id === undefined) return false;
    return changed(
      await this.#hot.deadLetter.run(this.#db, {
        id,
        token: ref.leaseToken,
        now: this.#now(),
        reason: json,
      }),
    );
  }

  async extendLease(ref: LeaseRef, leaseMs: number): Promise<boolean> {
    const ms = checkDuration(leaseMs, 'leaseMs');
    const id = parseId(ref.id);
    if (id === undefined) return false;
    return changed(
      await this.#hot.extendLease.run(this.#db, {
        id,
        token: ref.leaseToken,
        leaseUntil: this.#now() + ms,
      }),
    );
  }

  async listDead(queue: string, opts: { limit: number }): Promise<DeadJob[]> {
    checkQueue(queue);
    if (!Number.isInteger(opts.limit) || opts.limit < 1) {
      throw new WorkQueueInputError(`limit must be an integer >= 1, got ${opts.limit}`);
    }
    const rows = await listDeadJobs(this.#db, queue, opts.limit).execute();
    return rows.map(toDeadJob);
  }

  async redrive(queue: string, ids?: string[]): Promise<number> {
    checkQueue(queue);
    const now = this.#now();
    if (ids === undefined) {
      const result = await redriveJobs(this.#db, { queue, now }).executeTakeFirst();
      return Number(result.numUpdatedRows);
    }
    const parsed = ids.map(parseId).filter((id) => id !== undefined);
    let count = 0;
    for (let i = 0; i < parsed.length; i += idChunk) {
      const chunk = parsed.slice(i, i + idChunk);
      const result = await redriveJobs(this.#db, { queue, now, ids: chunk }).executeTakeFirst();
      count += Number(result.numUpdatedRows);
    }
    return count;
  }

  async cancel(id: string): Promise<boolean> {
    const parsed = parseId(id);
    if (parsed === undefined) return false;
    const result = await cancelJob(this.#db, parsed, this.#now()).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async stats(queue?: string): Promise<QueueStats> {
    if (queue !== undefined) checkQueue(queue);
    const { rows } = await jobStats(this.#now(), queue).execute(this.#db);
    const row = rows[0];
    // SUM over no rows is NULL; PostgreSQL's SUM is numeric-typed text for some drivers.
    return {
      ready: Number(row?.ready ?? 0),
      delayed: Number(row?.delayed ?? 0),
      leased: Number(row?.leased ?? 0),
      dead: Number(row?.dead ?? 0),
    };
  }

  async purgeExpiredKeys(): Promise<number> {
    const result = await purgeKeys(this.#db, this.#now()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Whole milliseconds: the columns are BIGINT. */
  #now(): number {
    return Math.floor(this.#clock.now());
  }
}

/** Whether a settling statement found its job under the lease (it changed a row). */
function changed(result: { numAffectedRows?: bigint }): boolean {
  return (result.numAffectedRows ?? 0n) > 0n;
}

function newLeaseToken(): string {
  return randomBytes(16).toString('base64url');
}

function toJob(row: Selectable<WorkJobsTable>, now: number): Job {
  const job: Job = {
    id: String(row.id),
    queue: row.queue,
    payload: JSON.parse(row.payload),
    attempts: row.attempts,
    failures: row.failures,
    enqueuedAt: row.enqueued_at,
    runAt: row.run_at,
    expired: row.expires_at !== null && row.expires_at <= now,
    leaseToken: row.lease_token ?? '',
    leaseUntil: row.lease_until ?? 0,
  };
  if (row.expires_at !== null) job.expiresAt = row.expires_at;
  if (row.idempotency_key !== null) job.idempotencyKey = row.idempotency_key;
  return job;
}

function toDeadJob(row: Selectable<WorkJobsTable>): DeadJob {
  const job: DeadJob = {
    id: String(row.id),
    queue: row.queue,
    payload: JSON.parse(row.payload),
    attempts: row.attempts,
    failures: row.failures,
    enqueuedAt: row.enqueued_at,
    runAt: row.run_at,
    deadAt: row.dead_at ?? 0,
    reason: row.dead_reason === null ? null : JSON.parse(row.dead_reason),
  };
  if (row.expires_at !== null) job.expiresAt = row.expires_at;
  if (row.idempotency_key !== null) job.idempotencyKey = row.idempotency_key;
  return job;
}

/** Ids this adapter hands out are decimal integers; anything else names no job. */
function parseId(id: string): number | undefined {
  if (!/^[1-9][0-9]{0,15}$/.test(id)) return undefined;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : undefined;
}
