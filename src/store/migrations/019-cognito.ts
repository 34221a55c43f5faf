import type { Kysely, Migration } from 'kysely';

/**
 * Cognito-compatible user pools (docs/cognito.md): pools, app clients, users, groups, one-time
 * codes (hashed), sign-in sessions with their refresh tokens (hashed), challenge sessions
 * (hashed), signing keys (private halves sealed with the master key) and the message outbox.
 * Times are epoch milliseconds; structured settings are JSON text.
 */
export function cognitoMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('cognito_pools')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('modified_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('cognito_clients')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', (c) =>
          c.notNull().references('cognito_pools.id').onDelete('cascade'),
        )
        .addColumn('name', 'text', (c) => c.notNull())
        // Sealed with the master key (context: the client id); null without GenerateSecret.
        .addColumn('secret', 'text')
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('modified_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('cognito_users')
        .addColumn('pool_id', 'text', (c) =>
          c.notNull().references('cognito_pools.id').onDelete('cascade'),
        )
        // The username as the pool compares it (lower-cased in case-insensitive pools).
        .addColumn('username_key', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('sub', 'text', (c) => c.notNull())
        // Lower-cased, for sign-in by email in pools whose usernames are emails.
        .addColumn('email', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('password_hash', 'text')
        .addColumn('attributes', 'text', (c) => c.notNull())
        .addColumn('failed_attempts', 'integer', (c) => c.notNull())
        .addColumn('last_failure_at', 'bigint')
        .addColumn('locked_until', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('modified_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('cognito_users_pk', ['pool_id', 'username_key'])
        .execute();
      await db.schema
        .createIndex('cognito_users_email_idx')
        .on('cognito_users')
        .columns(['pool_id', 'email'])
        .execute();
      await db.schema
        .createIndex('cognito_users_sub_idx')
        .on('cognito_users')
        .columns(['pool_id', 'sub'])
        .execute();
      await db.schema
        .createTable('cognito_groups')
        .addColumn('pool_id', 'text', (c) =>
          c.notNull().references('cognito_pools.id').onDelete('cascade'),
        )
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('precedence', 'integer')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('cognito_groups_pk', ['pool_id', 'name'])
        .execute();
      await db.schema
        .createTable('cognito_group_members')
        .addColumn('pool_id', 'text', (c) => c.notNull())
        .addColumn('group_name', 'text', (c) => c.notNull())
        .addColumn('sub', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('cognito_group_members_pk', ['pool_id', 'group_name', 'sub'])
        .execute();
      await db.schema
        .createTable('cognito_codes')
        .addColumn('pool_id', 'text', (c) => c.notNull())
        .addColumn('sub', 'text', (c) => c.notNull())
        // signup, reset, or verify:<attribute>
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('cognito_codes_pk', ['pool_id', 'sub', 'purpose'])
        .execute();
      await db.schema
        .createTable('cognito_sessions')
        // origin_jti of the tokens issued in this sign-in.
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('sub', 'text', (c) => c.notNull())
        .addColumn('refresh_hash', 'text', (c) => c.notNull().unique())
        .addColumn('auth_time', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('cognito_sessions_user_idx')
        .on('cognito_sessions')
        .columns(['pool_id', 'sub'])
        .execute();
      await db.schema
        .createTable('cognito_challenges')
        .addColumn('session_hash', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('sub', 'text', (c) => c.notNull())
        .addColumn('challenge', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('cognito_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', (c) =>
          c.notNull().references('cognito_pools.id').onDelete('cascade'),
        )
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        // Sealed with the master key (context: the kid).
        .addColumn('private_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('cognito_outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('pool_id', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('destination', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of [
        'cognito_outbox',
        'cognito_keys',
        'cognito_challenges',
        'cognito_sessions',
        'cognito_codes',
        'cognito_group_members',
        'cognito_groups',
        'cognito_users',
        'cognito_clients',
        'cognito_pools',
      ]) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}
