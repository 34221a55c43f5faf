import type { Kysely, Migration } from 'kysely';
import type { SqlFlavor } from './sql-flavor.js';

/**
 * Cluster mode (docs/cluster.md): the nodes that heartbeat, named leases (the schedule runner's
 * singleton), and artifacts as chunked rows so every node reads what any node stored. The tables
 * exist on SQLite too (one migration list for both dialects) and simply stay empty there.
 */
export function clusterMigration(flavor: SqlFlavor): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('cluster_nodes')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
        // Load as of the last heartbeat: a JSON object (instances, busy, async runs).
        .addColumn('load', 'text', (c) => c.notNull())
        .addColumn('stopped_at', 'bigint')
        .execute();
      await db.schema
        .createTable('cluster_leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      const bytes = flavor === 'postgres' ? 'bytea' : 'blob';
      await db.schema
        .createTable('blob_chunks')
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('data', bytes, (c) => c.notNull())
        .addPrimaryKeyConstraint('blob_chunks_pk', ['sha256', 'seq'])
        .execute();
      // Written after every chunk, in the same transaction: a blob row means the blob is whole.
      await db.schema
        .createTable('blobs')
        .addColumn('sha256', 'text', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('chunks', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const t of ['blobs', 'blob_chunks', 'cluster_leases', 'cluster_nodes']) {
        await db.schema.dropTable(t).execute();
      }
    },
  };
}
