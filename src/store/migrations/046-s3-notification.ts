import type { Kysely, Migration } from 'kysely';

/**
 * A bucket's notification configuration (PutBucketNotificationConfiguration,
 * `NotificationConfiguration` of AWS::S3::Bucket, docs/s3.md): JSON, null when it has none.
 */
export function s3NotificationMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('s3_buckets').addColumn('notification', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('s3_buckets').dropColumn('notification').execute();
    },
  };
}
