/**
 * The DynamoDB Streams API (`X-Amz-Target: DynamoDBStreams_20120810.<Operation>`, AWS JSON 1.0,
 * signed for `dynamodb` like the tables API and answered on the same path): ListStreams,
 * DescribeStream, GetShardIterator, GetRecords, over the stream read port. Each stream has one
 * shard. A shard iterator is an opaque token naming the stream and the position after which to
 * read; it expires after 15 minutes, as DynamoDB's do.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../model/clock.js';
import { AwsError } from '../../platform/aws/aws-error.js';
import type { Input } from './dynamodb-call.js';
import { validation } from './dynamodb-errors.js';
import type { DynamoStreamReader, StreamInfo } from './stream-reader.js';
import { schemaOf, type TableDescriptionStored } from './table-schema.js';

export interface StreamsApiDeps {
  reader: DynamoStreamReader;
  clock: Clock;
  findTable(name: string): Promise<TableDescriptionStored | undefined>;
}

const iteratorMillis = 15 * 60 * 1000;
const maxRecords = 1000;

function notFound(what: string) {
  return new AwsError(400, 'ResourceNotFoundException', `Requested resource not found: ${what}`);
}

/** The one shard of a stream, named from the stream so it is stable. */
export function shardIdOf(streamArn: string): string {
  const h = createHash('sha256').update(streamArn).digest('hex').slice(0, 8);
  return `shardId-00000000000000000001-${h}`;
}

function arnOf(input: Input): string {
  if (typeof input.StreamArn !== 'string' || input.StreamArn.length < 37) {
    throw validation(
      `1 validation error detected: Value '${String(input.StreamArn)}' at 'streamArn' failed to satisfy constraint: Member must have length greater than or equal to 37`,
    );
  }
  return input.StreamArn;
}

async function streamOf(deps: StreamsApiDeps, input: Input): Promise<StreamInfo> {
  const arn = arnOf(input);
  const stream = await deps.reader.stream(arn);
  if (!stream) throw notFound(`Stream: ${arn} not found`);
  return stream;
}

export async function listStreams(deps: StreamsApiDeps, input: Input) {
  const limit = input.Limit === undefined ? 100 : Number(input.Limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw validation(
      `1 validation error detected: Value '${String(input.Limit)}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100`,
    );
  }
  const table = typeof input.TableName === 'string' ? input.TableName : undefined;
  const start =
    typeof input.ExclusiveStartStreamArn === 'string' ? input.ExclusiveStartStreamArn : undefined;
  const all = (await deps.reader.streams(table)).filter((s) => !start || s.streamArn > start);
  const page = all.slice(0, limit);
  return {
    Streams: page.map((s) => ({
      StreamArn: s.streamArn,
      TableName: s.tableName,
      StreamLabel: s.streamLabel,
    })),
    ...(all.length > limit ? { LastEvaluatedStreamArn: page.at(-1)!.streamArn } : {}),
  };
}

export async function describeStream(deps: StreamsApiDeps, input: Input) {
  const stream = await streamOf(deps, input);
  const table = await deps.findTable(stream.tableName);
  const bounds = await deps.reader.bounds(stream.streamArn);
  const created = Date.parse(`${stream.streamLabel}Z`);
  return {
    StreamDescription: {
      StreamArn: stream.streamArn,
      StreamLabel: stream.streamLabel,
      StreamStatus: stream.enabled ? 'ENABLED' : 'DISABLED',
      ...(stream.viewType ? { StreamViewType: stream.viewType } : {}),
      ...(Number.isFinite(created) ? { CreationRequestDateTime: created / 1000 } : {}),
      TableName: stream.tableName,
      ...(table ? { KeySchema: schemaOf(table).description.KeySchema } : {}),
      Shards: [
        {
          ShardId: shardIdOf(stream.streamArn),
          SequenceNumberRange: {
            StartingSequenceNumber: bounds.oldest ?? '000000000000000000001',
            ...(stream.enabled || !bounds.latest ? {} : { EndingSequenceNumber: bounds.latest }),
          },
        },
      ],
    },
  };
}

interface Iterator {
  arn: string;
  /** Read records after this sequence number; undefined: from the oldest kept. */
  after?: string;
  issued: number;
}

function encodeIterator(it: Iterator): string {
  return Buffer.from(JSON.stringify(it)).toString('base64url');
}

function decodeIterator(raw: unknown, now: number): Iterator {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048) {
    throw validation(
      "1 validation error detected: Value null at 'shardIterator' failed to satisfy constraint: Member must not be null",
    );
  }
  let it: Iterator;
  try {
    it = JSON.parse(Buffer.from(raw, 'base64url').toString()) as Iterator;
  } catch {
    throw validation('Invalid ShardIterator');
  }
  if (typeof it?.arn !== 'string' || typeof it.issued !== 'number') {
    throw validation('Invalid ShardIterator');
  }
  if (now - it.issued > iteratorMillis) {
    throw new AwsError(
      400,
      'ExpiredIteratorException',
      'Iterator expired. The iterator was created more than 15 minutes ago.',
    );
  }
  return it;
}

const sequencePattern = /^\d{21,40}$/;

export async function getShardIterator(deps: StreamsApiDeps, input: Input) {
  const stream = await streamOf(deps, input);
  if (input.ShardId !== shardIdOf(stream.streamArn)) {
    throw notFound(`Shard: ${String(input.ShardId)} in Stream: ${stream.streamArn} not found`);
  }
  const type = input.ShardIteratorType;
  const seq = input.SequenceNumber;
  const bounds = await deps.reader.bounds(stream.streamArn);
  let after: string | undefined;
  switch (type) {
    case 'TRIM_HORIZON':
      after = undefined;
      break;
    case 'LATEST':
      after = bounds.latest ?? '000000000000000000000';
      break;
    case 'AT_SEQUENCE_NUMBER':
    case 'AFTER_SEQUENCE_NUMBER': {
      if (typeof seq !== 'string' || !sequencePattern.test(seq)) {
        throw validation(`SequenceNumber is required and must be a sequence number for ${type}`);
      }
      if (bounds.oldest && BigInt(seq) < BigInt(bounds.oldest)) {
        throw new AwsError(
          400,
          'TrimmedDataAccessException',
          'The operation attempted to read past the oldest stream record in a shard.',
        );
      }
      const n = BigInt(seq) - (type === 'AT_SEQUENCE_NUMBER' ? 1n : 0n);
      after = String(n).padStart(21, '0');
      break;
    }
    default:
      throw validation(
        `1 validation error detected: Value '${String(type)}' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]`,
      );
  }
  return {
    ShardIterator: encodeIterator({ arn: stream.streamArn, after, issued: deps.clock.now() }),
  };
}

export async function getRecords(deps: StreamsApiDeps, input: Input) {
  const now = deps.clock.now();
  const it = decodeIterator(input.ShardIterator, now);
  const limit = input.Limit === undefined ? maxRecords : Number(input.Limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxRecords) {
    throw validation(
      `1 validation error detected: Value '${String(input.Limit)}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to ${maxRecords}`,
    );
  }
  const stream = await deps.reader.stream(it.arn);
  if (!stream) throw notFound(`Stream: ${it.arn} not found`);
  const records = await deps.reader.read(stream.streamArn, it.after, limit);
  const last = records.at(-1)?.dynamodb.SequenceNumber ?? it.after;
  // A disabled stream's shard is closed: once read to its end there is no next iterator.
  const closed = !stream.enabled && records.length === 0;
  return {
    Records: records,
    ...(closed
      ? {}
      : { NextShardIterator: encodeIterator({ arn: it.arn, after: last, issued: now }) }),
  };
}
