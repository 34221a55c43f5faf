import type { Kysely, Migration } from 'kysely';

/**
 * The service stage that owns a bucket (created by its deploy, or through the API with that
 * stage's session credentials): session credentials and scoped access keys of another stage are
 * refused it (docs/s3.md, docs/security.md). Null for a bucket created with an unscoped access
 * key or the admin token: shared by every caller.
 */
export function s3BucketOwnerMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('s3_buckets').addColumn('owner_service', 'text').execute();
      await db.schema.alterTable('s3_buckets').addColumn('owner_stage', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('s3_buckets').dropColumn('owner_stage').execute();
      await db.schema.alterTable('s3_buckets').dropColumn('owner_service').execute();
    },
  };
}
