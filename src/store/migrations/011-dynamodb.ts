import type { Kysely, Migration } from 'kysely';
import type { SqlFlavor } from './sql-flavor.js';

/**
 * DynamoDB tables and items (docs/dynamodb.md). A table's description (key schema, attribute
 * definitions, ARN) is JSON. Items are keyed by their partition and sort key values encoded to
 * bytes that sort as DynamoDB orders keys (src/services/dynamodb/table-schema.ts); BLOB / BYTEA
 * compare byte-wise whatever the database locale. `sk` is empty for tables without a sort key.
 */
export function dynamodbMigration(flavor: SqlFlavor): Migration {
  const binary = flavor === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('dynamodb_tables')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('dynamodb_items')
        .addColumn('table_name', 'text', (c) =>
          c.notNull().references('dynamodb_tables.name').onDelete('cascade'),
        )
        .addColumn('pk', binary, (c) => c.notNull())
        .addColumn('sk', binary, (c) => c.notNull())
        // JSON: the item in DynamoDB's wire shape.
        .addColumn('item', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('dynamodb_items_pk', ['table_name', 'pk', 'sk'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('dynamodb_items').execute();
      await db.schema.dropTable('dynamodb_tables').execute();
    },
  };
}
