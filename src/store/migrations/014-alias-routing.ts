import type { Kysely, Migration } from 'kysely';

/**
 * Lambda's alias RoutingConfig and Description. `routing` is JSON of AdditionalVersionWeights
 * (version -> weight in 0..1), null when the alias sends everything to its version.
 */
export function aliasRoutingMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('aliases').addColumn('routing', 'text').execute();
      await db.schema.alterTable('aliases').addColumn('description', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('aliases').dropColumn('description').execute();
      await db.schema.alterTable('aliases').dropColumn('routing').execute();
    },
  };
}
