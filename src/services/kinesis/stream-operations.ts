/**
 * Kinesis's control operations (docs/kinesis.md): streams are created ACTIVE at once, with
 * their shards splitting the hash key space evenly; no resharding, so every shard stays open.
 */
import type { Clock } from '../../model/clock.js';
import { shardIdOf, shardIndexOf, shardRange } from './hash-ranges.js';
import type { KinesisDeps } from './kinesis-call.js';
import {
  invalidArgument,
  limitExceeded,
  streamExists,
  streamNotFound,
  validation,
} from './kinesis-errors.js';
import { type Input, optionalInteger, optionalString, requiredString } from './kinesis-input.js';
import type { KinesisStore, StreamMode, StreamRow } from './kinesis-store.js';
import { formatSequenceNumber } from './sequence-number.js';
import { optionalStreamName, streamArn, streamNameOf, streamNamePattern } from './stream-names.js';

/** Kinesis's defaults and bounds. */
export const streamLimits = {
  onDemandShards: 4,
  maxShards: 500,
  retention: { default: 24, min: 24, max: 8760 },
  maxTags: 50,
};

export interface StreamSpec {
  name: string;
  mode: StreamMode;
  shardCount: number;
  retentionHours: number;
  tags: Record<string, string>;
}

/** Checks CreateStream's settings (shared with AWS::Kinesis::Stream). */
export function streamSpecOf(input: Input): StreamSpec {
  const name = requiredString(input, 'StreamName', {
    min: 1,
    max: 128,
    pattern: streamNamePattern,
  });
  const shardCount = optionalInteger(input, 'ShardCount', 1, 100_000);
  const details = input.StreamModeDetails;
  let mode: StreamMode = shardCount === undefined ? 'ON_DEMAND' : 'PROVISIONED';
  if (details !== undefined && details !== null) {
    const m = (details as Record<string, unknown>).StreamMode;
    if (m !== 'ON_DEMAND' && m !== 'PROVISIONED') {
      throw validation(
        'streamModeDetails.streamMode',
        String(m),
        'Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]',
      );
    }
    mode = m;
  }
  if (mode === 'PROVISIONED' && shardCount === undefined) {
    throw invalidArgument('ShardCount is required for PROVISIONED streams.');
  }
  if (mode === 'ON_DEMAND' && shardCount !== undefined) {
    throw invalidArgument('ShardCount cannot be specified for ON_DEMAND streams.');
  }
  const count = shardCount ?? streamLimits.onDemandShards;
  if (count > streamLimits.maxShards) {
    throw limitExceeded(
      `This request would exceed the shard limit for the account ${count} > ${streamLimits.maxShards}.`,
    );
  }
  const tags = tagsOf(input.Tags, 'tags');
  return {
    name,
    mode,
    shardCount: count,
    retentionHours: streamLimits.retention.default,
    tags,
  };
}

export function tagsOf(raw: unknown, field: string): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw validation(field, String(raw), 'Member must be a map');
  }
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (k.length < 1 || k.length > 128) {
      throw validation(field, k, 'Member must have length between 1 and 128');
    }
    if (typeof v !== 'string' || v.length > 256) {
      throw validation(field, String(v), 'Member must have length less than or equal to 256');
    }
    tags[k] = v;
  }
  if (Object.keys(tags).length > streamLimits.maxTags) {
    throw invalidArgument(`A stream cannot have more than ${streamLimits.maxTags} tags.`);
  }
  return tags;
}

export async function createStream(
  { store, records }: Pick<KinesisDeps, 'store' | 'records'>,
  clock: Clock,
  spec: StreamSpec,
) {
  const row = { ...spec, createdAt: clock.now() };
  if (!(await store.createStream(row))) throw streamExists(spec.name);
  try {
    await records.created(row);
  } catch (error) {
    // No stream without its records' home: the row goes again.
    await store.deleteStream(row.name).catch(() => undefined);
    throw error;
  }
}

/** Deletes the stream's row, then its records; false when there was no such stream. */
export async function deleteStream(
  { store, records }: Pick<KinesisDeps, 'store' | 'records'>,
  name: string,
): Promise<boolean> {
  const row = await store.findStream(name);
  if (!row || !(await store.deleteStream(name))) return false;
  await records.deleted(row);
  return true;
}

/** Sets the retention in the Store, then in the record log. */
export async function setRetention(
  { store, records }: Pick<KinesisDeps, 'store' | 'records'>,
  stream: StreamRow,
  hours: number,
): Promise<void> {
  await store.setRetention(stream.name, hours);
  await records.retentionChanged({ ...stream, retentionHours: hours });
}

export async function existingStream(store: KinesisStore, name: string): Promise<StreamRow> {
  const stream = await store.findStream(name);
  if (!stream) throw streamNotFound(name);
  return stream;
}

function modeDetails(s: StreamRow) {
  return { StreamMode: s.mode };
}

function shardView(s: StreamRow, index: number) {
  const range = shardRange(index, s.shardCount);
  return {
    ShardId: shardIdOf(index),
    HashKeyRange: { StartingHashKey: String(range.start), EndingHashKey: String(range.end) },
    SequenceNumberRange: { StartingSequenceNumber: formatSequenceNumber(index, 0) },
  };
}

/** Shard indexes after `exclusiveStart` (a shard id), up to `limit`. */
function shardPage(s: StreamRow, exclusiveStart: string | undefined, limit: number) {
  const from = exclusiveStart === undefined ? 0 : (shardIndexOf(exclusiveStart) ?? -1) + 1;
  const indexes: number[] = [];
  for (let i = Math.max(from, 0); i < s.shardCount && indexes.length < limit; i++) indexes.push(i);
  const more = (indexes.at(-1) ?? s.shardCount - 1) < s.shardCount - 1;
  return { indexes, more };
}

export function streamOperations(deps: KinesisDeps) {
  const { store, clock, region } = deps;
  return {
    async CreateStream(input: Input) {
      await createStream(deps, clock, streamSpecOf(input));
      return {};
    },
    async DeleteStream(input: Input) {
      const name = streamNameOf(input);
      if (!(await deleteStream(deps, name))) throw streamNotFound(name);
      deps.limits.forget(name);
      return {};
    },
    async DescribeStream(input: Input) {
      const s = await existingStream(store, streamNameOf(input));
      const limit = optionalInteger(input, 'Limit', 1, 10_000) ?? 100;
      const start = optionalString(input, 'ExclusiveStartShardId', { min: 1, max: 128 });
      const page = shardPage(s, start, limit);
      return {
        StreamDescription: {
          StreamName: s.name,
          StreamARN: streamArn(region, s.name),
          StreamStatus: 'ACTIVE',
          StreamModeDetails: modeDetails(s),
          Shards: page.indexes.map((i) => shardView(s, i)),
          HasMoreShards: page.more,
          RetentionPeriodHours: s.retentionHours,
          StreamCreationTimestamp: s.createdAt / 1000,
          EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
          EncryptionType: 'NONE',
        },
      };
    },
    async DescribeStreamSummary(input: Input) {
      const s = await existingStream(store, streamNameOf(input));
      return {
        StreamDescriptionSummary: {
          StreamName: s.name,
          StreamARN: streamArn(region, s.name),
          StreamStatus: 'ACTIVE',
          StreamModeDetails: modeDetails(s),
          RetentionPeriodHours: s.retentionHours,
          StreamCreationTimestamp: s.createdAt / 1000,
          EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
          EncryptionType: 'NONE',
          OpenShardCount: s.shardCount,
          ConsumerCount: 0,
        },
      };
    },
    async ListStreams(input: Input) {
      const limit = optionalInteger(input, 'Limit', 1, 10_000) ?? 100;
      const start = optionalStreamName({ StreamName: input.ExclusiveStartStreamName });
      const token = optionalString(input, 'NextToken', { min: 1, max: 1048576 });
      const after = token !== undefined ? decodeToken(token) : start;
      const all = (await store.listStreams()).filter((s) => after === undefined || s.name > after);
      const page = all.slice(0, limit);
      const more = all.length > page.length;
      return {
        StreamNames: page.map((s) => s.name),
        HasMoreStreams: more,
        ...(more ? { NextToken: encodeToken(page.at(-1)!.name) } : {}),
        StreamSummaries: page.map((s) => ({
          StreamName: s.name,
          StreamARN: streamArn(region, s.name),
          StreamStatus: 'ACTIVE',
          StreamModeDetails: modeDetails(s),
          StreamCreationTimestamp: s.createdAt / 1000,
        })),
      };
    },
    async ListShards(input: Input) {
      const token = optionalString(input, 'NextToken', { min: 1, max: 1048576 });
      const limit = optionalInteger(input, 'MaxResults', 1, 10_000) ?? 1000;
      let name: string;
      let start = optionalString(input, 'ExclusiveStartShardId', { min: 1, max: 128 });
      if (token !== undefined) {
        if (input.StreamName !== undefined || input.StreamARN !== undefined) {
          throw invalidArgument('NextToken and StreamName cannot be provided together.');
        }
        const [stream, shard] = decodeToken(token).split('\n');
        if (!stream || !shard) throw invalidArgument('Invalid NextToken.');
        name = stream;
        start = shard;
      } else {
        name = streamNameOf(input);
      }
      const s = await existingStream(store, name);
      const page = shardPage(s, start, limit);
      const last = page.indexes.at(-1);
      return {
        Shards: page.indexes.map((i) => shardView(s, i)),
        ...(page.more && last !== undefined
          ? { NextToken: encodeToken(`${s.name}\n${shardIdOf(last)}`) }
          : {}),
      };
    },
    async AddTagsToStream(input: Input) {
      const s = await existingStream(store, streamNameOf(input));
      if (input.Tags === undefined || input.Tags === null) {
        throw validation('tags', 'null', 'Member must not be null');
      }
      const tags = { ...s.tags, ...tagsOf(input.Tags, 'tags') };
      if (Object.keys(tags).length > streamLimits.maxTags) {
        throw invalidArgument(`A stream cannot have more than ${streamLimits.maxTags} tags.`);
      }
      await store.setTags(s.name, tags);
      return {};
    },
    async RemoveTagsFromStream(input: Input) {
      const s = await existingStream(store, streamNameOf(input));
      const keys = input.TagKeys;
      if (!Array.isArray(keys) || keys.length < 1 || keys.length > 50) {
        throw validation('tagKeys', String(keys), 'Member must have length between 1 and 50');
      }
      const tags = { ...s.tags };
      for (const k of keys) if (typeof k === 'string') delete tags[k];
      await store.setTags(s.name, tags);
      return {};
    },
    async ListTagsForStream(input: Input) {
      const s = await existingStream(store, streamNameOf(input));
      const limit = optionalInteger(input, 'Limit', 1, 50) ?? 50;
      const start = optionalString(input, 'ExclusiveStartTagKey', { min: 1, max: 128 });
      const keys = Object.keys(s.tags)
        .sort()
        .filter((k) => start === undefined || k > start);
      return {
        Tags: keys.slice(0, limit).map((Key) => ({ Key, Value: s.tags[Key] })),
        HasMoreTags: keys.length > limit,
      };
    },
    async IncreaseStreamRetentionPeriod(input: Input) {
      const s = await existingStream(store, streamNameOf(input));
      const hours = retentionOf(input);
      if (hours < s.retentionHours) {
        throw invalidArgument(
          `Requested retention period (${hours} hours) for stream ${s.name} can not be shorter than existing retention period (${s.retentionHours} hours). Use DecreaseRetentionPeriod API.`,
        );
      }
      await setRetention(deps, s, hours);
      return {};
    },
    async DecreaseStreamRetentionPeriod(input: Input) {
      const s = await existingStream(store, streamNameOf(input));
      const hours = retentionOf(input);
      if (hours > s.retentionHours) {
        throw invalidArgument(
          `Requested retention period (${hours} hours) for stream ${s.name} can not be longer than existing retention period (${s.retentionHours} hours). Use IncreaseRetentionPeriod API.`,
        );
      }
      await setRetention(deps, s, hours);
      return {};
    },
  };
}

function retentionOf(input: Input): number {
  const { min, max } = streamLimits.retention;
  const hours = input.RetentionPeriodHours;
  if (typeof hours !== 'number' || !Number.isInteger(hours)) {
    throw validation('retentionPeriodHours', String(hours), 'Member must not be null');
  }
  if (hours < min || hours > max) {
    throw invalidArgument(
      `Minimum allowed retention period is ${min} hours. Maximum allowed retention period is ${max} hours. Requested retention period (${hours} hours) is out of bounds.`,
    );
  }
  return hours;
}

function encodeToken(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  return Buffer.from(token, 'base64url').toString('utf8');
}
