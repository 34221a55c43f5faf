/**
 * The SQL WorkQueue's statements as pure builders: each returns a Kysely query (values bound,
 * never spliced) and does no I/O; SqlWorkQueue executes them. Compiling one against a dialect
 * without a connection shows the exact SQL (test/queue/sql-work-queue-statements.test.ts).
 */
import { type Kysely, type RawBuilder, type Selectable, sql } from 'kysely';
import type { SqlFlavor } from '../store/migrations/sql-flavor.js';
import { precompile } from '../store/precompiled-query.js';
import type { Database, WorkJobsTable } from '../store/schema.js';

type Db = Kysely<Database>;

/**
 * Live jobs (not dead), spelled exactly as the partial index work_jobs_claim_idx is: SQLite uses
 * a partial index only when the query repeats its predicate term for term, literals included.
 */
const live = sql<boolean>`state in ('queued', 'leased')`;

/** Claimable at `now`: due, and either waiting or held by a lease that ran out. */
function claimable(now: number) {
  return sql<boolean>`run_at <= ${now} and (state = 'queued' or lease_until <= ${now})`;
}

export type ClaimArgs = {
  queue: string;
  now: number;
  max: number;
  leaseToken: string;
  leaseUntil: number;
};

/**
 * One statement: pick up to `max` claimable jobs of the queue in (run_at, id) order and lease
 * them. PostgreSQL locks the picked rows with SKIP LOCKED, so concurrent claimers on other
 * connections or nodes pass over them instead of waiting or taking them too; the CTE is
 * MATERIALIZED so it runs once. SQLite has a single writer: the statement is atomic by itself.
 */
export function claimJobs(db: Db, flavor: SqlFlavor, a: ClaimArgs) {
  return db
    .with(
      (cte) => (flavor === 'postgres' ? cte('next').materialized() : cte('next')),
      (qb) => {
        const pick = qb
          .selectFrom('work_jobs')
          .select('id')
          .where('queue', '=', a.queue)
          .where(live)
          .where(claimable(a.now))
          .orderBy('run_at')
          .orderBy('id')
          .limit(a.max);
        return flavor === 'postgres' ? pick.forUpdate().skipLocked() : pick;
      },
    )
    .updateTable('work_jobs')
    .set((eb) => ({
      state: 'leased',
      lease_token: a.leaseToken,
      lease_until: a.leaseUntil,
      attempts: eb('attempts', '+', 1),
    }))
    .where('id', 'in', (eb) => eb.selectFrom('next').select('next.id'))
    .returningAll();
}

export type NewJobRow = {
  queue: string;
  payload: string;
  enqueuedAt: number;
  runAt: number;
  expiresAt: number | null;
  idempotencyKey: string | null;
};

export function insertJob(db: Db, row: NewJobRow) {
  return db
    .insertInto('work_jobs')
    .values({
      queue: row.queue,
      state: 'queued',
      payload: row.payload,
      enqueued_at: row.enqueuedAt,
      run_at: row.runAt,
      expires_at: row.expiresAt,
      idempotency_key: row.idempotencyKey,
    })
    .returning('id');
}

/**
 * Takes (queue, key) for jobId until expiresAt, unless a live window holds it: returns a row
 * when taken, none when held. One statement, so two racing enqueues cannot both take it (on
 * PostgreSQL the second waits for the first to commit, then sees its row).
 */
export function takeKey(
  db: Db,
  a: { queue: string; key: string; jobId: number; expiresAt: number; now: number },
) {
  return db
    .insertInto('work_job_keys')
    .values({ queue: a.queue, idempotency_key: a.key, job_id: a.jobId, expires_at: a.expiresAt })
    .onConflict((oc) =>
      oc
        .columns(['queue', 'idempotency_key'])
        .doUpdateSet((eb) => ({
          job_id: eb.ref('excluded.job_id'),
          expires_at: eb.ref('excluded.expires_at'),
        }))
        .where('work_job_keys.expires_at', '<=', a.now),
    )
    .returning('job_id');
}

export function findKey(db: Db, queue: string, key: string) {
  return db
    .selectFrom('work_job_keys')
    .select('job_id')
    .where('queue', '=', queue)
    .where('idempotency_key', '=', key);
}

export function purgeKeys(db: Db, now: number) {
  return db.deleteFrom('work_job_keys').where('expires_at', '<=', now);
}

/** Settling statements (ack, retry, dead-letter, extend) apply only under the current lease. */
export function ackJob(db: Db, id: number, token: string) {
  return db
    .deleteFrom('work_jobs')
    .where('id', '=', id)
    .where('state', '=', 'leased')
    .where('lease_token', '=', token);
}

export function retryJob(
  db: Db,
  a: { id: number; token: string; runAt: number; countFailure: boolean },
) {
  return db
    .updateTable('work_jobs')
    .set((eb) => ({
      state: 'queued',
      run_at: a.runAt,
      lease_token: null,
      lease_until: null,
      failures: a.countFailure ? eb('failures', '+', 1) : eb.ref('failures'),
    }))
    .where('id', '=', a.id)
    .where('state', '=', 'leased')
    .where('lease_token', '=', a.token);
}

export function deadLetterJob(
  db: Db,
  a: { id: number; token: string; now: number; reason: string },
) {
  return db
    .updateTable('work_jobs')
    .set({
      state: 'dead',
      dead_at: a.now,
      dead_reason: a.reason,
      lease_token: null,
      lease_until: null,
    })
    .where('id', '=', a.id)
    .where('state', '=', 'leased')
    .where('lease_token', '=', a.token);
}

export function extendJobLease(db: Db, a: { id: number; token: string; leaseUntil: number }) {
  return db
    .updateTable('work_jobs')
    .set({ lease_until: a.leaseUntil })
    .where('id', '=', a.id)
    .where('state', '=', 'leased')
    .where('lease_token', '=', a.token);
}

/**
 * Waiting, or leased with the lease run out: not running as far as the queue can tell. A live
 * lease is refused, since its holder is running the job now.
 */
export function cancelJob(db: Db, id: number, now: number) {
  return db
    .deleteFrom('work_jobs')
    .where('id', '=', id)
    .where(sql<boolean>`(state = 'queued' or (state = 'leased' and lease_until <= ${now}))`);
}

export function listDeadJobs(db: Db, queue: string, limit: number) {
  return db
    .selectFrom('work_jobs')
    .selectAll()
    .where('queue', '=', queue)
    .where(sql<boolean>`state = 'dead'`)
    .orderBy('dead_at')
    .orderBy('id')
    .limit(limit);
}

/** Dead letters start over: due now, counters and the age limit cleared. */
export function redriveJobs(db: Db, a: { queue: string; now: number; ids?: number[] }) {
  let q = db
    .updateTable('work_jobs')
    .set({
      state: 'queued',
      run_at: a.now,
      attempts: 0,
      failures: 0,
      expires_at: null,
      dead_at: null,
      dead_reason: null,
    })
    .where('queue', '=', a.queue)
    .where(sql<boolean>`state = 'dead'`);
  if (a.ids !== undefined) q = q.where('id', 'in', a.ids);
  return q;
}

export interface StatsRow {
  ready: number | null;
  delayed: number | null;
  leased: number | null;
  dead: number | null;
}

/** Counts by what each job is doing at `now` (a lease that ran out counts as ready). */
export function jobStats(now: number, queue?: string): RawBuilder<StatsRow> {
  const where = queue === undefined ? sql`` : sql`where queue = ${queue}`;
  return sql<StatsRow>`select
    sum(case when state = 'queued' and run_at <= ${now} then 1
             when state = 'leased' and lease_until <= ${now} then 1 else 0 end) as ready,
    sum(case when state = 'queued' and run_at > ${now} then 1 else 0 end) as delayed,
    sum(case when state = 'leased' and lease_until > ${now} then 1 else 0 end) as leased,
    sum(case when state = 'dead' then 1 else 0 end) as dead
  from work_jobs ${where}`;
}

/**
 * Queues with a claimable job. A loose index scan (one index probe per distinct queue, through
 * work_jobs_claim_idx) instead of DISTINCT over every row, since a backlog can be large while the
 * queues are few; then one probe per queue for a claimable job.
 */
export function readyQueues(now: number): RawBuilder<{ queue: string }> {
  const nextAfter = (after: RawBuilder<unknown> | null) =>
    sql`(select queue from work_jobs where ${live}${
      after === null ? sql`` : sql` and queue > ${after}`
    } order by queue limit 1)`;
  return sql<{ queue: string }>`with recursive qs(queue) as (
    select ${nextAfter(null)}
    union all
    select ${nextAfter(sql.ref('qs.queue'))} from qs where qs.queue is not null
  )
  select queue from qs where queue is not null and exists (
    select 1 from work_jobs j
    where j.queue = qs.queue and ${live} and ${claimable(now)}
  )`;
}

/**
 * The statements every async event runs (enqueue, claim, settle, heartbeat, the ready probe),
 * built and compiled once per store handle (src/store/precompiled-query.ts): building and
 * compiling a Kysely query each time cost more than running it (the claim's CTE alone ~190 µs).
 * The rarer ones (keys, redrive, stats) are built per call.
 */
export function hotStatements(db: Db, flavor: SqlFlavor) {
  return {
    insert: precompile<NewJobRow, { id: number }>(
      ['queue', 'payload', 'enqueuedAt', 'runAt', 'expiresAt', 'idempotencyKey'],
      (a) => insertJob(db, a),
    ),
    claim: precompile<ClaimArgs, Selectable<WorkJobsTable>>(
      ['queue', 'now', 'max', 'leaseToken', 'leaseUntil'],
      (a) => claimJobs(db, flavor, a),
    ),
    ack: precompile<{ id: number; token: string }, never>(['id', 'token'], (a) =>
      ackJob(db, a.id, a.token),
    ),
    retryCounting: precompile<{ id: number; token: string; runAt: number }, never>(
      ['id', 'token', 'runAt'],
      (a) => retryJob(db, { ...a, countFailure: true }),
    ),
    retryNotCounting: precompile<{ id: number; token: string; runAt: number }, never>(
      ['id', 'token', 'runAt'],
      (a) => retryJob(db, { ...a, countFailure: false }),
    ),
    deadLetter: precompile<{ id: number; token: string; now: number; reason: string }, never>(
      ['id', 'token', 'now', 'reason'],
      (a) => deadLetterJob(db, a),
    ),
    extendLease: precompile<{ id: number; token: string; leaseUntil: number }, never>(
      ['id', 'token', 'leaseUntil'],
      (a) => extendJobLease(db, a),
    ),
    readyQueues: precompile<{ now: number }, { queue: string }>(['now'], (a) => ({
      compile: () => readyQueues(a.now).compile(db),
    })),
  };
}

export type HotStatements = ReturnType<typeof hotStatements>;
