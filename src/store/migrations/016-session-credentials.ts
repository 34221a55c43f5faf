import type { Kysely, Migration } from 'kysely';

/**
 * Short-lived credentials handed to function processes (the execution role's equivalent):
 * `NIMS` + 16 access key ids, the secret sealed under the master key like access keys', the
 * session token only as its SHA-256 (it is compared, never used as a key), the {service, stage}
 * they are scoped to, and when they stop working (epoch ms).
 */
export function sessionCredentialsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('session_credentials')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('sealed_secret', 'text', (c) => c.notNull())
        .addColumn('token_sha256', 'text', (c) => c.notNull())
        .addColumn('scope_service', 'text', (c) => c.notNull())
        .addColumn('scope_stage', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('session_credentials_expiry')
        .on('session_credentials')
        .column('expires_at')
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('session_credentials').execute();
    },
  };
}
