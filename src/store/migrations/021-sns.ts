import type { Kysely, Migration } from 'kysely';

/**
 * SNS topics and their subscriptions (docs/sns.md). Times are epoch milliseconds. A
 * subscription's `token` is set while an http(s) endpoint has not confirmed it yet.
 */
export function snsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('sns_topics')
        .addColumn('name', 'text', (c) => c.primaryKey())
        // JSON: the settable attributes as strings, as SNS reports them.
        .addColumn('attributes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sns_subscriptions')
        .addColumn('arn', 'text', (c) => c.primaryKey())
        .addColumn('topic', 'text', (c) =>
          c.notNull().references('sns_topics.name').onDelete('cascade'),
        )
        .addColumn('protocol', 'text', (c) => c.notNull())
        .addColumn('endpoint', 'text', (c) => c.notNull())
        .addColumn('attributes', 'text', (c) => c.notNull())
        .addColumn('token', 'text')
        // `<service>/<stage>` for subscriptions an `sns` event made; null for API-made ones.
        .addColumn('owner', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('sns_subscriptions_topic_idx')
        .on('sns_subscriptions')
        .column('topic')
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('sns_subscriptions').execute();
      await db.schema.dropTable('sns_topics').execute();
    },
  };
}
