/**
 * A DynamoDB table stream as a stream source of the event-source-mapping engine
 * (src/platform/event-sources/source-port.ts). A stream has one shard here (streams.ts), read
 * in sequence order through DynamoStreamReader; records come out in the shape Lambda delivers
 * (the Streams API record plus `eventSourceARN`). Positions are kept per mapping and shard in
 * the Store (CheckpointStore, migration 024). Waiting for new records is a bounded re-check of
 * the Store, so a change committed by any node of a cluster is seen.
 */
import type { Clock } from '../../model/clock.js';
import type { CheckpointStore } from '../../platform/event-sources/checkpoint-store.js';
import type { Mapping } from '../../platform/event-sources/mapping.js';
import type { SourceRecord, StreamSource } from '../../platform/event-sources/source-port.js';
import { pause } from '../../platform/event-sources/wait.js';
import type { Scheduler } from '../../platform/observe/scheduler.js';
import type { DynamoStreamReader } from './stream-reader.js';
import { formatSequence, type StreamRecord } from './streams.js';
import { shardIdOf } from './streams-api.js';

export interface DynamoSourceDeps {
  reader: Pick<DynamoStreamReader, 'read' | 'bounds' | 'stream'>;
  checkpoints: Pick<CheckpointStore, 'get' | 'put'>;
  clock: Clock;
  timer: Scheduler;
  /** How often an idle reader looks for new records. */
  recheckMs?: number;
}

/** The Streams API answers at most 1,000 records per GetRecords; so does a read here. */
const maxPerRead = 1000;

export function dynamodbEventSource(deps: DynamoSourceDeps, mapping: Mapping): StreamSource {
  const arn = mapping.sourceArn;
  const shard = shardIdOf(arn);
  const recheckMs = deps.recheckMs ?? 200;
  // The mapping may name the stream with another region or account than the stored records
  // (stream-reader.ts); they are read under the stored ARN, found once the stream exists.
  let stored: string | undefined;
  const storedArn = async () => {
    stored ??= (await deps.reader.stream(arn))?.streamArn;
    return stored ?? arn;
  };
  return {
    kind: 'stream',
    async shards() {
      return [shard];
    },
    async checkpoint(s) {
      const stored = await deps.checkpoints.get(mapping.uuid, s);
      if (stored !== undefined) return stored === '' ? undefined : stored;
      if (mapping.startingPosition !== 'LATEST') return undefined;
      // LATEST is fixed the first time the mapping runs, so a restart does not move it on.
      const { latest } = await deps.reader.bounds(await storedArn());
      const position = latest ?? formatSequence(0);
      await deps.checkpoints.put(mapping.uuid, s, position, deps.clock.now());
      return position;
    },
    async read(_s, after, max, waitMs, signal) {
      const deadline = deps.clock.now() + waitMs;
      for (;;) {
        const rows = await deps.reader.read(await storedArn(), after, Math.min(max, maxPerRead));
        const left = deadline - deps.clock.now();
        if (rows.length > 0 || left <= 0 || signal.aborted) {
          return rows.map((r) => dynamodbRecord(r, arn));
        }
        await pause(deps.timer, Math.min(recheckMs, left), signal);
      }
    },
    async commit(s, upTo) {
      await deps.checkpoints.put(mapping.uuid, s, upTo, deps.clock.now());
    },
  };
}

/** One change as Lambda hands it to a function: the stream record plus its stream's ARN. */
export function dynamodbRecord(r: StreamRecord, streamArn: string): SourceRecord {
  const record = { ...r, eventSourceARN: streamArn } as unknown as Record<string, unknown>;
  return {
    id: r.dynamodb.SequenceNumber,
    record,
    // DynamoDB filters match the record as delivered (`dynamodb.NewImage.x.S`, `eventName`).
    filterView: record,
    arrivedAt: r.dynamodb.ApproximateCreationDateTime * 1000,
    key: JSON.stringify(r.dynamodb.Keys),
  };
}
