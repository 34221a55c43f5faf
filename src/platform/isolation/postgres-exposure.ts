import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';

/**
 * Function processes share the host's network, so a PostgreSQL store that lets anyone on it in
 * (trust authentication, a URL without a password) is open to every function, and as superuser
 * it hands them the host too (COPY ... PROGRAM). Start-up says so; docs/security.md says what to
 * do. A warning, not a refusal: the PostgreSQL of a test machine or a private socket may be fine.
 */
export async function warnAboutPostgresExposure(
  // biome-ignore lint/suspicious/noExplicitAny: any store schema; the query reads only pg_roles
  db: Kysely<any>,
  databaseUrl: string,
  logger: Logger,
): Promise<void> {
  let hasPassword = false;
  try {
    hasPassword = new URL(databaseUrl).password !== '';
  } catch {
    // A URL the driver took but URL cannot parse: say nothing about its password.
    hasPassword = true;
  }
  let superuser = false;
  try {
    const { rows } = await sql<{
      rolsuper: boolean;
    }>`select rolsuper from pg_roles where rolname = current_user`.execute(db);
    superuser = rows[0]?.rolsuper === true;
  } catch (error) {
    logger.debug({ err: error }, 'could not tell whether the store role is a superuser');
  }
  if (!hasPassword) {
    logger.warn(
      'the PostgreSQL store URL has no password: if the server trusts connections without one, ' +
        'every function can connect to the store; require password (scram-sha-256) authentication (docs/security.md)',
    );
  }
  if (superuser) {
    logger.warn(
      'the PostgreSQL role Nimbus uses is a superuser: give it a role that only owns the Nimbus ' +
        'database or schema (docs/security.md)',
    );
  }
}
