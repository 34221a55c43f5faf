import { type Kysely, type Migration, sql } from 'kysely';
import type { SqlFlavor } from './sql-flavor.js';

/**
 * Rate-limit counters of a PostgreSQL store (docs/protection.md), in the layout
 * rate-limiter-flexible expects. They were created at start with CREATE TABLE IF NOT EXISTS,
 * which collides in the catalog when nodes start together (duplicate key on pg_type); as a
 * migration it runs under the store's migration lock. `if not exists`: stores that ran the old
 * start already have it. On SQLite counters live in memory, so there is no table.
 */
export function rateLimitCountersMigration(flavor: SqlFlavor): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (flavor !== 'postgres') return;
      await sql`create table if not exists nimbus_rate_limits (
        key varchar(255) primary key,
        points integer not null default 0,
        expire bigint
      )`.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      if (flavor !== 'postgres') return;
      await sql`drop table if exists nimbus_rate_limits`.execute(db);
    },
  };
}
