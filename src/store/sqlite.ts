import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, type SqliteDatabase, SqliteDialect } from 'kysely';
import { KyselyStore } from './kysely-store.js';
import { migrateToLatest } from './migrate.js';
import type { Database } from './schema.js';
import type { Store } from './store.js';

/** How long a statement waits for another process's write lock before SQLITE_BUSY. */
const busyTimeoutMs = 5000;

/** Distinct SQL texts whose prepared statements are kept (least recently used go first). */
const statementCacheSize = 500;

/**
 * The database as Kysely's SQLite driver sees it, with prepare() answered from a cache of
 * prepared statements keyed by SQL text. Kysely prepares on every execution, which costs more
 * than running a small statement; values are always bound, so the hot statements are a few
 * hundred texts at most. Reusing a statement is safe here: the driver runs one query at a time
 * on this connection (its mutex), and SQLite re-prepares a statement a migration made stale.
 */
export function withStatementCache(
  database: BetterSqlite3.Database,
  max = statementCacheSize,
): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare: (text: string) => {
      let stmt = cache.get(text);
      if (stmt) {
        // Most recently used last: Map keeps insertion order.
        cache.delete(text);
      } else {
        stmt = database.prepare(text);
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      }
      cache.set(text, stmt);
      return stmt as unknown as ReturnType<SqliteDatabase['prepare']>;
    },
  };
}

/** The embedded store: one SQLite file, created (with its directory) and migrated on open. */
export async function openSqliteStore(opts: { file: string }): Promise<Store> {
  return new KyselyStore(await openSqliteDatabase(opts));
}

/** The migrated Kysely handle itself, for repositories beside the Store (keys, logs). */
export async function openSqliteDatabase(opts: { file: string }): Promise<Kysely<Database>> {
  await mkdir(dirname(opts.file), { recursive: true });
  const database = new BetterSqlite3(opts.file);
  try {
    // WAL: readers (a CLI inspecting the file, a backup) never block the server's writes.
    database.pragma('journal_mode = WAL');
    // An accepted async event (a 202) must survive a power loss, not only a crash of the
    // process: fsync every commit. Group commit (group-commit.ts) keeps that affordable.
    database.pragma('synchronous = FULL');
    // Off by default in SQLite, and the cascades of deleteStage/deleteFunction depend on it.
    database.pragma('foreign_keys = ON');
    database.pragma(`busy_timeout = ${busyTimeoutMs}`);
  } catch (err) {
    database.close();
    throw err;
  }
  // Kysely's SQLite driver serializes everything on this one connection, so the pragmas above
  // hold for every query and transaction. It prepares every query it runs: the cache below
  // makes that once per distinct SQL text (docs/performance.md).
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(database) }),
  });
  try {
    await migrateToLatest(db as Kysely<unknown>, { flavor: 'sqlite' });
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}
