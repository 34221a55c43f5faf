import {
  type DatabaseConnection,
  type Driver,
  type QueryCompiler,
  SqliteDialect,
  type SqliteDialectConfig,
  type TransactionSettings,
} from 'kysely';
import type { WalFlusher } from './sqlite-wal-flusher.js';

/** Set by the connection when a statement that may write runs; read at release. */
export interface WriteTracker {
  wrote: boolean;
}

/**
 * Kysely's SQLite dialect, with synchronous=FULL's promise kept off the event loop: the
 * connection runs with synchronous=NORMAL, and a use of it that wrote (a transaction, or a
 * single statement) is answered only after the WAL flusher synced the log. The connection is
 * handed on before that sync, so the next transaction's statements run while the disk works,
 * and one sync answers every commit made while the previous one ran.
 *
 * Kysely awaits releaseConnection before it answers a transaction or a query, which is where
 * the wait goes. (A controlled transaction, db.startTransaction(), does not await it: the store
 * uses none.)
 */
export class DurableSqliteDialect extends SqliteDialect {
  readonly #flusher: WalFlusher;
  readonly #tracker: WriteTracker;

  constructor(config: SqliteDialectConfig, flusher: WalFlusher, tracker: WriteTracker) {
    super(config);
    this.#flusher = flusher;
    this.#tracker = tracker;
  }

  override createDriver(): Driver {
    return new DurableSqliteDriver(super.createDriver(), this.#flusher, this.#tracker);
  }
}

class DurableSqliteDriver implements Driver {
  readonly #inner: Driver;
  readonly #flusher: WalFlusher;
  readonly #tracker: WriteTracker;

  constructor(inner: Driver, flusher: WalFlusher, tracker: WriteTracker) {
    this.#inner = inner;
    this.#flusher = flusher;
    this.#tracker = tracker;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.#inner.acquireConnection();
    // Whatever the last holder wrote was flushed at its release.
    this.#tracker.wrote = false;
    return connection;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(connection);
  }

  savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    return this.#inner.savepoint!(connection, name, compile);
  }

  rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    return this.#inner.rollbackToSavepoint!(connection, name, compile);
  }

  releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    return this.#inner.releaseSavepoint!(connection, name, compile);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const wrote = this.#tracker.wrote;
    this.#tracker.wrote = false;
    await this.#inner.releaseConnection(connection);
    if (wrote) await this.#flusher.flush();
  }

  async destroy(): Promise<void> {
    await this.#flusher.close();
    await this.#inner.destroy();
  }
}
