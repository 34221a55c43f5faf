import { type Kysely, Migrator } from 'kysely';
import { migrationProvider, type SqlFlavor } from './migrations/index.js';

/**
 * Brings the database to the latest migration; already-applied migrations are skipped (Kysely
 * records them in kysely_migration and holds a lock while it runs, so concurrent nodes are safe).
 *
 * `schema` places Kysely's own bookkeeping tables; pass the PostgreSQL schema the store lives in,
 * otherwise Kysely would find another schema's kysely_migration and skip creating its own.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  opts: { flavor: SqlFlavor; schema?: string },
): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: migrationProvider(opts.flavor),
    ...(opts.schema === undefined ? {} : { migrationTableSchema: opts.schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? '(setup)';
    throw new Error(`store migration ${failed} failed: ${String(error)}`, { cause: error });
  }
}
