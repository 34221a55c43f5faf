import type { Kysely, Migration } from 'kysely';

/**
 * One row per asynchronous invocation: its task status, readable after the queue has let go of
 * the job (docs/async.md). The event itself lives in the queue's job.
 */
export function asyncInvocationsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('async_invocations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('function_name', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('result', 'text')
        .addColumn('destination', 'text')
        .execute();
      await db.schema
        .createIndex('async_invocations_function_idx')
        .on('async_invocations')
        .columns(['function_name', 'created_at'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('async_invocations').execute();
    },
  };
}
