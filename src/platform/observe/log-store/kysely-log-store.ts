import { type Kysely, type Selectable, sql } from 'kysely';
import type { LogEvent } from '../../../model/invocation.js';
import type { Database, LogEventsTable } from '../../../store/schema.js';
import type { LogQuery, LogStore, StoredLogEvent } from '../log-store.js';

/**
 * The LogStore on the store's own Kysely handle (SQLite or PostgreSQL). It does not own the
 * handle: the Store closes it.
 */
export class KyselyLogStore implements LogStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async append(events: LogEvent[]): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < events.length; i += insertChunk) {
      const rows = await this.#db
        .insertInto('log_events')
        .values(events.slice(i, i + insertChunk).map(toRow))
        .returning('id')
        .execute();
      // RETURNING order is not promised for multi-row inserts; ids are, being generated in order.
      ids.push(...rows.map((r) => r.id).sort((a, b) => a - b));
    }
    return ids;
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

  async deleteOlderThan(cutoffMs: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('log_events')
      .where('timestamp', '<', cutoffMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** 6 bind parameters a row: far below either dialect's cap on one statement. */
const insertChunk = 500;

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
