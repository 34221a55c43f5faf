import type { Kysely, Migration } from 'kysely';
import { generatedId, type SqlFlavor } from './sql-flavor.js';

/** Stages, functions, versions, aliases and deployments. */
export function initialMigration(flavor: SqlFlavor): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('stages')
        .addColumn('id', 'integer', generatedId(flavor))
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('stages_service_stage_key', ['service', 'stage'])
        .execute();

      await db.schema
        .createTable('functions')
        .addColumn('id', 'integer', generatedId(flavor))
        .addColumn('stage_id', 'integer', (c) =>
          c.notNull().references('stages.id').onDelete('cascade'),
        )
        .addColumn('key', 'text', (c) => c.notNull())
        // Deployed names are global: the gateway and the Invoke API address functions by name.
        .addColumn('name', 'text', (c) => c.notNull().unique())
        // Also serves as the index for listFunctions(stageId).
        .addUniqueConstraint('functions_stage_key_key', ['stage_id', 'key'])
        .execute();

      await db.schema
        .createTable('function_versions')
        .addColumn('function_id', 'integer', (c) =>
          c.notNull().references('functions.id').onDelete('cascade'),
        )
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('code_sha256', 'text', (c) => c.notNull())
        .addColumn('code_size', 'bigint', (c) => c.notNull())
        .addColumn('config_sha256', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('function_versions_pkey', ['function_id', 'version'])
        .execute();

      // An alias must point at an existing version; the composite key also carries the cascade
      // from functions (function -> versions -> aliases).
      await db.schema
        .createTable('aliases')
        .addColumn('function_id', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('aliases_pkey', ['function_id', 'name'])
        .addForeignKeyConstraint(
          'aliases_version_fkey',
          ['function_id', 'version'],
          'function_versions',
          ['function_id', 'version'],
          (fk) => fk.onDelete('cascade'),
        )
        .execute();
      // The foreign key's columns are not a prefix of the primary key: index them so deleting
      // a version does not scan every alias.
      await db.schema
        .createIndex('aliases_version_idx')
        .on('aliases')
        .columns(['function_id', 'version'])
        .execute();

      await db.schema
        .createTable('deployments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('stage_id', 'integer', (c) =>
          c.notNull().references('stages.id').onDelete('cascade'),
        )
        .addColumn('timestamp', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('functions', 'text', (c) => c.notNull())
        .addColumn('artifacts', 'text', (c) => c.notNull())
        .execute();
      // Unique because the port promises timestamps unique per stage; it also orders
      // listDeployments without a sort.
      await db.schema
        .createIndex('deployments_stage_timestamp_idx')
        .on('deployments')
        .columns(['stage_id', 'timestamp'])
        .unique()
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of ['deployments', 'aliases', 'function_versions', 'functions', 'stages']) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}
