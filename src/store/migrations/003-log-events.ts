import type { Kysely, Migration } from 'kysely';
import { generatedId, type SqlFlavor } from './sql-flavor.js';

/**
 * Function log lines (docs/logs.md). The generated id is the read cursor: AUTOINCREMENT / identity
 * never hands an id out twice, so a cursor stays valid across retention pruning.
 */
export function logEventsMigration(flavor: SqlFlavor): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('log_events')
        // bigint on PostgreSQL: a busy platform can pass 2^31 lines. SQLite's AUTOINCREMENT must
        // be spelled INTEGER, which is 64-bit there anyway.
        .addColumn('id', flavor === 'sqlite' ? 'integer' : 'bigint', generatedId(flavor))
        // No foreign key to functions: logs outlive a removed function until retention prunes them.
        .addColumn('function_name', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('log_stream', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text')
        .addColumn('timestamp', 'bigint', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .execute();
      // Time-range reads (`logs --startTime`).
      await db.schema
        .createIndex('log_events_function_timestamp_idx')
        .on('log_events')
        .columns(['function_name', 'timestamp'])
        .execute();
      // Cursor reads (`after`): one function's events in id order.
      await db.schema
        .createIndex('log_events_function_id_idx')
        .on('log_events')
        .columns(['function_name', 'id'])
        .execute();
      // Retention deletes by age across every function.
      await db.schema
        .createIndex('log_events_timestamp_idx')
        .on('log_events')
        .column('timestamp')
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('log_events').execute();
    },
  };
}
