import type { Kysely, Migration } from 'kysely';

/**
 * The OS user id each service stage's functions run as when the platform is root
 * (docs/security.md). Kept, not recomputed, so a stage keeps its uid across restarts and the
 * files its processes own stay theirs; a uid is never given to two stages.
 */
export function functionUidsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('function_uids')
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('uid', 'integer', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('function_uids_pk', ['service', 'stage'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('function_uids').execute();
    },
  };
}
