/**
 * Kinesis records in the Store's database (migration 027; the default backing, record-log.ts).
 * Appending raises the shard's last position and inserts the records in one transaction; the
 * raise takes the shard row's lock, so on PostgreSQL appends to one shard commit one after
 * another and a reader never sees position n+1 before n (a checkpoint can never pass a record
 * still to commit). Positions are gapless per shard. Other nodes of a cluster see records as
 * soon as they commit. Shard rows are made, and records deleted, with the stream's row
 * (KinesisStore), so `created` and `deleted` have nothing left to do.
 */
import type { Kysely } from 'kysely';
import {
  type KinesisTables,
  type NewRecord,
  type RecordRow,
  StreamGoneError,
} from './kinesis-store.js';
import type { KinesisRecordLog, LogStream } from './record-log.js';

export class SqlRecordLog implements KinesisRecordLog {
  readonly description = 'the store';
  readonly #db: Kysely<KinesisTables>;

  constructor(db: unknown) {
    this.#db = db as Kysely<KinesisTables>;
  }

  async created(): Promise<void> {}
  async deleted(): Promise<void> {}
  async retentionChanged(): Promise<void> {}

  async append(s: LogStream, records: readonly NewRecord[], now: number): Promise<number[]> {
    const stream = s.name;
    return this.#db.transaction().execute(async (tx) => {
      const counts = new Map<number, number>();
      for (const r of records) counts.set(r.shardIndex, (counts.get(r.shardIndex) ?? 0) + 1);
      const next = new Map<number, number>();
      // Shards in index order, so two appends touching the same shards never deadlock.
      for (const shard of [...counts.keys()].sort((a, b) => a - b)) {
        const n = counts.get(shard)!;
        const raised = await tx
          .updateTable('kinesis_shards')
          .set((eb) => ({ last_position: eb('last_position', '+', n) }))
          .where('stream', '=', stream)
          .where('shard_index', '=', shard)
          .returning('last_position')
          .executeTakeFirst();
        if (!raised) throw new StreamGoneError(stream);
        next.set(shard, Number(raised.last_position) - n + 1);
      }
      const positions = records.map((r) => {
        const p = next.get(r.shardIndex)!;
        next.set(r.shardIndex, p + 1);
        return p;
      });
      // Inserted in chunks: SQLite caps the bound parameters of one statement.
      const rows = records.map((r, i) => ({
        stream,
        shard_index: r.shardIndex,
        position: positions[i]!,
        partition_key: r.partitionKey,
        data: r.data,
        arrived_at: now,
      }));
      for (let i = 0; i < rows.length; i += 100) {
        await tx
          .insertInto('kinesis_records')
          .values(rows.slice(i, i + 100))
          .execute();
      }
      return positions;
    });
  }

  async read(
    s: LogStream,
    shardIndex: number,
    after: number,
    limit: number,
    since: number,
  ): Promise<RecordRow[]> {
    const rows = await this.#db
      .selectFrom('kinesis_records')
      .select(['shard_index', 'position', 'partition_key', 'data', 'arrived_at'])
      .where('stream', '=', s.name)
      .where('shard_index', '=', shardIndex)
      .where('position', '>', after)
      .where('arrived_at', '>=', since)
      .orderBy('position')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      shardIndex: Number(r.shard_index),
      position: Number(r.position),
      partitionKey: r.partition_key,
      data: Buffer.from(r.data),
      arrivedAt: Number(r.arrived_at),
    }));
  }

  async lastPosition(s: LogStream, shardIndex: number): Promise<number> {
    const row = await this.#db
      .selectFrom('kinesis_shards')
      .select('last_position')
      .where('stream', '=', s.name)
      .where('shard_index', '=', shardIndex)
      .executeTakeFirst();
    return row ? Number(row.last_position) : 0;
  }

  async positionBefore(s: LogStream, shardIndex: number, at: number): Promise<number | undefined> {
    const row = await this.#db
      .selectFrom('kinesis_records')
      .select('position')
      .where('stream', '=', s.name)
      .where('shard_index', '=', shardIndex)
      .where('arrived_at', '>=', at)
      .orderBy('position')
      .limit(1)
      .executeTakeFirst();
    return row && Number(row.position) - 1;
  }

  async trim(now: number, streams: () => Promise<LogStream[]>): Promise<void> {
    for (const s of await streams()) {
      await this.#db
        .deleteFrom('kinesis_records')
        .where('stream', '=', s.name)
        .where('arrived_at', '<', now - s.retentionHours * 3_600_000)
        .execute();
    }
  }
}
