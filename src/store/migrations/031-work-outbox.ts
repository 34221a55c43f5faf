import type { Kysely, Migration } from 'kysely';

/**
 * The outbox of a work queue outside the database (NATS JetStream, docs/internals/queue.md): a
 * job is a row here, written in the same transaction as its task record, until a relay has
 * published it and deleted the row. Its idempotency keys live beside it, because an accept must
 * answer "duplicate" before anything reaches the queue.
 */
export function workOutboxMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('work_outbox')
        // A random id (UUID): the job's id for good, and its publish id (Nats-Msg-Id), so it
        // must never repeat, not even after the database is recreated against the same stream.
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('queue', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('enqueued_at', 'bigint', (c) => c.notNull())
        .addColumn('run_at', 'bigint')
        .addColumn('expires_at', 'bigint')
        .addColumn('idempotency_key', 'text')
        .execute();
      // The relay publishes oldest first.
      await db.schema
        .createIndex('work_outbox_enqueued_idx')
        .on('work_outbox')
        .column('enqueued_at')
        .execute();
      await db.schema
        .createTable('work_outbox_keys')
        .addColumn('queue', 'text', (c) => c.notNull())
        .addColumn('idempotency_key', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('work_outbox_keys_pkey', ['queue', 'idempotency_key'])
        .execute();
      await db.schema
        .createIndex('work_outbox_keys_expires_idx')
        .on('work_outbox_keys')
        .column('expires_at')
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('work_outbox_keys').execute();
      await db.schema.dropTable('work_outbox').execute();
    },
  };
}
