import type { ColumnDefinitionBuilder } from 'kysely';

/**
 * The one thing the migrations cannot say portably through Kysely's schema builder: a generated
 * integer key. Everything else is the same SQL for both dialects.
 */
export type SqlFlavor = 'sqlite' | 'postgres';

/**
 * SQLite: AUTOINCREMENT so ids of deleted rows are never handed out again (a stale id in a cache
 * must not silently name a different function). PostgreSQL: an identity column, same guarantee.
 */
export function generatedId(flavor: SqlFlavor) {
  return (col: ColumnDefinitionBuilder): ColumnDefinitionBuilder =>
    flavor === 'sqlite'
      ? col.primaryKey().autoIncrement()
      : col.primaryKey().generatedByDefaultAsIdentity();
}
