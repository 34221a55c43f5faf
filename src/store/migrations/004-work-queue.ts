import { type Kysely, type Migration, sql } from 'kysely';
import { generatedId, type SqlFlavor } from './sql-flavor.js';

/**
 * The SQL WorkQueue (docs/internals/queue.md): one row per job, its state machine in `state`, and the
 * idempotency keys beside it (a key outlives its job: a duplicate after ack is still a duplicate).
 */
export function workQueueMigration(flavor: SqlFlavor): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('work_jobs')
        // Generated, never reused (AUTOINCREMENT / identity): ties on run_at go in enqueue order,
        // and a stale id held by an idempotency key or a late holder never names another job.
        .addColumn('id', flavor === 'sqlite' ? 'integer' : 'bigint', generatedId(flavor))
        .addColumn('queue', 'text', (c) => c.notNull())
        // 'queued' (due at run_at) | 'leased' (held until lease_until) | 'dead'. Done is deleted.
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('enqueued_at', 'bigint', (c) => c.notNull())
        .addColumn('run_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('lease_token', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('idempotency_key', 'text')
        .addColumn('dead_at', 'bigint')
        .addColumn('dead_reason', 'text')
        .execute();
      // The claim walks one queue's live jobs in (run_at, id) order. Leased rows stay in it so the
      // same statement finds expired leases; they are bounded by in-flight capacity. The literal
      // predicate must match the queries' word for word, or SQLite will not use the index.
      await db.schema
        .createIndex('work_jobs_claim_idx')
        .on('work_jobs')
        .columns(['queue', 'run_at', 'id'])
        .where(sql.raw<boolean>(`state in ('queued', 'leased')`))
        .execute();
      await db.schema
        .createIndex('work_jobs_dead_idx')
        .on('work_jobs')
        .columns(['queue', 'dead_at', 'id'])
        .where(sql.raw<boolean>(`state = 'dead'`))
        .execute();

      await db.schema
        .createTable('work_job_keys')
        .addColumn('queue', 'text', (c) => c.notNull())
        .addColumn('idempotency_key', 'text', (c) => c.notNull())
        .addColumn('job_id', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('work_job_keys_pkey', ['queue', 'idempotency_key'])
        .execute();
      // purgeExpiredKeys.
      await db.schema
        .createIndex('work_job_keys_expires_idx')
        .on('work_job_keys')
        .column('expires_at')
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('work_job_keys').execute();
      await db.schema.dropTable('work_jobs').execute();
    },
  };
}
