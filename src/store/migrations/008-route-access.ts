import type { Kysely, Migration } from 'kysely';

/**
 * Route access control (docs/authorizers.md): scopes on access keys (a key limited to a service,
 * a stage, some functions, or reads), the stages' API keys (values sealed like access-key
 * secrets, kept across deploys so a generated key does not change), and usage-plan quota
 * counters, one row per key and period, so a quota survives a restart.
 */
export function routeAccessMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('access_keys').addColumn('scope_service', 'text').execute();
      await db.schema.alterTable('access_keys').addColumn('scope_stage', 'text').execute();
      // JSON list of function keys or deployed names; null: every function.
      await db.schema.alterTable('access_keys').addColumn('scope_functions', 'text').execute();
      await db.schema
        .alterTable('access_keys')
        .addColumn('read_only', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('sealed_value', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('api_keys_stage_name', ['service', 'stage', 'name'])
        .execute();
      await db.schema
        .createTable('api_key_usage')
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('period_start', 'text', (c) => c.notNull())
        .addColumn('used', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('api_key_usage_pk', ['key_id', 'period_start'])
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('api_key_usage').execute();
      await db.schema.dropTable('api_keys').execute();
      for (const column of ['read_only', 'scope_functions', 'scope_stage', 'scope_service']) {
        await db.schema.alterTable('access_keys').dropColumn(column).execute();
      }
    },
  };
}
