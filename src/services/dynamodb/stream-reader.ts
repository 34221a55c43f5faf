/**
 * The read side of DynamoDB table streams, for whatever consumes them (the event-source engine
 * that delivers `stream` events to functions, the DynamoDB Streams API): records of one stream
 * in sequence order after a position, the stream's bounds (TRIM_HORIZON / LATEST), and the
 * 24-hour trim. Records are written by DynamoStore in the same transaction as the change, with
 * sequence numbers handed out in commit order, so reading "after N" never misses a record that
 * commits later with a smaller number.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../../model/clock.js';
import { type StreamRecord, streamRetentionMs } from './streams.js';
import type { TableDescriptionStored } from './table-schema.js';

interface StreamTables {
  dynamodb_tables: { name: string; description: string };
  dynamodb_stream_records: {
    stream_arn: string;
    seq: number | string;
    table_name: string;
    created_at: number | string;
    record: string;
  };
}

export interface StreamInfo {
  streamArn: string;
  streamLabel: string;
  tableName: string;
  /** False once the table's stream is disabled, replaced or the table deleted. */
  enabled: boolean;
  viewType?: string;
}

export class DynamoStreamReader {
  readonly #db: Kysely<StreamTables>;
  readonly #clock: Clock;
  constructor(db: unknown, clock: Clock) {
    this.#db = db as Kysely<StreamTables>;
    this.#clock = clock;
  }

  /** The current stream of a table, if it has one (also once disabled: its records stay). */
  async streamOfTable(tableName: string): Promise<StreamInfo | undefined> {
    const row = await this.#db
      .selectFrom('dynamodb_tables')
      .select('description')
      .where('name', '=', tableName)
      .executeTakeFirst();
    if (!row) return undefined;
    const d = JSON.parse(row.description) as TableDescriptionStored;
    if (!d.LatestStreamArn) return undefined;
    return {
      streamArn: d.LatestStreamArn,
      streamLabel: d.LatestStreamLabel!,
      tableName,
      enabled: d.StreamSpecification?.StreamEnabled === true,
      viewType: d.StreamSpecification?.StreamViewType,
    };
  }

  /**
   * The stream an ARN names: the table's current one, or an older one that still has records.
   * The platform is one region and one account, so an ARN with another region or account (a
   * serverless.yml's `provider.region` in `Fn::GetAtt [Table, StreamArn]`, a client configured
   * for another region) names the same stream; `streamArn` of the answer is the stored one,
   * which `read` and `bounds` take.
   */
  async stream(streamArn: string): Promise<StreamInfo | undefined> {
    const parsed = parseStreamArn(streamArn);
    if (!parsed) return undefined;
    const current = await this.streamOfTable(parsed.tableName);
    if (current && current.streamLabel === parsed.label) return current;
    const kept = await this.#db
      .selectFrom('dynamodb_stream_records')
      .select('stream_arn')
      .distinct()
      .where('table_name', '=', parsed.tableName)
      .execute();
    const older = kept.find((r) => parseStreamArn(r.stream_arn)?.label === parsed.label);
    return older
      ? {
          streamArn: older.stream_arn,
          streamLabel: parsed.label,
          tableName: parsed.tableName,
          enabled: false,
        }
      : undefined;
  }

  /** Up to `limit` records after sequence number `after` (all kept records when undefined). */
  async read(streamArn: string, after: string | undefined, limit: number): Promise<StreamRecord[]> {
    let q = this.#db
      .selectFrom('dynamodb_stream_records')
      .select('record')
      .where('stream_arn', '=', streamArn)
      .where('created_at', '>=', this.#clock.now() - streamRetentionMs);
    if (after !== undefined) q = q.where('seq', '>', Number(after));
    const rows = await q.orderBy('seq').limit(limit).execute();
    return rows.map((r) => JSON.parse(r.record) as StreamRecord);
  }

  /** The oldest kept and the latest sequence numbers (TRIM_HORIZON, LATEST), if any record. */
  async bounds(streamArn: string): Promise<{ oldest?: string; latest?: string }> {
    const row = await this.#db
      .selectFrom('dynamodb_stream_records')
      .select((eb) => [eb.fn.min('seq').as('oldest'), eb.fn.max('seq').as('latest')])
      .where('stream_arn', '=', streamArn)
      .where('created_at', '>=', this.#clock.now() - streamRetentionMs)
      .executeTakeFirst();
    const fmt = (v: unknown) =>
      v === null || v === undefined ? undefined : String(v).padStart(21, '0');
    return { oldest: fmt(row?.oldest), latest: fmt(row?.latest) };
  }

  /** Every stream with records kept, and every table's current stream; for ListStreams. */
  async streams(tableName?: string): Promise<StreamInfo[]> {
    let q = this.#db
      .selectFrom('dynamodb_stream_records')
      .select(['stream_arn', 'table_name'])
      .distinct();
    if (tableName !== undefined) q = q.where('table_name', '=', tableName);
    const kept = await q.execute();
    const out = new Map<string, StreamInfo>();
    for (const r of kept) {
      const s = await this.stream(r.stream_arn);
      if (s) out.set(s.streamArn, s);
    }
    let tables = this.#db.selectFrom('dynamodb_tables').select('name');
    if (tableName !== undefined) tables = tables.where('name', '=', tableName);
    for (const t of await tables.execute()) {
      const s = await this.streamOfTable(t.name);
      if (s) out.set(s.streamArn, s);
    }
    return [...out.values()].sort((a, b) => a.streamArn.localeCompare(b.streamArn));
  }

  /** Deletes records past the 24-hour retention; returns how many. */
  async trim(): Promise<number> {
    const r = await this.#db
      .deleteFrom('dynamodb_stream_records')
      .where('created_at', '<', this.#clock.now() - streamRetentionMs)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

/** `arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>` */
export function parseStreamArn(arn: string): { tableName: string; label: string } | undefined {
  const m = /^arn:aws:dynamodb:[^:]*:[^:]*:table\/([a-zA-Z0-9_.-]{3,255})\/stream\/(.+)$/.exec(arn);
  return m ? { tableName: m[1]!, label: m[2]! } : undefined;
}
