/**
 * A Kinesis stream as a stream source of the event-source-mapping engine
 * (src/platform/event-sources/source-port.ts): one loop per shard, records read in sequence
 * order from the Store, in the shape Lambda delivers (`kinesis.data` base64). Positions are
 * kept per mapping and shard in the Store (CheckpointStore, migration 024). Waiting for new
 * records is a bounded re-check of the Store, so a record committed by any node of a cluster
 * is seen. Records past the stream's retention period are not read.
 */
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import type { Clock } from '../../model/clock.js';
import type { CheckpointStore } from '../../platform/event-sources/checkpoint-store.js';
import type { Mapping } from '../../platform/event-sources/mapping.js';
import { parseKinesisStreamArn } from '../../platform/event-sources/mapping.js';
import type { SourceRecord, StreamSource } from '../../platform/event-sources/source-port.js';
import { pause } from '../../platform/event-sources/wait.js';
import type { Scheduler } from '../../platform/observe/scheduler.js';
import { shardIdOf, shardIndexOf } from './hash-ranges.js';
import type { KinesisStore, RecordRow } from './kinesis-store.js';
import type { KinesisRecordLog } from './record-log.js';
import { formatSequenceNumber, parseSequenceNumber } from './sequence-number.js';

export interface KinesisSourceDeps {
  store: Pick<KinesisStore, 'findStream'>;
  records: Pick<KinesisRecordLog, 'read' | 'lastPosition' | 'positionBefore'>;
  checkpoints: Pick<CheckpointStore, 'get' | 'put'>;
  clock: Clock;
  timer: Scheduler;
  /** How often an idle reader looks for new records. */
  recheckMs?: number;
}

/** GetRecords answers at most 10,000 records; so does a read here. */
const maxPerRead = 10_000;

export function kinesisEventSource(deps: KinesisSourceDeps, mapping: Mapping): StreamSource {
  const arn = mapping.sourceArn;
  const parsed = parseKinesisStreamArn(arn);
  if (!parsed) throw new Error(`not a Kinesis stream ARN: ${arn}`);
  const name = parsed.stream;
  const recheckMs = deps.recheckMs ?? 200;
  const indexOf = (shard: string) => {
    const index = shardIndexOf(shard);
    if (index === undefined) throw new Error(`not a shard id: ${shard}`);
    return index;
  };
  const positionOf = (id: string | undefined) =>
    id === undefined ? 0 : (parseSequenceNumber(id)?.position ?? 0);
  return {
    kind: 'stream',
    async shards() {
      // A deleted stream has no shards to read; its loops idle until the mapping goes.
      const stream = await deps.store.findStream(name);
      return stream ? Array.from({ length: stream.shardCount }, (_, i) => shardIdOf(i)) : [];
    },
    async checkpoint(shard) {
      const stored = await deps.checkpoints.get(mapping.uuid, shard);
      if (stored !== undefined) return stored === '' ? undefined : stored;
      const from = mapping.startingPosition;
      if (from !== 'LATEST' && from !== 'AT_TIMESTAMP') return undefined;
      // LATEST and AT_TIMESTAMP are fixed the first time the mapping runs, so a restart does
      // not move them on. AT_TIMESTAMP starts before the first record that arrived at or after
      // the time; with none yet, at the end of the shard (as GetShardIterator does).
      const index = indexOf(shard);
      const stream = await deps.store.findStream(name);
      const last = stream ? await deps.records.lastPosition(stream, index) : 0;
      const at =
        stream && from === 'AT_TIMESTAMP'
          ? await deps.records.positionBefore(
              stream,
              index,
              Math.round((mapping.startingPositionTimestamp ?? 0) * 1000),
            )
          : undefined;
      const position = formatSequenceNumber(index, at ?? last);
      await deps.checkpoints.put(mapping.uuid, shard, position, deps.clock.now());
      return position;
    },
    async read(shard, after, max, waitMs, signal) {
      const index = indexOf(shard);
      const deadline = deps.clock.now() + waitMs;
      for (;;) {
        const stream = await deps.store.findStream(name);
        const since = stream ? deps.clock.now() - stream.retentionHours * 3_600_000 : 0;
        const rows = stream
          ? await deps.records.read(
              stream,
              index,
              positionOf(after),
              Math.min(max, maxPerRead),
              since,
            )
          : [];
        const left = deadline - deps.clock.now();
        if (rows.length > 0 || left <= 0 || signal.aborted) {
          return rows.map((r) => kinesisRecord(r, arn, parsed.region));
        }
        await pause(deps.timer, Math.min(recheckMs, left), signal);
      }
    },
    async commit(shard, upTo) {
      await deps.checkpoints.put(mapping.uuid, shard, upTo, deps.clock.now());
    },
  };
}

/** One record as Lambda hands it to a function (docs/kinesis.md#events). */
export function kinesisRecord(r: RecordRow, streamArn: string, region: string): SourceRecord {
  const sequenceNumber = formatSequenceNumber(r.shardIndex, r.position);
  const kinesis = {
    kinesisSchemaVersion: '1.0',
    partitionKey: r.partitionKey,
    sequenceNumber,
    data: r.data.toString('base64'),
    approximateArrivalTimestamp: r.arrivedAt / 1000,
  };
  const record = {
    kinesis,
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardIdOf(r.shardIndex)}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: `arn:aws:iam::${NIMBUS_ACCOUNT_ID}:role/nimbus-event-source`,
    awsRegion: region,
    eventSourceARN: streamArn,
  };
  return {
    id: sequenceNumber,
    record,
    // Lambda filters Kinesis records on their metadata and `data`, parsed when it is JSON.
    filterView: { ...kinesis, data: jsonOrText(r.data) },
    arrivedAt: r.arrivedAt,
    key: r.partitionKey,
  };
}

function jsonOrText(data: Buffer): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    return data.toString('base64');
  }
}
