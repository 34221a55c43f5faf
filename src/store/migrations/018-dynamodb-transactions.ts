import type { Kysely, Migration } from 'kysely';

/**
 * TransactWriteItems' `ClientRequestToken`s (docs/dynamodb.md): a token seen in the last ten
 * minutes answers the same request again without applying it twice, and refuses a different one.
 * `request_hash` is a digest of the request's parameters; rows older than ten minutes are dead and
 * replaced on the next use of their token.
 */
export function dynamodbTransactionsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('dynamodb_transaction_tokens')
        .addColumn('token', 'text', (c) => c.primaryKey())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('dynamodb_transaction_tokens').execute();
    },
  };
}
