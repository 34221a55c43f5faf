/**
 * Kinesis streams' metadata in the Store's database (migration 027), on SQLite and PostgreSQL
 * alike, whatever backs their records (record-log.ts). Creating a stream also makes its shard
 * rows and deleting it also deletes its rows in `kinesis_records`: the SQL record log's
 * (sql-record-log.ts) state changes in the same transaction as the stream's row. With the
 * JetStream log those tables stay empty (shard rows at position 0).
 */

import type { Kysely } from 'kysely';
import { NimbusError } from '../../errors/nimbus-error.js';

export interface KinesisTables {
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
