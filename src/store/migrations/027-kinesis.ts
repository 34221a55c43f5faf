import type { Kysely, Migration } from 'kysely';
import type { SqlFlavor } from './sql-flavor.js';

/**
 * Kinesis data streams (docs/kinesis.md): the streams, one row per shard holding the last
 * position handed out in it (raised in the same transaction that inserts the records, so
 * positions are gapless per shard and commit in order), and the records themselves. Times are
 * epoch milliseconds.
 */
export function kinesisMigration(flavor: SqlFlavor): Migration {
  const binary = flavor === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('kinesis_streams')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('shard_count', 'integer', (c) => c.notNull())
        .addColumn('retention_hours', 'integer', (c) => c.notNull())
        // JSON object of tag key to value.
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('kinesis_shards')
        .addColumn('stream', 'text', (c) =>
          c.notNull().references('kinesis_streams.name').onDelete('cascade'),
        )
        .addColumn('shard_index', 'integer', (c) => c.notNull())
        .addColumn('last_position', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('kinesis_shards_pk', ['stream', 'shard_index'])
        .execute();
      await db.schema
        .createTable('kinesis_records')
        .addColumn('stream', 'text', (c) =>
          c.notNull().references('kinesis_streams.name').onDelete('cascade'),
        )
        .addColumn('shard_index', 'integer', (c) => c.notNull())
        .addColumn('position', 'bigint', (c) => c.notNull())
        .addColumn('partition_key', 'text', (c) => c.notNull())
        .addColumn('data', binary, (c) => c.notNull())
        .addColumn('arrived_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('kinesis_records_pk', ['stream', 'shard_index', 'position'])
        .execute();
      await db.schema
        .createIndex('kinesis_records_arrival_idx')
        .on('kinesis_records')
        .columns(['stream', 'shard_index', 'arrived_at'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('kinesis_records').execute();
      await db.schema.dropTable('kinesis_shards').execute();
      await db.schema.dropTable('kinesis_streams').execute();
    },
  };
}
