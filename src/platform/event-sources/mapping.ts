/**
 * An event source mapping as Nimbus keeps it: the same object is stored (migration 017),
 * answered by the Lambda API and run by the engine, whether it came from a serverless.yml
 * `sqs` event or from CreateEventSourceMapping.
 */
import { type FilterPattern, parseFilterPattern } from './filter-pattern.js';

export interface MappingSettings {
  /** Records per invocation: SQS 1..10,000 (over 10 only with a batching window). */
  batchSize: number;
  /** Seconds to gather a batch after its first record, 0..300. */
  maximumBatchingWindowInSeconds: number;
  /** `ReportBatchItemFailures` or nothing. */
  functionResponseTypes: string[];
  /** SQS: batches in flight at once (2..1000); absent: the default of 5. */
  maximumConcurrency?: number;
  /** Pattern texts, each checked by parseFilterPattern. */
  filters: string[];
  /** Streams: split a failing batch in two before retrying. */
  bisectBatchOnFunctionError: boolean;
  /** Streams: -1 retries until the record expires. */
  maximumRetryAttempts: number;
  /** Streams: -1 keeps records until they succeed. */
  maximumRecordAgeInSeconds: number;
  /** Streams: where a batch given up on is reported (an SQS queue ARN). */
  onFailure?: string;
  /** Streams: TRIM_HORIZON, LATEST or AT_TIMESTAMP (Kinesis only). */
  startingPosition?: string;
  /** Streams, with AT_TIMESTAMP: where reading starts, in Unix seconds (Lambda's unit). */
  startingPositionTimestamp?: number;
  /**
   * Streams: batches of one shard in flight at once, 1..10; absent means 1. Records of one
   * partition key (Kinesis) or item key (DynamoDB) stay in order (stream-runner.ts).
   */
  parallelizationFactor?: number;
  enabled: boolean;
}

export interface Mapping extends MappingSettings {
  uuid: string;
  /** The deployed function name (`svc-dev-worker`). */
  functionName: string;
  /** A version or alias; a serverless.yml mapping invokes its stage alias. */
  qualifier?: string;
  sourceArn: string;
  /** `deploy`: made from serverless.yml for `service`/`stage`; `api`: by the Lambda API. */
  origin: 'deploy' | 'api';
  service?: string;
  stage?: string;
  /** Epoch ms. */
  lastModified: number;
}

/** Lambda's defaults for SQS (docs/sqs.md#events). */
export const sqsDefaults: MappingSettings = {
  batchSize: 10,
  maximumBatchingWindowInSeconds: 0,
  functionResponseTypes: [],
  filters: [],
  bisectBatchOnFunctionError: false,
  maximumRetryAttempts: -1,
  maximumRecordAgeInSeconds: -1,
  enabled: true,
};

/** Batches a queue mapping keeps in flight without a maximumConcurrency (Lambda's first pollers). */
export const defaultQueueConcurrency = 5;

/** `arn:aws:sqs:<region>:<account>:<name>`, the only source kind this engine serves yet. */
export function parseSqsArn(
  arn: string,
): { region: string; account: string; queue: string } | undefined {
  const m = /^arn:aws[a-zA-Z-]*:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$/.exec(
    arn,
  );
  return m ? { region: m[1]!, account: m[2]!, queue: m[3]! } : undefined;
}

/**
 * The problems of settings for an SQS source, in Lambda's words where it has them; empty when
 * they are fine. Shared by deploy checks and the Lambda API so both refuse the same things.
 */
export function sqsSettingsProblems(s: MappingSettings): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(s.batchSize) || s.batchSize < 1 || s.batchSize > 10_000) {
    problems.push('batchSize must be an integer from 1 to 10000');
  } else if (s.batchSize > 10 && s.maximumBatchingWindowInSeconds <= 0) {
    problems.push(
      'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
    );
  }
  const w = s.maximumBatchingWindowInSeconds;
  if (!Number.isInteger(w) || w < 0 || w > 300) {
    problems.push('maximumBatchingWindow must be an integer from 0 to 300 seconds');
  }
  for (const t of s.functionResponseTypes) {
    if (t !== 'ReportBatchItemFailures') {
      problems.push(`functionResponseType must be ReportBatchItemFailures, not ${t}`);
    }
  }
  const c = s.maximumConcurrency;
  if (c !== undefined && (!Number.isInteger(c) || c < 2 || c > 1000)) {
    problems.push('maximumConcurrency must be an integer from 2 to 1000');
  }
  if (s.filters.length > 5) problems.push('at most 5 filter patterns per mapping');
  for (const f of s.filters) {
    const parsed = parseFilterPattern(f);
    if (!parsed.ok) problems.push(parsed.reason);
  }
  return problems;
}

/** The parsed patterns of checked settings. */
export function patternsOf(s: Pick<MappingSettings, 'filters'>): FilterPattern[] {
  return s.filters.flatMap((f) => {
    const parsed = parseFilterPattern(f);
    return parsed.ok ? [parsed.pattern] : [];
  });
}

/** Lambda's defaults for a stream source (DynamoDB, Kinesis): retry until the record expires. */
export const streamDefaults: MappingSettings = {
  batchSize: 100,
  maximumBatchingWindowInSeconds: 0,
  functionResponseTypes: [],
  filters: [],
  bisectBatchOnFunctionError: false,
  maximumRetryAttempts: -1,
  maximumRecordAgeInSeconds: -1,
  startingPosition: 'TRIM_HORIZON',
  enabled: true,
};

/** `arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>` */
export function parseDynamoStreamArn(
  arn: string,
): { region: string; account: string; table: string; label: string } | undefined {
  const m =
    /^arn:aws[a-zA-Z-]*:dynamodb:([a-z0-9-]+):(\d{12}):table\/([a-zA-Z0-9_.-]{3,255})\/stream\/(.+)$/.exec(
      arn,
    );
  return m ? { region: m[1]!, account: m[2]!, table: m[3]!, label: m[4]! } : undefined;
}

/** `arn:aws:kinesis:<region>:<account>:stream/<name>` */
export function parseKinesisStreamArn(
  arn: string,
): { region: string; account: string; stream: string } | undefined {
  const m =
    /^arn:aws[a-zA-Z-]*:kinesis:([a-z0-9-]+):(\d{12}):stream\/([a-zA-Z0-9_.-]{1,128})$/.exec(arn);
  return m ? { region: m[1]!, account: m[2]!, stream: m[3]! } : undefined;
}

/** `arn:aws:sqs:…` or `arn:aws:sns:…`: where a stream mapping may report a batch given up on. */
export function isFailureDestinationArn(arn: string): boolean {
  return /^arn:aws[a-zA-Z-]*:(sqs|sns):[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$/.test(arn);
}

/**
 * The problems of settings for a stream source, in Lambda's words where it has them. `kind`
 * is the source: AT_TIMESTAMP is for Kinesis streams only, as on Lambda.
 */
export function streamSettingsProblems(
  s: MappingSettings,
  kind: 'kinesis' | 'dynamodb' = 'dynamodb',
): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(s.batchSize) || s.batchSize < 1 || s.batchSize > 10_000) {
    problems.push('batchSize must be an integer from 1 to 10000');
  }
  const w = s.maximumBatchingWindowInSeconds;
  if (!Number.isInteger(w) || w < 0 || w > 300) {
    problems.push('maximumBatchingWindow must be an integer from 0 to 300 seconds');
  }
  for (const t of s.functionResponseTypes) {
    if (t !== 'ReportBatchItemFailures') {
      problems.push(`functionResponseType must be ReportBatchItemFailures, not ${t}`);
    }
  }
  const r = s.maximumRetryAttempts;
  if (!Number.isInteger(r) || r < -1 || r > 10_000) {
    problems.push('maximumRetryAttempts must be an integer from -1 to 10000');
  }
  const age = s.maximumRecordAgeInSeconds;
  if (!Number.isInteger(age) || (age !== -1 && (age < 60 || age > 604_800))) {
    problems.push('maximumRecordAgeInSeconds must be -1 or an integer from 60 to 604800');
  }
  const positions =
    kind === 'kinesis' ? ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'] : ['TRIM_HORIZON', 'LATEST'];
  if (!positions.includes(s.startingPosition ?? '')) {
    problems.push(
      kind === 'kinesis'
        ? 'startingPosition must be TRIM_HORIZON, LATEST or AT_TIMESTAMP'
        : 'startingPosition must be TRIM_HORIZON or LATEST (AT_TIMESTAMP is for Kinesis streams only)',
    );
  }
  const at = s.startingPositionTimestamp;
  if (s.startingPosition === 'AT_TIMESTAMP' && kind === 'kinesis' && at === undefined) {
    problems.push('startingPositionTimestamp is required with startingPosition AT_TIMESTAMP');
  }
  if (at !== undefined) {
    if (s.startingPosition !== 'AT_TIMESTAMP') {
      problems.push('startingPositionTimestamp goes only with startingPosition AT_TIMESTAMP');
    } else if (typeof at !== 'number' || !Number.isFinite(at) || at < 0) {
      problems.push('startingPositionTimestamp must be a time in Unix seconds');
    }
  }
  const factor = s.parallelizationFactor;
  if (factor !== undefined && (!Number.isInteger(factor) || factor < 1 || factor > 10)) {
    problems.push('parallelizationFactor must be an integer from 1 to 10');
  }
  if (s.onFailure !== undefined && !isFailureDestinationArn(s.onFailure)) {
    problems.push(
      `destinations.onFailure must be an SQS queue or SNS topic ARN, not ${s.onFailure}`,
    );
  }
  if (s.maximumConcurrency !== undefined) {
    problems.push('maximumConcurrency applies to SQS sources only');
  }
  if (s.filters.length > 5) problems.push('at most 5 filter patterns per mapping');
  for (const f of s.filters) {
    const parsed = parseFilterPattern(f);
    if (!parsed.ok) problems.push(parsed.reason);
  }
  return problems;
}
