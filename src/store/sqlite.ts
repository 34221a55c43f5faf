import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { type Dialect, Kysely, SqliteDialect } from 'kysely';
import { KyselyStore } from './kysely-store.js';
import { migrateToLatest } from './migrate.js';
import type { Database } from './schema.js';
import { fallbackAutocheckpointPages, startCheckpointer } from './sqlite-checkpointer.js';
import { DurableSqliteDialect, type WriteTracker } from './sqlite-durable-dialect.js';
import { WalFlusher } from './sqlite-wal-flusher.js';
import type { Store } from './store.js';

/** How long a statement waits for another process's write lock before SQLITE_BUSY. */
const busyTimeoutMs = 5000;

/**
 * When SQLite waits for the disk (`nimbus server --sqlite-synchronous`, docs/storage.md):
 * - `full` (default): every commit is fsynced before it is answered, so what was accepted
 *   survives a power loss or an OS crash.
 * - `normal`: in WAL mode, commits are not fsynced (the WAL is, at checkpoints): what was
 *   accepted survives a crash or kill -9 of the process, but the last commits may be lost on a
 *   power loss or an OS crash. The durability of most local emulators (dynalite's LevelDB).
 */
export type SqliteSynchronous = 'full' | 'normal';

export interface SqliteOptions {
  file: string;
  synchronous?: SqliteSynchronous;
}

/** The embedded store: one SQLite file, created (with its directory) and migrated on open. */
export async function openSqliteStore(opts: SqliteOptions): Promise<Store> {
  return new KyselyStore(await openSqliteDatabase(opts));
}

/** The migrated Kysely handle itself, for repositories beside the Store (keys, logs). */
export async function openSqliteDatabase(opts: SqliteOptions): Promise<Kysely<Database>> {
  await mkdir(dirname(opts.file), { recursive: true });
  const database = new BetterSqlite3(opts.file);
  const full = opts.synchronous !== 'normal';
  let wal = false;
  try {
    // WAL: readers (a CLI inspecting the file, a backup) never block the server's writes.
    wal = database.pragma('journal_mode = WAL', { simple: true }) === 'wal';
    // By default an accepted async event (a 202) must survive a power loss, not only a crash of
    // the process: every commit is synced before it is answered. In WAL mode the sync is ours,
    // off the event loop (sqlite-durable-dialect.ts), and SQLite itself runs with NORMAL;
    // otherwise (a file system without WAL) SQLite syncs inside the commit (FULL).
    database.pragma(`synchronous = ${full && !wal ? 'FULL' : 'NORMAL'}`);
    // Off by default in SQLite, and the cascades of deleteStage/deleteFunction depend on it.
    database.pragma('foreign_keys = ON');
    database.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Checkpoints run in a worker (sqlite-checkpointer.ts); this is only the bound behind it.
    database.pragma(`wal_autocheckpoint = ${fallbackAutocheckpointPages}`);
  } catch (err) {
    database.close();
    throw err;
  }
  // Kysely's SQLite driver serializes everything on this one connection, so the pragmas above
  // hold for every query and transaction.
  const checkpointer = startCheckpointer(opts.file, full ? 'FULL' : 'NORMAL');
  const tracker: WriteTracker = { wrote: false };
  const ownWrites: WriteCount = { count: 0 };
  const statements = withStatementCache(database, tracker, ownWrites);
  const config = { database: statements };
  const flusher = full && wal ? new WalFlusher(opts.file) : undefined;
  const db = new Kysely<Database>({
    dialect: closingAfter(
      flusher ? new DurableSqliteDialect(config, flusher, tracker) : new SqliteDialect(config),
      () => checkpointer.close(),
    ),
  });
  if (flusher) {
    flushers.set(db, flusher);
    trackers.set(db, tracker);
  }
  directReaders.set(db, (sqlText, parameters) => {
    if (database.inTransaction) return undefined;
    const statement = statements.prepare(sqlText);
    if (!statement.readonly) throw new Error(`not a read: ${sqlText}`);
    return statement.all(parameters);
  });
  const dataVersion = database.prepare('PRAGMA data_version').pluck();
  foreignCommits.set(
    db,
    oncePerTask(() => Number(dataVersion.get()), ownWrites),
  );
  try {
    await migrateToLatest(db as Kysely<unknown>, { flavor: 'sqlite' });
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}

/**
 * Statements that may write or end a transaction, prepared by any handle of this process
 * (withStatementCache): a commit by one handle is made by such a statement, run right after it
 * is prepared.
 */
let localWrites = 0;

/** The same count for one handle: its own commits never move its data_version. */
interface WriteCount {
  count: number;
}

/** SQLite calls COMMIT read-only (it writes nothing itself): a statement with no rows counts too. */
function noteIfWriting(statement: BetterSqlite3.Statement, own: WriteCount): void {
  if (!statement.readonly || !statement.reader) {
    localWrites += 1;
    own.count += 1;
  }
}

/**
 * `read` (the data_version pragma) at most once per task of the event loop: a reading is kept
 * until the microtasks of the task that took it have run (process.nextTick, queued from a
 * promise job, runs once the microtask queue is empty), or until another handle of this process
 * prepares a statement that may write. The exact caches read it before every answer from
 * memory, several times a request; the pragma was 6% of the server's busy time under the
 * DynamoDB bench. The handle's own writes leave the reading alone: SQLite moves a connection's
 * data_version only for other connections' commits. Under writes, counting them too re-read
 * the pragma at every cache lookup (10% of a PutItem load's busy time).
 *
 * Why a kept reading is still exact: a request that must see another process's commit (its
 * client saw the commit return, then sent it) was sent after that commit, so its bytes were
 * read from the socket after it too; the task that read them, and every later task of the
 * request, starts after that read, and a reading taken in it is taken later still. A commit
 * within the same task can come only from this process, through a handle whose write clears
 * the reading first (two handles on one file in one process: tests, tools). A commit that
 * lands elsewhere while a task runs is concurrent with every request that task serves, which
 * may be ordered before it.
 */
function oncePerTask(read: () => number, own: WriteCount): () => number {
  let kept: number | undefined;
  let keptAt = 0;
  const forget = () => {
    kept = undefined;
  };
  return () => {
    const othersWrites = localWrites - own.count;
    if (kept !== undefined && keptAt === othersWrites) return kept;
    // A throw (connection closed) keeps nothing.
    const value = read();
    if (kept === undefined) process.nextTick(forget);
    kept = value;
    keptAt = othersWrites;
    return value;
  };
}

const flushers = new WeakMap<Kysely<Database>, WalFlusher>();
const trackers = new WeakMap<Kysely<Database>, WriteTracker>();
const foreignCommits = new WeakMap<object, () => number>();
const directReaders = new WeakMap<object, DirectReader>();

/**
 * Runs a read-only statement at once, synchronously, on the handle's own connection: its rows,
 * or undefined while a transaction is open on that connection (a group commit's batch spans
 * many turns of the event loop, and its writes are not committed yet: the caller then reads
 * through Kysely, which waits its turn for the connection, as before). Outside a transaction
 * the connection shows what is committed, exactly what a read queued behind the others would
 * see once its turn came. Kysely's path costs a dozen promise hops per query, more CPU than
 * SQLite takes to answer a read by key.
 */
export type DirectReader = (
  sqlText: string,
  parameters: readonly unknown[],
) => unknown[] | undefined;

/** The direct reader of a handle openSqliteDatabase opened; undefined for any other. */
export function directReader(db: object): DirectReader | undefined {
  return directReaders.get(db);
}

/**
 * A number that changes whenever another connection commits to the handle's database file
 * (another process on the same data dir, a script with the sqlite3 shell): SQLite's
 * `PRAGMA data_version`, read on the handle's own connection by a prepared statement (it opens
 * a read of the WAL index, as any statement does, but runs no query). Commits made through the
 * handle itself leave it alone. Read at most once per task of the event loop (oncePerTask).
 * Undefined for a handle openSqliteDatabase did not open (PostgreSQL, a test's own Kysely).
 * What the exact row caches (exact-row-cache.ts) rest on.
 */
export function foreignCommitCounter(db: object): (() => number) | undefined {
  return foreignCommits.get(db);
}

/**
 * Called inside a connection use (`db.connection().execute(...)`) whose writes are best effort
 * (log lines): its release does not wait for a WAL sync of its own. The rows become durable with
 * the next sync anyone makes, as under synchronous=NORMAL. A no-op where SQLite syncs inside its
 * commits.
 */
export function forgoSync(db: Kysely<Database>): void {
  const tracker = trackers.get(db);
  if (tracker) tracker.wrote = false;
}

/**
 * The WAL syncs a handle ran, and the commits they answered; undefined when SQLite syncs inside
 * its commits (synchronous=normal, or no WAL). For tests and metrics.
 */
export function walSyncStats(db: Kysely<Database>): { syncs: number; callers: number } | undefined {
  const stats = flushers.get(db)?.stats;
  return stats ? { ...stats } : undefined;
}

/** Prepared statements kept per connection; past this, the least recently used one goes. */
const statementCacheSize = 500;

/**
 * The connection as Kysely's driver sees it, preparing each distinct SQL text once: the driver
 * calls prepare() for every query, and compiling the statement was a tenth of a DynamoDB
 * GetItem's CPU. Kysely runs one query at a time on the connection; a statement still being
 * iterated (a streamed select) is never handed out twice: a busy one is prepared afresh.
 */
function withStatementCache(
  database: BetterSqlite3.Database,
  tracker: WriteTracker,
  ownWrites: WriteCount,
) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare(sqlText: string): BetterSqlite3.Statement {
      const cached = cache.get(sqlText);
      if (cached !== undefined && !cached.busy) {
        // Most recently used last, so the first key is the one to evict.
        cache.delete(sqlText);
        cache.set(sqlText, cached);
        // The driver runs what it prepares at once: a statement that may write needs a sync.
        if (!cached.readonly) tracker.wrote = true;
        noteIfWriting(cached, ownWrites);
        return cached;
      }
      const statement = database.prepare(sqlText);
      if (!statement.readonly) tracker.wrote = true;
      noteIfWriting(statement, ownWrites);
      if (cached === undefined) {
        cache.set(sqlText, statement);
        if (cache.size > statementCacheSize) cache.delete(cache.keys().next().value as string);
      }
      return statement;
    },
  };
}

/**
 * `dialect` whose driver, once destroyed (db.destroy(): the connection closed), also awaits
 * `after`: the checkpoint worker's connection is closed before the store says it is, so a
 * caller that removes the data dir next (a test, `nimbus remove` of a local run) never races
 * SQLite deleting its -wal and -shm files.
 */
function closingAfter(dialect: Dialect, after: () => Promise<void>): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: () => {
      const driver = dialect.createDriver();
      const destroy = driver.destroy.bind(driver);
      return Object.assign(driver, {
        destroy: async () => {
          await destroy();
          await after();
        },
      });
    },
  };
}
