/** The settable queue attributes: their defaults, bounds and checks, as SQS documents them. */
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import { sqsErrors } from './sqs-errors.js';

const integerBounds: Record<string, [number, number, number]> = {
  // name: [min, max, default]
  VisibilityTimeout: [0, 43_200, 30],
  MessageRetentionPeriod: [60, 1_209_600, 345_600],
  DelaySeconds: [0, 900, 0],
  ReceiveMessageWaitTimeSeconds: [0, 20, 0],
  MaximumMessageSize: [1024, 262_144, 262_144],
};

const otherSettable = new Set([
  'RedrivePolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'Policy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
  'DeduplicationScope',
  'FifoThroughputLimit',
]);

/** Attributes only SQS computes; asked for by name in GetQueueAttributes. */
export const computedAttributes = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
];

export function defaultAttributes(fifo: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, [, , value]] of Object.entries(integerBounds)) out[name] = String(value);
  out.SqsManagedSseEnabled = 'false';
  if (fifo) {
    out.FifoQueue = 'true';
    out.ContentBasedDeduplication = 'false';
    out.DeduplicationScope = 'queue';
    out.FifoThroughputLimit = 'perQueue';
  }
  return out;
}

/** Checks attributes being set; `creating` allows FifoQueue, which only CreateQueue may set. */
export function checkAttributes(
  attributes: Record<string, string>,
  fifo: boolean,
  creating: boolean,
): void {
  for (const [name, value] of Object.entries(attributes)) {
    const bounds = integerBounds[name];
    if (bounds) {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < bounds[0] || n > bounds[1]) {
        throw sqsErrors.invalidAttributeValue(
          name,
          `must be an integer from ${bounds[0]} to ${bounds[1]}.`,
        );
      }
      continue;
    }
    if (!otherSettable.has(name)) throw sqsErrors.invalidAttributeName(name);
    if (name === 'FifoQueue') {
      if (!creating) throw sqsErrors.invalidAttributeName(name);
      if (value !== String(fifo)) {
        throw sqsErrors.invalidAttributeValue(
          name,
          'FIFO queue names end in .fifo, and only they have FifoQueue true.',
        );
      }
    }
    if (name === 'ContentBasedDeduplication') {
      if (!fifo) throw sqsErrors.invalidAttributeName(name);
      if (value !== 'true' && value !== 'false') {
        throw sqsErrors.invalidAttributeValue(name, 'must be true or false.');
      }
    }
    if (name === 'RedrivePolicy' && value !== '') parseRedrivePolicy(value);
  }
}

export interface RedrivePolicy {
  deadLetterQueue: string;
  maxReceiveCount: number;
}

export function parseRedrivePolicy(text: string): RedrivePolicy {
  const invalid = (why: string) => sqsErrors.invalidAttributeValue('RedrivePolicy', why);
  let value: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    throw invalid('Redrive policy is not a valid JSON map.');
  }
  const arn = value?.deadLetterTargetArn;
  const count = Number(value?.maxReceiveCount);
  if (typeof arn !== 'string')
    throw invalid('Redrive policy does not contain deadLetterTargetArn.');
  const name = queueNameOfArn(arn);
  if (name === undefined) throw invalid(`Dead-letter target ARN ${arn} is not a queue ARN.`);
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw invalid('Value for parameter maxReceiveCount must be an integer from 1 to 1000.');
  }
  return { deadLetterQueue: name, maxReceiveCount: count };
}

export function queueArn(region: string, name: string): string {
  return `arn:aws:sqs:${region}:${NIMBUS_ACCOUNT_ID}:${name}`;
}

function queueNameOfArn(arn: string): string | undefined {
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sqs') return undefined;
  return parts[5] || undefined;
}

/** 1–80 letters, digits, hyphens and underscores; FIFO names end in `.fifo`. */
export function checkQueueName(name: string, fifo: boolean): void {
  const base = fifo ? name.replace(/\.fifo$/, '') : name;
  if (fifo !== name.endsWith('.fifo') || !/^[A-Za-z0-9_-]{1,75}$/.test(base) || name.length > 80) {
    throw sqsErrors.invalidParameter(
      'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length. ' +
        'FIFO queue names end in .fifo, and only they do.',
    );
  }
}
