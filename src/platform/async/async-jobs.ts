/** What the async layer keeps in a queue job (docs/async.md). */
export interface InvokeJob {
  kind: 'invoke';
  requestId: string;
  functionName: string;
  /** Resolved when the event was accepted, so a later deploy does not change what runs. */
  version: string;
  /** The event, JSON text. */
  event: string;
  acceptedAt: number;
  maxRetryAttempts: number;
  maxEventAgeMs: number;
  /** Where the outcome goes, as written in serverless.yml (resolved when it is needed). */
  onSuccess?: string;
  onFailure?: string;
  /** `onError`: the SQS queue or SNS topic ARN that gets the event itself once it failed. */
  deadLetter?: string;
  /** Service and stage, to resolve a destination given as a function key. */
  service: string;
  stage: string;
  /** W3C traceparent of the call that queued it, so the run joins that trace. */
  trace?: string;
}

/** An invocation record on its way to an HTTP(S) destination. */
export interface DeliverJob {
  kind: 'deliver';
  recordId: string;
  /** An http(s) URL, or the ARN of the queue, topic or event bus `via` names. */
  url: string;
  /** Absent for URLs: an SQS queue, SNS topic or EventBridge bus, delivered through `messaging`. */
  via?: 'sqs' | 'sns' | 'events';
  body: string;
  /** Message attributes (a dead-letter queue's RequestID, ErrorCode, ErrorMessage). */
  attributes?: Record<string, { DataType: string; StringValue: string }>;
  /**
   * The invocation record does not follow this delivery (a dead-letter send beside an
   * onFailure destination, which the record follows).
   */
  untracked?: boolean;
}

export type AsyncJob = InvokeJob | DeliverJob;

/** The queue HTTP destinations are delivered from (function names never contain a dot). */
export const deliveryQueue = 'nimbus.destinations';

/**
 * The queues the async worker runs: one per function, and the destinations. Other `nimbus.*`
 * queues belong to other parts (EventBridge target jobs), which lease them themselves.
 */
export function isAsyncQueue(queue: string): boolean {
  return queue === deliveryQueue || !queue.includes('.');
}

/** Async payloads up to 1 MB (Lambda's limit since 2025 is 1 MB for async invocation). */
export const maxAsyncPayloadBytes = 1024 * 1024;
