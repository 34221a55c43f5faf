import type { Kysely, Migration } from 'kysely';

/**
 * Event source mappings (docs/lambda-api.md, docs/sqs.md#events): from serverless.yml `sqs`
 * events (origin `deploy`, tied to their service stage) and from CreateEventSourceMapping
 * (origin `api`). `settings` is JSON of MappingSettings. One mapping per function and source,
 * as Lambda refuses a second one.
 */
export function eventSourceMappingsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('event_source_mappings')
        .addColumn('uuid', 'text', (c) => c.primaryKey())
        .addColumn('function_name', 'text', (c) => c.notNull())
        .addColumn('qualifier', 'text')
        .addColumn('source_arn', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('service', 'text')
        .addColumn('stage', 'text')
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('last_modified', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('event_source_mappings_target_idx')
        .on('event_source_mappings')
        .columns(['function_name', 'source_arn'])
        .unique()
        .execute();
      await db.schema
        .createIndex('event_source_mappings_stage_idx')
        .on('event_source_mappings')
        .columns(['service', 'stage'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('event_source_mappings').execute();
    },
  };
}
