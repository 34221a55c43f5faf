import type { Kysely, Migration } from 'kysely';
import type { SqlFlavor } from './sql-flavor.js';

/**
 * DynamoDB secondary indexes and transaction tokens (docs/dynamodb.md).
 *
 * `dynamodb_index_items`: one row per item per secondary index it appears in, keyed by the index
 * key (`ipk`, `isk`, encoded as the table's keys are) and then the table key, holding the
 * projected item; written in the same transaction as the item.
 *
 * `dynamodb_stream_records`: every committed change of a table with a stream, in the stream's
 * order (`seq`, from `dynamodb_stream_counters`, whose row a writer holds until it commits, so
 * sequence order is commit order and a reader never sees a gap filled later). Kept 24 hours;
 * not tied to the table row, as a deleted table's stream stays readable that long.
 *
 * `dynamodb_transaction_tokens`: TransactWriteItems' `ClientRequestToken`s: a token seen in the
 * last ten minutes answers the same request again without applying it twice, and refuses a different one.
 * `request_hash` is a digest of the request's parameters; rows older than ten minutes are dead and
 * replaced on the next use of their token.
 */
export function dynamodbExtensionsMigration(flavor: SqlFlavor): Migration {
  const binary = flavor === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('dynamodb_index_items')
        .addColumn('table_name', 'text', (c) =>
          c.notNull().references('dynamodb_tables.name').onDelete('cascade'),
        )
        .addColumn('index_name', 'text', (c) => c.notNull())
        .addColumn('ipk', binary, (c) => c.notNull())
        .addColumn('isk', binary, (c) => c.notNull())
        .addColumn('pk', binary, (c) => c.notNull())
        .addColumn('sk', binary, (c) => c.notNull())
        .addColumn('item', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('dynamodb_index_items_pk', [
          'table_name',
          'index_name',
          'ipk',
          'isk',
          'pk',
          'sk',
        ])
        .execute();
      // Rewriting or deleting an item finds its index rows by the table key.
      await db.schema
        .createIndex('dynamodb_index_items_by_item')
        .on('dynamodb_index_items')
        .columns(['table_name', 'pk', 'sk'])
        .execute();
      await db.schema
        .createTable('dynamodb_stream_counters')
        .addColumn('table_name', 'text', (c) => c.primaryKey())
        .addColumn('last_seq', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('dynamodb_stream_records')
        .addColumn('stream_arn', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('table_name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        // JSON: the record in the DynamoDB Streams API shape.
        .addColumn('record', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('dynamodb_stream_records_pk', ['stream_arn', 'seq'])
        .execute();
      await db.schema
        .createIndex('dynamodb_stream_records_by_age')
        .on('dynamodb_stream_records')
        .column('created_at')
        .execute();
      await db.schema
        .createTable('dynamodb_transaction_tokens')
        .addColumn('token', 'text', (c) => c.primaryKey())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('dynamodb_transaction_tokens').execute();
      await db.schema.dropTable('dynamodb_stream_records').execute();
      await db.schema.dropTable('dynamodb_stream_counters').execute();
      await db.schema.dropTable('dynamodb_index_items').execute();
    },
  };
}
