import type { Kysely, Migration } from 'kysely';

/**
 * Lambda layers (docs/layers.md): each published version of a layer, its zip a content-addressed
 * blob as function code is. `layers` keeps each name's last version number, so a deleted version's
 * number is never handed out again (Lambda's rule).
 */
export function layersMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('layers')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('last_version', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('layer_versions')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('code_sha256', 'text', (c) => c.notNull())
        .addColumn('code_size', 'bigint', (c) => c.notNull())
        .addColumn('unzipped_size', 'bigint', (c) => c.notNull())
        // JSON: description, compatibleRuntimes, compatibleArchitectures, licenseInfo.
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('config_sha256', 'text', (c) => c.notNull())
        // `<service>/<stage>` for a serverless.yml layer; null for one published through the API.
        .addColumn('owner', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('layer_versions_pk', ['name', 'version'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('layer_versions').execute();
      await db.schema.dropTable('layers').execute();
    },
  };
}
