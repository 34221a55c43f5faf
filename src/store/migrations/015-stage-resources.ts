import type { Kysely, Migration } from 'kysely';

/**
 * What each service stage created from its `resources` (docs/resources.md): one row per
 * logical id, so a redeploy knows what to update or remove and `nimbus remove` what to delete.
 * Keyed by service and stage names, not the stage row: a bucket kept on remove (not empty)
 * outlives the stage and is taken back by its next deployment.
 */
export function stageResourcesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('stage_resources')
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('logical_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('physical_id', 'text', (c) => c.notNull())
        // JSON: the ProvisionedResource (properties, Ref and attribute values).
        .addColumn('record', 'text', (c) => c.notNull())
        // Creation order: removal runs in reverse, dependents first.
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('retain', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('stage_resources_pk', ['service', 'stage', 'logical_id'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('stage_resources').execute();
    },
  };
}
