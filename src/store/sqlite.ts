import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { KyselyStore } from './kysely-store.js';
import { migrateToLatest } from './migrate.js';
import type { Database } from './schema.js';
import type { Store } from './store.js';

/** How long a statement waits for another process's write lock before SQLITE_BUSY. */
const busyTimeoutMs = 5000;

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
  // hold for every query and transaction.
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  try {
    await migrateToLatest(db as Kysely<unknown>, { flavor: 'sqlite' });
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}
