import type { Kysely, Migration } from 'kysely';
import type { SqlFlavor } from './sql-flavor.js';

/**
 * S3 objects' bytes as chunked rows (`--blobs postgres`, docs/cluster.md): a head row per blob id
 * and its chunks. The head row is written first in state `writing` and turned `whole` after the
 * last chunk, so an upload never holds a transaction (nor a pooled connection) for its whole
 * length; readers see only `whole` blobs. `touched_at` moves with every chunk, so a start can
 * sweep what a crashed node left `writing`. The tables exist on SQLite too (one migration list
 * for both dialects) and stay empty there.
 */
export function s3ObjectChunksMigration(flavor: SqlFlavor): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('s3_object_blobs')
        .addColumn('blob_id', 'text', (c) => c.primaryKey())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('chunks', 'integer', (c) => c.notNull())
        // Every chunk but the last holds exactly this many bytes: a range finds its first chunk.
        .addColumn('chunk_bytes', 'integer', (c) => c.notNull())
        .addColumn('touched_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('s3_object_blobs_state')
        .on('s3_object_blobs')
        .columns(['state', 'touched_at'])
        .execute();
      await db.schema
        .createTable('s3_object_chunks')
        .addColumn('blob_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('data', flavor === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
        .addPrimaryKeyConstraint('s3_object_chunks_pk', ['blob_id', 'seq'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('s3_object_chunks').execute();
      await db.schema.dropTable('s3_object_blobs').execute();
    },
  };
}
