/**
 * The port Kinesis records go through (docs/kinesis.md#backing): append to a shard, read a shard
 * after a position, the shard's tip, the position before a time, and retention. Stream metadata
 * (names, modes, shard counts, retention, tags) stays in the Store (KinesisStore) whatever the
 * backing; the records live in the SQL store (SqlRecordLog, the default) or in one JetStream
 * stream per Kinesis stream (NatsRecordLog, with `--nats-url`). One contract suite
 * (test/services/kinesis/record-log-contract.test.ts) runs on every adapter.
 *
 * A position is a positive integer that grows within a shard (not necessarily by one); 0 is
 * "before the first record". Sequence numbers are made from the shard index and the position
 * (sequence-number.ts).
 */
import type { NewRecord, RecordRow, StreamRow } from './kinesis-store.js';

/** What an adapter needs to know of a stream: its identity, shards and retention. */
export type LogStream = Pick<StreamRow, 'name' | 'createdAt' | 'shardCount' | 'retentionHours'>;

export interface KinesisRecordLog {
  /** For the banner and docs: where the records are. */
  readonly description: string;
  /** After the stream's row was created in the Store (the stream is new: no records). */
  created(stream: LogStream): Promise<void>;
  /** After the stream's row was deleted from the Store: its records go. */
  deleted(stream: LogStream): Promise<void>;
  /** After the stream's retention changed in the Store. */
  retentionChanged(stream: LogStream): Promise<void>;
  /**
   * Appends records, keeping their order within each shard; answers each record's position, in
   * the order given. Throws StreamGoneError when the stream was deleted meanwhile.
   */
  append(stream: LogStream, records: readonly NewRecord[], now: number): Promise<number[]>;
  /** Records of a shard after `after`, oldest first, at most `limit`, none arrived before `since`. */
  read(
    stream: LogStream,
    shardIndex: number,
    after: number,
    limit: number,
    since: number,
  ): Promise<RecordRow[]>;
  /**
   * A position at or after the shard's last record and before any record still to come: reading
   * after it answers only records appended later (0 for a shard that never had one).
   */
  lastPosition(stream: LogStream, shardIndex: number): Promise<number>;
  /** The position just before the shard's first record that arrived at or after `at`, if any. */
  positionBefore(stream: LogStream, shardIndex: number, at: number): Promise<number | undefined>;
  /**
   * Periodic housekeeping (and, on JetStream, once at start): deletes records past their
   * stream's retention and whatever belongs to streams no longer in the Store, and makes room
   * for Store streams that have none. `streams` lists the Store's streams when called.
   */
  trim(now: number, streams: () => Promise<LogStream[]>): Promise<void>;
}
