import type { Kysely, Migration } from 'kysely';

/**
 * Per-minute rollups of invocations per function (docs/metrics.md), read by `nimbus metrics`:
 * counts and billed memory-time, and the durations as counts per logarithmic bucket so p50,
 * p95 and p99 can be read over any span of minutes. Rows are added to (upsert), never rewritten.
 */
export function metricRollupsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('metric_rollups')
        .addColumn('function_name', 'text', (c) => c.notNull())
        // Epoch ms of the minute's start.
        .addColumn('minute', 'bigint', (c) => c.notNull())
        .addColumn('invocations', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('errors', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('throttles', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('cold_starts', 'bigint', (c) => c.notNull().defaultTo(0))
        // Memory size (MB) times billed duration (ms), summed: exact in integers.
        .addColumn('mb_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('metric_rollups_pk', ['function_name', 'minute'])
        .execute();
      await db.schema
        .createTable('metric_rollup_durations')
        .addColumn('function_name', 'text', (c) => c.notNull())
        .addColumn('minute', 'bigint', (c) => c.notNull())
        .addColumn('bucket', 'integer', (c) => c.notNull())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('metric_rollup_durations_pk', [
          'function_name',
          'minute',
          'bucket',
        ])
        .execute();
      await db.schema
        .createIndex('metric_rollups_minute_idx')
        .on('metric_rollups')
        .column('minute')
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('metric_rollup_durations').execute();
      await db.schema.dropTable('metric_rollups').execute();
    },
  };
}
