import type { Kysely, Migration } from 'kysely';
import type { SqlFlavor } from './sql-flavor.js';

/**
 * S3 buckets, objects and multipart uploads (docs/s3.md). Object bytes live in files under the
 * data dir named by generated ids (`blob_id`), never by key. Keys are stored as their UTF-8
 * bytes (BLOB / BYTEA), not text: they compare byte-wise, as S3 lists them, whatever the
 * database locale, and may hold NUL, which PostgreSQL text cannot. Times are epoch milliseconds.
 */
export function s3Migration(flavor: SqlFlavor): Migration {
  const binary = flavor === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('s3_buckets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('s3_objects')
        .addColumn('bucket', 'text', (c) =>
          c.notNull().references('s3_buckets.name').onDelete('cascade'),
        )
        .addColumn('key', binary, (c) => c.notNull())
        .addColumn('blob_id', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('etag', 'text', (c) => c.notNull())
        .addColumn('last_modified', 'bigint', (c) => c.notNull())
        // JSON: Content-Type, Cache-Control and the other stored response headers.
        .addColumn('headers', 'text', (c) => c.notNull())
        // JSON: x-amz-meta-* without the prefix.
        .addColumn('user_metadata', 'text', (c) => c.notNull())
        // JSON {name, value} of the x-amz-checksum-* sent with the object, if any.
        .addColumn('checksum', 'text')
        // JSON [{Key, Value}], for object tagging.
        .addColumn('tags', 'text')
        .addPrimaryKeyConstraint('s3_objects_pk', ['bucket', 'key'])
        .execute();
      await db.schema
        .createTable('s3_uploads')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('bucket', 'text', (c) =>
          c.notNull().references('s3_buckets.name').onDelete('cascade'),
        )
        .addColumn('key', binary, (c) => c.notNull())
        .addColumn('initiated_at', 'bigint', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('user_metadata', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('s3_uploads_bucket_idx')
        .on('s3_uploads')
        .columns(['bucket', 'key'])
        .execute();
      await db.schema
        .createTable('s3_parts')
        .addColumn('upload_id', 'text', (c) =>
          c.notNull().references('s3_uploads.id').onDelete('cascade'),
        )
        .addColumn('part_number', 'integer', (c) => c.notNull())
        .addColumn('blob_id', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('etag', 'text', (c) => c.notNull())
        .addColumn('last_modified', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('s3_parts_pk', ['upload_id', 'part_number'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('s3_parts').execute();
      await db.schema.dropTable('s3_uploads').execute();
      await db.schema.dropTable('s3_objects').execute();
      await db.schema.dropTable('s3_buckets').execute();
    },
  };
}
