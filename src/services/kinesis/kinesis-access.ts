/**
 * Which stream each Kinesis operation names, for the shared ownership check
 * (platform/auth/resource-access.ts, docs/security.md): a function's session credentials reach
 * their own stage's streams and shared ones.
 */
import type { AccessRule, ResourceRef } from '../../platform/auth/resource-access.js';
import { AwsError } from '../../platform/aws/aws-error.js';

export const streamKind = 'AWS::Kinesis::Stream';
type Input = Record<string, unknown>;

/** AccessDeniedException, as Kinesis refuses a principal its policy does not allow. */
export function kinesisAccessDenied(): AwsError {
  return new AwsError(
    400,
    'AccessDeniedException',
    'User is not authorized to perform this action on this resource: it belongs to another service stage',
  );
}

const stream = (name: unknown): ResourceRef[] =>
  typeof name === 'string' && name !== '' ? [{ kind: streamKind, name }] : [];
/** `StreamName`, or the name at the end of `StreamARN` (`...:stream/<name>`). */
const byStream = (input: Input): ResourceRef[] => {
  if (typeof input.StreamName === 'string') return stream(input.StreamName);
  if (typeof input.StreamARN !== 'string') return [];
  const at = input.StreamARN.indexOf(':stream/');
  return at < 0 ? [] : stream(input.StreamARN.slice(at + ':stream/'.length).split('/')[0]);
};
/** Base64url JSON, its stream second (shard-iterator.ts encodeIterator). */
const byIterator = (input: Input): ResourceRef[] => {
  if (typeof input.ShardIterator !== 'string' || input.ShardIterator.length > 4096) return [];
  try {
    const parts = JSON.parse(Buffer.from(input.ShardIterator, 'base64url').toString('utf8'));
    return Array.isArray(parts) ? stream(parts[1]) : [];
  } catch {
    return [];
  }
};
/** ListShards continues from a NextToken of `<stream>\n<shard>` instead of a stream name. */
const byShardListing = (input: Input): ResourceRef[] =>
  typeof input.NextToken === 'string'
    ? stream(Buffer.from(input.NextToken, 'base64url').toString('utf8').split('\n')[0])
    : byStream(input);

const read: AccessRule<Input, object> = { write: false, refs: byStream };
const write: AccessRule<Input, object> = { write: true, refs: byStream };

export function kinesisAccessRules(
  streamExists: (name: string) => Promise<boolean>,
): Record<string, AccessRule<Input, object>> {
  return {
    CreateStream: { write: true, refs: byStream, creates: { exists: streamExists } },
    DeleteStream: { write: true, refs: byStream, deletes: true },
    DescribeStream: read,
    DescribeStreamSummary: read,
    ListShards: { write: false, refs: byShardListing },
    ListTagsForStream: read,
    AddTagsToStream: write,
    RemoveTagsFromStream: write,
    IncreaseStreamRetentionPeriod: write,
    DecreaseStreamRetentionPeriod: write,
    PutRecord: write,
    PutRecords: write,
    GetShardIterator: read,
    GetRecords: { write: false, refs: byIterator },
    ListStreams: {
      write: false,
      filter: {
        kind: streamKind,
        keep: (output, reaches) => {
          const out = output as {
            StreamNames?: string[];
            StreamSummaries?: { StreamName: string }[];
          };
          return {
            ...out,
            StreamNames: (out.StreamNames ?? []).filter(reaches),
            StreamSummaries: (out.StreamSummaries ?? []).filter((s) => reaches(s.StreamName)),
          };
        },
      },
    },
  };
}
