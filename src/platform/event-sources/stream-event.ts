/**
 * A serverless.yml `stream` event as mapping settings, with the problems Lambda (or the
 * Framework's schema) would refuse it for. Checked at load by the CLI and at deploy by the
 * platform (definition-rules.ts), and turned into a stage's mappings by the reconcile reaction.
 * DynamoDB table streams and Kinesis streams are served. The `arn` is a plain ARN string by the
 * time the reaction runs: `Fn::GetAtt [T, StreamArn]` (DynamoDB) or `Fn::GetAtt [S, Arn]`
 * (Kinesis) is resolved with the resources before.
 */

import { eventFields, isPlainObject } from './event-fields.js';
import {
  type MappingSettings,
  parseDynamoStreamArn,
  parseKinesisStreamArn,
  streamDefaults,
  streamSettingsProblems,
} from './mapping.js';

export type StreamEventResult =
  | { ok: true; arn: string; settings: MappingSettings }
  | { ok: false; problems: { field: string; message: string }[] };

export function streamEventSettings(
  config: Record<string, unknown>,
  opts: { unresolvedArn?: 'allow' } = {},
): StreamEventResult {
  const problems: { field: string; message: string }[] = [];
  const arn = config.arn;
  const unresolved = opts.unresolvedArn === 'allow' && isPlainObject(arn);
  const type = config.type;
  const kinesis =
    type === 'kinesis' ||
    (type === undefined && typeof arn === 'string' && /^arn:aws[a-zA-Z-]*:kinesis:/.test(arn));
  if (type !== undefined && type !== 'dynamodb' && type !== 'kinesis') {
    problems.push({ field: 'type', message: 'must be dynamodb or kinesis' });
  } else if (kinesis) {
    if (!unresolved && (typeof arn !== 'string' || !parseKinesisStreamArn(arn))) {
      problems.push({
        field: 'arn',
        message:
          typeof arn === 'string'
            ? `${arn} is not a Kinesis stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>, or Fn::GetAtt [<Stream>, Arn])`
            : 'must be a Kinesis stream ARN or Fn::GetAtt [<Stream>, Arn]',
      });
    }
  } else if (!unresolved && (typeof arn !== 'string' || !parseDynamoStreamArn(arn))) {
    problems.push({
      field: 'arn',
      message:
        typeof arn === 'string'
          ? `${arn} is not a DynamoDB stream ARN (use Fn::GetAtt [<Table>, StreamArn])`
          : 'must be a DynamoDB stream ARN or Fn::GetAtt [<Table>, StreamArn]',
    });
  }
  const { int, bool, responseTypes, filterPatterns } = eventFields(config, problems, {
    negativeInts: true,
  });
  const types = responseTypes();
  const filters = filterPatterns();
  let onFailure: string | undefined;
  const destinations = config.destinations;
  if (destinations !== undefined && destinations !== null) {
    const raw = isPlainObject(destinations)
      ? (destinations as Record<string, unknown>).onFailure
      : undefined;
    const value = isPlainObject(raw) ? (raw as Record<string, unknown>).arn : raw;
    if (typeof value === 'string') onFailure = value;
    else if (!(opts.unresolvedArn === 'allow' && isPlainObject(value))) {
      problems.push({
        field: 'destinations',
        message: 'must be {onFailure: <SQS queue or SNS topic ARN>} (or {onFailure: {arn, type}})',
      });
    }
  }
  // The Framework's name for streams is `batchWindow`; `maximumBatchingWindow` (its name on
  // `sqs` events) is taken too, as earlier Nimbus documented it. Both at once is ambiguous.
  if (config.batchWindow !== undefined && config.maximumBatchingWindow !== undefined) {
    problems.push({
      field: 'batchWindow',
      message: 'give batchWindow or maximumBatchingWindow, not both',
    });
  }
  const windowKey = config.batchWindow !== undefined ? 'batchWindow' : 'maximumBatchingWindow';
  const starting = config.startingPosition;
  const factor = int('parallelizationFactor', 1);
  const timestamp = unixSeconds(config.startingPositionTimestamp);
  if (timestamp === null) {
    problems.push({
      field: 'startingPositionTimestamp',
      message: 'must be a time in Unix seconds (or an ISO 8601 date)',
    });
  }
  const settings: MappingSettings = {
    ...streamDefaults,
    batchSize: int('batchSize', streamDefaults.batchSize),
    maximumBatchingWindowInSeconds: int(windowKey, 0),
    maximumRetryAttempts: int('maximumRetryAttempts', -1),
    maximumRecordAgeInSeconds: int('maximumRecordAgeInSeconds', -1),
    bisectBatchOnFunctionError: bool('bisectBatchOnFunctionError', false),
    functionResponseTypes: types,
    filters,
    startingPosition:
      starting === undefined || starting === null ? 'TRIM_HORIZON' : String(starting),
    ...(timestamp === undefined || timestamp === null
      ? {}
      : { startingPositionTimestamp: timestamp }),
    ...(factor === 1 ? {} : { parallelizationFactor: factor }),
    ...(onFailure === undefined ? {} : { onFailure }),
    enabled: bool('enabled', true),
  };
  if (problems.length === 0) {
    for (const message of streamSettingsProblems(settings, kinesis ? 'kinesis' : 'dynamodb')) {
      if (unresolved && /onFailure/.test(message)) continue;
      const field = fieldOf(message);
      problems.push(
        field === 'maximumBatchingWindow'
          ? { field: windowKey, message: message.replace('maximumBatchingWindow', windowKey) }
          : { field, message },
      );
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, arn: arn as string, settings };
}

/** serverless.yml's `startingPositionTimestamp`: Unix seconds, or a date; null when neither. */
function unixSeconds(v: unknown): number | undefined | null {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.getTime() / 1000;
  if (typeof v === 'string') {
    if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
    const ms = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : Number.NaN;
    return Number.isNaN(ms) ? null : ms / 1000;
  }
  return null;
}

function fieldOf(message: string): string {
  for (const f of [
    'startingPositionTimestamp',
    'parallelizationFactor',
    'maximumBatchingWindow',
    'batchSize',
    'maximumRetryAttempts',
    'maximumRecordAgeInSeconds',
    'startingPosition',
    'functionResponseType',
  ]) {
    if (message.includes(f)) return f;
  }
  if (/onFailure/.test(message)) return 'destinations';
  return 'filterPatterns';
}
