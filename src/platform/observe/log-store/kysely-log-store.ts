import { CompiledQuery, type Kysely, type Selectable, SqliteAdapter, sql } from 'kysely';
import type { LogEvent } from '../../../model/invocation.js';
import type { Database, LogEventsTable } from '../../../store/schema.js';
import { forgoSync } from '../../../store/sqlite.js';
import type { LogQuery, LogStore, RetentionScope, StoredLogEvent } from '../log-store.js';

/**
 * The LogStore on the store's own Kysely handle (SQLite or PostgreSQL). It does not own the
 * handle: the Store closes it.
 */
export class KyselyLogStore implements LogStore {
  readonly #db: Kysely<Database>;
  readonly #sqlite: boolean;
  readonly #insertSqlBySize = new Map<number, string>();

  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.#sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  }

  /**
   * The lines in chunks of a few fixed sizes, so the statements are compiled once per size and
   * (SQLite) prepared once; on SQLite they commit without an fsync of their own (see
   * #relaxedSync).
   */
  async append(events: LogEvent[]): Promise<number[]> {
    if (events.length === 0) return [];
    if (this.#sqlite) {
      return this.#db.connection().execute((conn) => this.#relaxedSync(conn, events));
    }
    return this.#insertAll(this.#db, events);
  }

  async #insertAll(db: Kysely<Database>, events: LogEvent[]): Promise<number[]> {
    const ids: number[] = [];
    let at = 0;
    while (at < events.length) {
      const left = events.length - at;
      const size = chunkSizes.find((n) => n <= left) as number;
      const params: unknown[] = [];
      for (let i = at; i < at + size; i++) {
        const e = events[i] as LogEvent;
        params.push(
          e.functionName,
          e.version,
          e.logStream,
          e.requestId ?? null,
          e.timestamp,
          e.message,
        );
      }
      const result = await db.executeQuery<{ id: number }>(
        CompiledQuery.raw(this.#insertSql(size), params),
      );
      // RETURNING order is not promised for multi-row inserts; ids are, being generated in order.
      ids.push(...result.rows.map((r) => Number(r.id)).sort((a, b) => a - b));
      at += size;
    }
    return ids;
  }

  /**
   * Log lines are best effort (buffered, dropped when the store falls behind): on SQLite they
   * commit with synchronous=NORMAL, which in WAL mode skips SQLite's fsync (5 ms on a typical
   * disk, on the event loop, stalling every request in flight). With the store's default
   * (`full`, kept by a WAL sync off the event loop: sqlite-durable-dialect.ts) the connection
   * already runs with NORMAL and the batch forgoes the WAL sync of its release (forgoSync): a
   * sync per batch raised the server's CPU per warm request from ~185 to ~300 µs (the system time
   * of fdatasync, bench/warm-cpu.mjs).
   */
  async #relaxedSync(conn: Kysely<Database>, events: LogEvent[]): Promise<number[]> {
    const before = await sql<{ synchronous: number }>`pragma synchronous`.execute(conn);
    const level = before.rows[0]?.synchronous ?? 2;
    await sql`pragma synchronous = 1`.execute(conn);
    let ids: number[];
    try {
      ids = await this.#insertAll(conn, events);
    } finally {
      await sql.raw(`pragma synchronous = ${Number(level)}`).execute(conn);
    }
    // Last in the connection use: every statement above counts as a write to sync.
    forgoSync(this.#db);
    return ids;
  }

  #insertSql(rows: number): string {
    let text = this.#insertSqlBySize.get(rows);
    if (!text) {
      const row = toRow({
        functionName: '',
        version: '',
        logStream: '',
        timestamp: 0,
        message: '',
      });
      text = this.#db
        .insertInto('log_events')
        .values(Array.from({ length: rows }, () => row))
        .returning('id')
        .compile().sql;
      this.#insertSqlBySize.set(rows, text);
    }
    return text;
  }

  async query(q: LogQuery): Promise<StoredLogEvent[]> {
    let query = this.#db
      .selectFrom('log_events')
      .selectAll()
      .where('function_name', '=', q.functionName);
    if (q.after !== undefined) query = query.where('id', '>', q.after);
    if (q.before !== undefined) query = query.where('id', '<', q.before);
    if (q.startTime !== undefined) query = query.where('timestamp', '>=', q.startTime);
    if (q.endTime !== undefined) query = query.where('timestamp', '<=', q.endTime);
    if (q.filter) {
      // replace() is case-sensitive and literal in both dialects (LIKE is neither in SQLite, and
      // would need % and _ escaped): the message contains the term iff removing it changes it.
      query = query.where(sql<boolean>`replace(message, ${q.filter}, '') <> message`);
    }
    const rows = await query.orderBy('id', 'asc').limit(q.limit).execute();
    return rows.map(toEvent);
  }

  async deleteOlderThan(cutoffMs: number, scope: RetentionScope = {}): Promise<number> {
    let q = this.#db.deleteFrom('log_events').where('timestamp', '<', cutoffMs);
    if (scope.functionName !== undefined) q = q.where('function_name', '=', scope.functionName);
    if (scope.except && scope.except.length > 0) {
      q = q.where('function_name', 'not in', [...scope.except]);
    }
    const result = await q.executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/**
 * Rows per INSERT, largest first: a batch is cut into these, so there are five statements to
 * compile and prepare, not one per batch length. 6 bind parameters a row: 1,536 at most, far
 * below either dialect's cap on one statement.
 */
const chunkSizes = [256, 64, 16, 4, 1];

function toRow(e: LogEvent) {
  return {
    function_name: e.functionName,
    version: e.version,
    log_stream: e.logStream,
    request_id: e.requestId ?? null,
    timestamp: e.timestamp,
    message: e.message,
  };
}

function toEvent(row: Selectable<LogEventsTable>): StoredLogEvent {
  const event: StoredLogEvent = {
    id: row.id,
    functionName: row.function_name,
    version: row.version,
    logStream: row.log_stream,
    timestamp: row.timestamp,
    message: row.message,
  };
  if (row.request_id !== null) event.requestId = row.request_id;
  return event;
}
