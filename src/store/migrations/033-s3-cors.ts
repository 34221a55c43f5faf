import type { Kysely, Migration } from 'kysely';

/**
 * A bucket's CORS configuration (PutBucketCors, `CorsConfiguration` of AWS::S3::Bucket,
 * docs/s3.md): its rules as JSON, null when the bucket has none.
 */
export function s3CorsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('s3_buckets').addColumn('cors', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('s3_buckets').dropColumn('cors').execute();
    },
  };
}
