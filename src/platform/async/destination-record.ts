import type { InvokeResult } from '../../model/invocation.js';
import { functionArn } from '../invoker/function-ref.js';
import type { InvokeJob } from './async-jobs.js';

export type Condition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded';

/** The Lambda invocation record that destinations receive (docs/async.md). */
export function invocationRecord(
  job: InvokeJob,
  opts: {
    region: string;
    condition: Condition;
    attempts: number;
    nowMs: number;
    result?: InvokeResult;
  },
): Record<string, unknown> {
  const outcome = opts.result?.outcome;
  const responsePayload =
    outcome === undefined
      ? undefined
      : outcome.status === 'ok'
        ? parse(outcome.payload)
        : outcome.error;
  return {
    version: '1.0',
    timestamp: new Date(opts.nowMs).toISOString(),
    requestContext: {
      requestId: job.requestId,
      functionArn: functionArn(opts.region, job.functionName, job.version),
      condition: opts.condition,
      approximateInvokeCount: opts.attempts,
    },
    requestPayload: parse(job.event),
    responseContext: {
      statusCode: 200,
      executedVersion: opts.result?.executedVersion ?? job.version,
      ...(outcome?.status === 'error' ? { functionError: 'Unhandled' } : {}),
    },
    ...(responsePayload === undefined ? {} : { responsePayload }),
  };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const messagingArn = /^arn:aws[a-zA-Z-]*:(sqs|sns|events):[^:]*:[^:]*:[^:]+$/;
const eventBusArn = /^arn:aws[a-zA-Z-]*:events:[^:]*:[^:]*:event-bus\/[\w.-]+$/;

/**
 * Refuses a destination Nimbus cannot deliver to: an ARN that names no Lambda function, SQS
 * queue, SNS topic or EventBridge bus would otherwise pass as a function name and
 * fail every event at run time. The message names the destination; the caller adds where it
 * was written.
 */
export function validateDestination(raw: string): void {
  if (/^https?:\/\//.test(raw)) return;
  if (!raw.startsWith('arn:')) return;
  if (/^arn:aws[a-zA-Z-]*:lambda:[^:]*:[^:]*:function:[^:]+/.test(raw)) return;
  const messaging = messagingArn.exec(raw);
  if (messaging && (messaging[1] !== 'events' || eventBusArn.test(raw))) return;
  throw new Error(
    `${raw} is not supported: a destination is a function (key, name or Lambda function ARN), ` +
      'an SQS queue, SNS topic or EventBridge event bus ARN, or an http(s) URL',
  );
}

/** A destination as written in serverless.yml: a URL, a function ARN, or a function key or name. */
export function destinationTarget(
  raw: string,
  job: InvokeJob,
):
  | { type: 'url'; url: string }
  | { type: 'sqs' | 'sns' | 'events'; arn: string }
  | { type: 'function'; name: string } {
  if (/^https?:\/\//.test(raw)) return { type: 'url', url: raw };
  const messaging = messagingArn.exec(raw);
  if (messaging) return { type: messaging[1] as 'sqs' | 'sns' | 'events', arn: raw };
  const arn = /^arn:aws[a-zA-Z-]*:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(raw);
  if (arn) return { type: 'function', name: arn[1]! };
  // A key of the same service, as the Serverless Framework lets you write it; else a full name.
  return {
    type: 'function',
    name:
      /^[a-zA-Z0-9_-]+$/.test(raw) && !raw.startsWith(`${job.service}-${job.stage}-`)
        ? `${job.service}-${job.stage}-${raw}`
        : raw,
  };
}
