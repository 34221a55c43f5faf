/**
 * The port between the event-source-mapping engine and what it polls (docs/internals/event-sources.md).
 * Two shapes of source exist, as on Lambda:
 * - a queue (SQS): records are leased by a receive; the engine deletes the ones it is done
 *   with and leaves the rest to reappear when their lease (visibility timeout) runs out, so
 *   retries and the dead-letter queue belong to the queue itself;
 * - an ordered stream (Kinesis shards, DynamoDB stream shards): records are read from a
 *   checkpoint, in order per shard; the engine retries a failing batch itself and moves the
 *   checkpoint only past records it is done with.
 */

/** One record as the engine handles it, whatever the source. */
export interface SourceRecord {
  /**
   * What a `batchItemFailures[].itemIdentifier` names: the SQS messageId, the Kinesis or
   * DynamoDB sequence number.
   */
  readonly id: string;
  /** The record exactly as the function receives it in `event.Records`. */
  readonly record: Record<string, unknown>;
  /**
   * `JSON.stringify(record)`, when the source wrote the text itself (SQS: cheaper than building
   * the object and serializing it, and the object is then built only if something reads it).
   */
  readonly json?: string;
  /**
   * The record as filter patterns see it: `record` with `body` (SQS) or `data` (Kinesis)
   * parsed as JSON when it is JSON, as Lambda filtering does. Read only when the mapping has
   * filter patterns, so a source may build it lazily (a getter).
   */
  readonly filterView: Record<string, unknown>;
  /** Epoch ms the record entered the source (maximumRecordAgeInSeconds). */
  readonly arrivedAt: number;
  /**
   * Streams: records of one key stay in order when a shard is read by parallel batches
   * (parallelizationFactor): the Kinesis partition key, the DynamoDB item's key attributes.
   */
  readonly key?: string;
}

export interface QueueSource {
  readonly kind: 'queue';
  /**
   * Up to `max` records, waiting (long polling, never spinning) up to `waitMs` for the first;
   * an aborted signal ends the wait early with what there is.
   */
  receive(max: number, waitMs: number, signal: AbortSignal): Promise<SourceRecord[]>;
  /** Removes records the engine is done with: processed, or filtered out. */
  remove(records: readonly SourceRecord[]): Promise<void>;
}

/** A position in a shard: the id of the last record done with, absent before the first. */
export type ShardCheckpoint = string | undefined;

export interface StreamSource {
  readonly kind: 'stream';
  /** The shards to read now; each is read in order by one loop of the engine. */
  shards(): Promise<string[]>;
  /** Where reading resumes after a restart. */
  checkpoint(shard: string): Promise<ShardCheckpoint>;
  /**
   * Up to `max` records of `shard` after `after`, in shard order, waiting up to `waitMs` for
   * the first.
   */
  read(
    shard: string,
    after: ShardCheckpoint,
    max: number,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<SourceRecord[]>;
  /** Durably records that every record up to and including `upTo` is done with. */
  commit(shard: string, upTo: string): Promise<void>;
}

export type PollSource = QueueSource | StreamSource;
