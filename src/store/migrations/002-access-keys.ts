import type { Kysely, Migration } from 'kysely';

/**
 * Access keys for the Lambda Invoke API (SigV4). The secret is kept sealed (AES-256-GCM under the
 * platform master key), never in clear: SigV4 verification needs the secret itself, so it cannot
 * be hashed like a password.
 */
export function accessKeysMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('access_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('sealed_secret', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('access_keys').execute();
    },
  };
}
