/**
 * DynamoDB Streams: a table's StreamSpecification, and the record a committed change writes
 * (the DynamoDB Streams API shape; an event-source mapping adds `eventSourceARN` when it hands
 * records to a function). One stream has one shard here: records are in commit order for the
 * whole table, so in order per key too.
 */
import { randomUUID } from 'node:crypto';
import { type Item, itemSize, valuesEqual } from './attribute-value.js';
import { invalidParameter, validation } from './dynamodb-errors.js';
import { keyAttributesOf, type TableDescriptionStored, type TableSchema } from './table-schema.js';

export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';
const viewTypes: StreamViewType[] = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'];

/** How long records are kept, as DynamoDB keeps them. */
export const streamRetentionMs = 24 * 60 * 60 * 1000;

export interface StreamSpecification {
  StreamEnabled: boolean;
  StreamViewType?: StreamViewType;
}

/** Who made a change: absent for API calls; the TTL sweeper's deletes carry DynamoDB's identity. */
export interface ChangeOrigin {
  bySystem?: boolean;
}

export interface StreamRecord {
  eventID: string;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  eventVersion: '1.1';
  eventSource: 'aws:dynamodb';
  awsRegion: string;
  dynamodb: {
    ApproximateCreationDateTime: number;
    Keys: Item;
    NewImage?: Item;
    OldImage?: Item;
    SequenceNumber: string;
    SizeBytes: number;
    StreamViewType: StreamViewType;
  };
  userIdentity?: { type: 'Service'; principalId: 'dynamodb.amazonaws.com' };
}

export function checkStreamSpecification(raw: unknown): StreamSpecification {
  const s = (raw ?? {}) as Record<string, unknown>;
  if (typeof s.StreamEnabled !== 'boolean') {
    throw validation(
      "1 validation error detected: Value null at 'streamSpecification.streamEnabled' failed to satisfy constraint: Member must not be null",
    );
  }
  if (!s.StreamEnabled) {
    if (s.StreamViewType !== undefined)
      throw invalidParameter('StreamViewType may not be specified when StreamEnabled is false');
    return { StreamEnabled: false };
  }
  if (!viewTypes.includes(s.StreamViewType as StreamViewType)) {
    throw invalidParameter(
      s.StreamViewType === undefined
        ? 'You must specify a StreamViewType when enabling a stream'
        : `Value '${String(s.StreamViewType)}' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [${viewTypes.join(', ')}]`,
    );
  }
  return { StreamEnabled: true, StreamViewType: s.StreamViewType as StreamViewType };
}

/**
 * A new stream's label and ARN, as DynamoDB names them (the label is its creation time), unless
 * the caller fixed the label (tables from `resources`: see table-provisioner.ts).
 */
export function enableStream(
  d: TableDescriptionStored,
  spec: StreamSpecification,
  now: number,
  fixedLabel?: string,
): void {
  const label = fixedLabel ?? new Date(now).toISOString().replace(/Z$/, '');
  d.StreamSpecification = spec;
  d.LatestStreamLabel = label;
  d.LatestStreamArn = `${d.TableArn}/stream/${label}`;
}

/** The stream a change of this table is written to, if it has one enabled. */
export function activeStreamOf(
  table: TableSchema,
): { arn: string; view: StreamViewType } | undefined {
  const d = table.description;
  if (!d.StreamSpecification?.StreamEnabled || !d.LatestStreamArn) return undefined;
  return { arn: d.LatestStreamArn, view: d.StreamSpecification.StreamViewType! };
}

/** The record of one change, or undefined when the item did not change (no record, as DynamoDB). */
export function changeRecord(
  table: TableSchema,
  view: StreamViewType,
  before: Item | undefined,
  after: Item | undefined,
  seq: () => Promise<string>,
  ctx: { now: number; region: string; origin?: ChangeOrigin },
): Promise<StreamRecord> | undefined {
  if (!before && !after) return undefined;
  if (before && after && valuesEqual({ M: before }, { M: after })) return undefined;
  const eventName = !before ? 'INSERT' : !after ? 'REMOVE' : 'MODIFY';
  const keys = keyAttributesOf(table, (after ?? before)!);
  const withNew = (view === 'NEW_IMAGE' || view === 'NEW_AND_OLD_IMAGES') && after;
  const withOld = (view === 'OLD_IMAGE' || view === 'NEW_AND_OLD_IMAGES') && before;
  const size = itemSize(keys) + (withNew ? itemSize(after) : 0) + (withOld ? itemSize(before) : 0);
  return seq().then((sequence) => ({
    eventID: randomUUID().replaceAll('-', ''),
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: ctx.region,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(ctx.now / 1000),
      Keys: keys,
      ...(withNew ? { NewImage: after } : {}),
      ...(withOld ? { OldImage: before } : {}),
      SequenceNumber: sequence,
      SizeBytes: size,
      StreamViewType: view,
    },
    ...(ctx.origin?.bySystem
      ? { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } as const }
      : {}),
  }));
}

/** Sequence numbers as DynamoDB shows them: digit strings that sort as text as they do as numbers. */
export function formatSequence(seq: number | bigint | string): string {
  return String(seq).padStart(21, '0');
}
