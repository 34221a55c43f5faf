/**
 * Kinesis's data operations: PutRecord, PutRecords (per-record results), GetShardIterator and
 * GetRecords. A record goes to the shard whose hash key range holds the MD5 of its partition
 * key (or its ExplicitHashKey); its sequence number grows within its shard. Records older than
 * the stream's retention period are never answered, trimmed or not yet.
 */
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import {
  hashKeyOfPartitionKey,
  parseExplicitHashKey,
  shardIdOf,
  shardIndexOf,
  shardOfHashKey,
} from './hash-ranges.js';
import type { KinesisDeps } from './kinesis-call.js';
import {
  invalidArgument,
  streamNotFound,
  throughputExceeded,
  validation,
} from './kinesis-errors.js';
import {
  type Input,
  optionalInteger,
  optionalString,
  optionalTimestamp,
  requiredBlob,
  requiredString,
} from './kinesis-input.js';
import { type NewRecord, StreamGoneError, type StreamRow } from './kinesis-store.js';
import { formatSequenceNumber, parseSequenceNumber } from './sequence-number.js';
import { decodeIterator, encodeIterator } from './shard-iterator.js';
import { streamNameOf } from './stream-names.js';
import { existingStream } from './stream-operations.js';

const MiB = 1024 * 1024;
export const recordLimits = {
  recordBytes: MiB,
  putRecordsBytes: 5 * MiB,
  putRecordsCount: 500,
  getRecordsBytes: 10 * MiB,
};

const hashKeyPattern = /^(0|[1-9]\d{0,38})$/;
const sequencePattern = /^(0|[1-9]\d{0,128})$/;

interface PlacedRecord extends NewRecord {
  bytes: number;
}

/** One record of a put, checked and placed in its shard. */
function placeRecord(stream: StreamRow, entry: Input, field: string): PlacedRecord {
  const data = requiredBlob(entry, 'Data');
  if (data.length > recordLimits.recordBytes) {
    throw validation(
      `${field}data`,
      `${data.length} bytes`,
      `Member must have length less than or equal to ${recordLimits.recordBytes}`,
    );
  }
  const partitionKey = requiredString(entry, 'PartitionKey', { min: 1, max: 256 });
  const bytes = data.length + Buffer.byteLength(partitionKey, 'utf8');
  if (bytes > recordLimits.recordBytes) {
    throw invalidArgument(
      `Record size (data plus partition key, ${bytes} bytes) exceeds the limit of ${recordLimits.recordBytes} bytes.`,
    );
  }
  const explicit = optionalString(entry, 'ExplicitHashKey', { pattern: hashKeyPattern });
  let hashKey = hashKeyOfPartitionKey(partitionKey);
  if (explicit !== undefined) {
    const parsed = parseExplicitHashKey(explicit);
    if (parsed === undefined) {
      throw invalidArgument(
        `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${explicit}`,
      );
    }
    hashKey = parsed;
  }
  return { shardIndex: shardOfHashKey(hashKey, stream.shardCount), partitionKey, data, bytes };
}

export function recordOperations(deps: KinesisDeps) {
  const { store, records: log, clock } = deps;

  const rateMessage = (stream: StreamRow, shard: number) =>
    `Rate exceeded for shard ${shardIdOf(shard)} in stream ${stream.name} under account ${NIMBUS_ACCOUNT_ID}.`;
  const admitted = (stream: StreamRow, r: PlacedRecord) =>
    stream.mode !== 'PROVISIONED' || deps.limits.admit(stream.name, r.shardIndex, r.bytes);

  const append = async (stream: StreamRow, records: PlacedRecord[]) => {
    try {
      return await log.append(stream, records, clock.now());
    } catch (error) {
      if (error instanceof StreamGoneError) throw streamNotFound(stream.name);
      throw error;
    }
  };

  const shardOf = (stream: StreamRow, input: Input) => {
    const id = requiredString(input, 'ShardId', { min: 1, max: 128 });
    const index = shardIndexOf(id);
    if (index === undefined || index >= stream.shardCount) {
      throw invalidArgument(
        `Could not find shard ${id} in stream ${stream.name} under account ${NIMBUS_ACCOUNT_ID}.`,
      );
    }
    return index;
  };

  return {
    async PutRecord(input: Input) {
      const stream = await existingStream(store, streamNameOf(input));
      const record = placeRecord(stream, input, '');
      optionalString(input, 'SequenceNumberForOrdering', { pattern: sequencePattern });
      if (!admitted(stream, record))
        throw throughputExceeded(rateMessage(stream, record.shardIndex));
      const [position] = await append(stream, [record]);
      return {
        ShardId: shardIdOf(record.shardIndex),
        SequenceNumber: formatSequenceNumber(record.shardIndex, position!),
        EncryptionType: 'NONE',
      };
    },
    async PutRecords(input: Input) {
      const stream = await existingStream(store, streamNameOf(input));
      const entries = input.Records;
      if (!Array.isArray(entries)) throw validation('records', 'null', 'Member must not be null');
      if (entries.length < 1) {
        throw validation('records', '[]', 'Member must have length greater than or equal to 1');
      }
      if (entries.length > recordLimits.putRecordsCount) {
        throw validation(
          'records',
          `${entries.length} records`,
          `Member must have length less than or equal to ${recordLimits.putRecordsCount}`,
        );
      }
      const placed = entries.map((e, i) => {
        if (typeof e !== 'object' || e === null || Array.isArray(e)) {
          throw validation(`records.${i + 1}.member`, String(e), 'Member must be a structure');
        }
        return placeRecord(stream, e as Input, `records.${i + 1}.member.`);
      });
      const total = placed.reduce((sum, r) => sum + r.bytes, 0);
      if (total > recordLimits.putRecordsBytes) {
        throw invalidArgument(
          `Records size (${total} bytes) exceeds the limit of ${recordLimits.putRecordsBytes} bytes for a PutRecords request.`,
        );
      }
      // Throttled records fail one by one, the rest are written (Kinesis's partial success).
      const accepted = placed.map((r) => admitted(stream, r));
      const written = placed.filter((_, i) => accepted[i]);
      const positions = written.length > 0 ? await append(stream, written) : [];
      let next = 0;
      const results = placed.map((r, i) => {
        if (!accepted[i]) {
          return {
            ErrorCode: 'ProvisionedThroughputExceededException',
            ErrorMessage: rateMessage(stream, r.shardIndex),
          };
        }
        return {
          SequenceNumber: formatSequenceNumber(r.shardIndex, positions[next++]!),
          ShardId: shardIdOf(r.shardIndex),
        };
      });
      return {
        FailedRecordCount: placed.length - written.length,
        Records: results,
        EncryptionType: 'NONE',
      };
    },
    async GetShardIterator(input: Input) {
      const stream = await existingStream(store, streamNameOf(input));
      const shard = shardOf(stream, input);
      const type = requiredString(input, 'ShardIteratorType');
      const sequence = optionalString(input, 'StartingSequenceNumber', {
        pattern: sequencePattern,
      });
      const timestamp = optionalTimestamp(input, 'Timestamp');
      const last = await log.lastPosition(stream, shard);
      let after: number;
      switch (type) {
        case 'TRIM_HORIZON':
          after = 0;
          break;
        case 'LATEST':
          after = last;
          break;
        case 'AT_SEQUENCE_NUMBER':
        case 'AFTER_SEQUENCE_NUMBER': {
          if (sequence === undefined) {
            throw invalidArgument(`StartingSequenceNumber is required for ${type}.`);
          }
          const parsed = parseSequenceNumber(sequence);
          if (!parsed || parsed.shardIndex !== shard || parsed.position > last) {
            throw invalidArgument(
              `StartingSequenceNumber ${sequence} used in GetShardIterator on shard ${shardIdOf(shard)} in stream ${stream.name} under account ${NIMBUS_ACCOUNT_ID} is invalid because it did not come from this stream.`,
            );
          }
          after =
            type === 'AT_SEQUENCE_NUMBER' ? Math.max(parsed.position - 1, 0) : parsed.position;
          break;
        }
        case 'AT_TIMESTAMP': {
          if (timestamp === undefined)
            throw invalidArgument('Timestamp is required for AT_TIMESTAMP.');
          if (timestamp > clock.now()) {
            throw invalidArgument(`The timestamp ${timestamp / 1000} is in the future.`);
          }
          after = (await log.positionBefore(stream, shard, timestamp)) ?? last;
          break;
        }
        default:
          throw validation(
            'shardIteratorType',
            type,
            'Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, AT_SEQUENCE_NUMBER, AT_TIMESTAMP, TRIM_HORIZON, LATEST]',
          );
      }
      return {
        ShardIterator: encodeIterator({
          stream: stream.name,
          createdAt: stream.createdAt,
          shardIndex: shard,
          after,
          issuedAt: clock.now(),
        }),
      };
    },
    async GetRecords(input: Input) {
      const token = requiredString(input, 'ShardIterator', { min: 1, max: 512 });
      const limit = optionalInteger(input, 'Limit', 1, 10_000) ?? 10_000;
      const now = clock.now();
      const it = decodeIterator(token, now);
      const stream = await store.findStream(it.stream);
      if (!stream || stream.createdAt !== it.createdAt || it.shardIndex >= stream.shardCount) {
        throw streamNotFound(it.stream);
      }
      const since = now - stream.retentionHours * 3_600_000;
      const rows = await log.read(stream, it.shardIndex, it.after, limit, since);
      // A response carries at most 10 MiB of data; the rest comes with the next call.
      let bytes = 0;
      let count = 0;
      for (const r of rows) {
        bytes += r.data.length + Buffer.byteLength(r.partitionKey);
        if (count > 0 && bytes > recordLimits.getRecordsBytes) break;
        count++;
      }
      const page = rows.slice(0, count);
      const lastRead = page.at(-1);
      const after = lastRead?.position ?? it.after;
      const tip = await log.lastPosition(stream, it.shardIndex);
      return {
        Records: page.map((r) => ({
          SequenceNumber: formatSequenceNumber(r.shardIndex, r.position),
          ApproximateArrivalTimestamp: r.arrivedAt / 1000,
          Data: r.data.toString('base64'),
          PartitionKey: r.partitionKey,
        })),
        NextShardIterator: encodeIterator({ ...it, after, issuedAt: now }),
        MillisBehindLatest: after >= tip || !lastRead ? 0 : Math.max(now - lastRead.arrivedAt, 0),
      };
    },
  };
}
