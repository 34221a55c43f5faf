import type { Kysely, Migration } from 'kysely';

/**
 * Where each stream event source mapping is in each shard (docs/internals/event-sources.md):
 * the id (sequence number) of the last record it is done with. Written after every settled
 * batch, read when a mapping starts, so a restart neither skips nor repeats out of order.
 */
export function streamCheckpointsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('stream_checkpoints')
        .addColumn('mapping_uuid', 'text', (c) => c.notNull())
        .addColumn('shard', 'text', (c) => c.notNull())
        .addColumn('position', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('stream_checkpoints_pk', ['mapping_uuid', 'shard'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('stream_checkpoints').execute();
    },
  };
}
