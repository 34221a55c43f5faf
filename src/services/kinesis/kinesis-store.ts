/**
 * Kinesis streams and their records in the Store's database (migration 027), on SQLite and
 * PostgreSQL alike. Appending raises the shard's last position and inserts the records in one
 * transaction; the raise takes the shard row's lock, so on PostgreSQL appends to one shard
 * commit one after another and a reader never sees position n+1 before n (a checkpoint can
 * never pass a record still to commit). Other nodes of a cluster see records as soon as they
 * commit.
 */

import type { Kysely } from 'kysely';
import { NimbusError } from '../../errors/nimbus-error.js';

interface KinesisTables {
  kinesis_streams: {
    name: string;
    mode: string;
    shard_count: number;
    retention_hours: number;
    tags: string;
    created_at: number;
  };
  kinesis_shards: { stream: string; shard_index: number; last_position: number };
  kinesis_records: {
    stream: string;
    shard_index: number;
    position: number;
    partition_key: string;
    data: Buffer;
    arrived_at: number;
  };
}

export type StreamMode = 'ON_DEMAND' | 'PROVISIONED';

export interface StreamRow {
  name: string;
  mode: StreamMode;
  shardCount: number;
  retentionHours: number;
  tags: Record<string, string>;
  createdAt: number;
}

export interface NewRecord {
  shardIndex: number;
  partitionKey: string;
  data: Buffer;
}

export interface RecordRow {
  shardIndex: number;
  position: number;
  partitionKey: string;
  data: Buffer;
  arrivedAt: number;
}

/** Internal: the service turns it into Kinesis's ResourceNotFoundException. */
export class StreamGoneError extends NimbusError {
  constructor(readonly stream: string) {
    super('NIMBUS_NOT_FOUND', `stream ${stream} no longer exists`);
  }
}

export class KinesisStore {
  readonly #db: Kysely<KinesisTables>;

  constructor(db: unknown) {
    this.#db = db as Kysely<KinesisTables>;
  }

  /** False when a stream of that name exists already. */
  async createStream(row: StreamRow): Promise<boolean> {
    return this.#db.transaction().execute(async (tx) => {
      const inserted = await tx
        .insertInto('kinesis_streams')
        .values({
          name: row.name,
          mode: row.mode,
          shard_count: row.shardCount,
          retention_hours: row.retentionHours,
          tags: JSON.stringify(row.tags),
          created_at: row.createdAt,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      await tx
        .insertInto('kinesis_shards')
        .values(
          Array.from({ length: row.shardCount }, (_, i) => ({
            stream: row.name,
            shard_index: i,
            last_position: 0,
          })),
        )
        .execute();
      return true;
    });
  }

  async findStream(name: string): Promise<StreamRow | undefined> {
    const row = await this.#db
      .selectFrom('kinesis_streams')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && streamOf(row);
  }

  async listStreams(): Promise<StreamRow[]> {
    const rows = await this.#db.selectFrom('kinesis_streams').selectAll().orderBy('name').execute();
    return rows.map(streamOf);
  }

  async deleteStream(name: string): Promise<boolean> {
    return this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom('kinesis_records').where('stream', '=', name).execute();
      await tx.deleteFrom('kinesis_shards').where('stream', '=', name).execute();
      const gone = await tx
        .deleteFrom('kinesis_streams')
        .where('name', '=', name)
        .executeTakeFirst();
      return Number(gone.numDeletedRows) > 0;
    });
  }

  async setTags(name: string, tags: Record<string, string>): Promise<void> {
    await this.#db
      .updateTable('kinesis_streams')
      .set({ tags: JSON.stringify(tags) })
      .where('name', '=', name)
      .execute();
  }

  async setRetention(name: string, hours: number): Promise<void> {
    await this.#db
      .updateTable('kinesis_streams')
      .set({ retention_hours: hours })
      .where('name', '=', name)
      .execute();
  }

  /**
   * Appends records, keeping their order within each shard; answers each record's position,
   * in the order given. Throws StreamGoneError when the stream was deleted meanwhile.
   */
  async append(stream: string, records: readonly NewRecord[], now: number): Promise<number[]> {
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

  /** Records of a shard after `after`, oldest first, none that arrived before `since`. */
  async read(
    stream: string,
    shardIndex: number,
    after: number,
    limit: number,
    since: number,
  ): Promise<RecordRow[]> {
    const rows = await this.#db
      .selectFrom('kinesis_records')
      .select(['shard_index', 'position', 'partition_key', 'data', 'arrived_at'])
      .where('stream', '=', stream)
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

  /** The last position handed out in a shard (0 before the first record). */
  async lastPosition(stream: string, shardIndex: number): Promise<number | undefined> {
    const row = await this.#db
      .selectFrom('kinesis_shards')
      .select('last_position')
      .where('stream', '=', stream)
      .where('shard_index', '=', shardIndex)
      .executeTakeFirst();
    return row && Number(row.last_position);
  }

  /** The position just before the first record that arrived at or after `at`. */
  async positionBefore(
    stream: string,
    shardIndex: number,
    at: number,
  ): Promise<number | undefined> {
    const row = await this.#db
      .selectFrom('kinesis_records')
      .select('position')
      .where('stream', '=', stream)
      .where('shard_index', '=', shardIndex)
      .where('arrived_at', '>=', at)
      .orderBy('position')
      .limit(1)
      .executeTakeFirst();
    return row && Number(row.position) - 1;
  }

  /** When the newest record of a shard arrived, if it has one. */
  async newestArrival(stream: string, shardIndex: number): Promise<number | undefined> {
    const row = await this.#db
      .selectFrom('kinesis_records')
      .select('arrived_at')
      .where('stream', '=', stream)
      .where('shard_index', '=', shardIndex)
      .orderBy('position', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && Number(row.arrived_at);
  }

  /** Deletes every record older than its stream's retention period. */
  async trim(now: number): Promise<void> {
    for (const s of await this.listStreams()) {
      await this.#db
        .deleteFrom('kinesis_records')
        .where('stream', '=', s.name)
        .where('arrived_at', '<', now - s.retentionHours * 3_600_000)
        .execute();
    }
  }
}

function streamOf(row: KinesisTables['kinesis_streams']): StreamRow {
  return {
    name: row.name,
    mode: row.mode as StreamMode,
    shardCount: Number(row.shard_count),
    retentionHours: Number(row.retention_hours),
    tags: JSON.parse(row.tags) as Record<string, string>,
    createdAt: Number(row.created_at),
  };
}
