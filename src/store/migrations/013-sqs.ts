import type { Kysely, Migration } from 'kysely';

/**
 * SQS queues, their messages and FIFO deduplication ids (docs/sqs.md). Times are epoch
 * milliseconds. `seq` orders messages (FIFO order within a group, oldest first otherwise).
 */
export function sqsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('sqs_queues')
        .addColumn('name', 'text', (c) => c.primaryKey())
        // JSON: the settable attributes as strings, as SQS reports them.
        .addColumn('attributes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('modified_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sqs_messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('queue', 'text', (c) =>
          c.notNull().references('sqs_queues.name').onDelete('cascade'),
        )
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        // JSON: MessageAttributes as sent (Binary values base64).
        .addColumn('message_attributes', 'text', (c) => c.notNull())
        .addColumn('md5_body', 'text', (c) => c.notNull())
        .addColumn('md5_attributes', 'text')
        .addColumn('sent_at', 'bigint', (c) => c.notNull())
        .addColumn('visible_at', 'bigint', (c) => c.notNull())
        .addColumn('receive_count', 'integer', (c) => c.notNull())
        .addColumn('first_received_at', 'bigint')
        // The receipt of the latest receive; null until received.
        .addColumn('receipt', 'text')
        .addColumn('group_id', 'text')
        .addColumn('dedup_id', 'text')
        .execute();
      await db.schema
        .createIndex('sqs_messages_queue_idx')
        .on('sqs_messages')
        .columns(['queue', 'visible_at', 'seq'])
        .execute();
      await db.schema
        .createTable('sqs_dedup')
        .addColumn('queue', 'text', (c) =>
          c.notNull().references('sqs_queues.name').onDelete('cascade'),
        )
        .addColumn('dedup_id', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('sqs_dedup_pk', ['queue', 'dedup_id'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('sqs_dedup').execute();
      await db.schema.dropTable('sqs_messages').execute();
      await db.schema.dropTable('sqs_queues').execute();
    },
  };
}
