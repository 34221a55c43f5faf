import type { Kysely, Migration } from 'kysely';

/**
 * SRP verifiers for user-pool users (USER_SRP_AUTH, docs/cognito.md): the per-user salt and
 * v = g^x mod N, sealed with the master key. Null for passwords set before this migration;
 * such users get one the next time their password is set or checked in clear.
 */
export function cognitoSrpMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('cognito_users').addColumn('srp_verifier', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('cognito_users').dropColumn('srp_verifier').execute();
    },
  };
}
