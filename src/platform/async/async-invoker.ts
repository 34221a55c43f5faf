import { randomUUID } from 'node:crypto';
import { NimbusError } from '../../errors/nimbus-error.js';
import type { Clock } from '../../model/clock.js';
import type { TransactionalWorkQueue } from '../../queue/work-queue.js';
import type { StoreTx } from '../../store/group-commit.js';
import type { Invoker } from '../invoker/invoker-port.js';
import { type TraceContext, toTraceparent } from '../observe/tracing/trace-context.js';
import type { InvokeJob } from './async-jobs.js';
import { maxAsyncPayloadBytes } from './async-jobs.js';
import { failpoint } from './failpoint.js';
import type { InvocationRecords } from './invocation-records.js';
import { defaultMaximumEventAgeSeconds, defaultMaximumRetryAttempts } from './retry-policy.js';

export class AsyncPayloadTooLargeError extends NimbusError {
  override readonly type = 'RequestTooLargeException';
  constructor(bytes: number) {
    super(
      'NIMBUS_ASYNC_TOO_LARGE',
      `Request must be smaller than ${maxAsyncPayloadBytes} bytes for the asynchronous invocation (got ${bytes})`,
    );
  }
}

export interface AsyncInvokerDeps {
  invoker: Invoker;
  /** Its job and the task record are written in one transaction. */
  queue: TransactionalWorkQueue<StoreTx>;
  records: InvocationRecords;
  clock: Clock;
  /** Tells the worker there is work, so it need not wait for its next poll. */
  wake: () => void;
}

export interface AcceptOptions {
  idempotencyKey?: string;
  /** The trace of the call that queues the event (docs/tracing.md). */
  trace?: TraceContext;
  /**
   * The caller's own retry policy and failure destination, in place of the function's (an
   * EventBridge target's RetryPolicy and DeadLetterConfig).
   */
  retry?: { maxRetryAttempts?: number; maxEventAgeSeconds?: number };
  onFailure?: string;
}

export interface Accepted {
  requestId: string;
  /** The key was seen before: nothing new was stored, requestId is the first event's. */
  duplicate: boolean;
}

/** An event checked and resolved, ready to be written (prepare, then acceptWithin). */
export interface PreparedEvent {
  job: InvokeJob;
  expiresAt: number;
  /** Already scoped to the function. */
  idempotencyKey?: string;
}

/**
 * The way in for asynchronous invocations (Invoke API `Event`, `invoke -t Event`, async HTTP
 * events, schedules, destinations). The event is durable before accept() resolves, which is when
 * the caller gets its 202: its queue job and task record commit in one transaction, shared with
 * the other accepts in flight (group commit), so a crash leaves both or neither.
 */
export class AsyncInvoker {
  readonly #deps: AsyncInvokerDeps;

  constructor(deps: AsyncInvokerDeps) {
    this.#deps = deps;
  }

  async accept(
    functionRef: string,
    qualifier: string | undefined,
    event: string,
    opts: AcceptOptions = {},
  ): Promise<Accepted> {
    const prepared = await this.prepare(functionRef, qualifier, event, opts);
    const accepted = await this.#deps.queue.transaction((tx) => this.acceptWithin(tx, prepared));
    if (!accepted.duplicate) this.#deps.wake();
    return accepted;
  }

  /**
   * Everything before the writes: the size check and resolving the function (reads that must
   * not run inside a transaction on SQLite). Throws the errors accept() throws; stores nothing.
   */
  async prepare(
    functionRef: string,
    qualifier: string | undefined,
    event: string,
    opts: AcceptOptions = {},
  ): Promise<PreparedEvent> {
    const bytes = Buffer.byteLength(event);
    if (bytes > maxAsyncPayloadBytes) throw new AsyncPayloadTooLargeError(bytes);
    const resolved = await this.#deps.invoker.resolve(functionRef, qualifier);
    const now = this.#deps.clock.now();
    const c = resolved.config;
    const maxEventAgeMs =
      (opts.retry?.maxEventAgeSeconds ?? c.maximumEventAge ?? defaultMaximumEventAgeSeconds) * 1000;
    const onFailure = opts.onFailure ?? c.destinations?.onFailure;
    const job: InvokeJob = {
      kind: 'invoke',
      requestId: randomUUID(),
      functionName: resolved.functionName,
      version: resolved.version,
      event,
      acceptedAt: now,
      maxRetryAttempts:
        opts.retry?.maxRetryAttempts ?? c.maximumRetryAttempts ?? defaultMaximumRetryAttempts,
      maxEventAgeMs,
      service: resolved.service,
      stage: resolved.stage,
      ...(c.destinations?.onSuccess ? { onSuccess: c.destinations.onSuccess } : {}),
      ...(onFailure ? { onFailure } : {}),
      ...(c.deadLetterTarget ? { deadLetter: c.deadLetterTarget } : {}),
      ...(opts.trace ? { trace: toTraceparent(opts.trace) } : {}),
    };
    return {
      job,
      expiresAt: now + maxEventAgeMs,
      ...(opts.idempotencyKey
        ? { idempotencyKey: `${resolved.functionName}:${opts.idempotencyKey}` }
        : {}),
    };
  }

  /**
   * Writes a prepared event inside the caller's transaction (a schedule's claim, a settle
   * handing on to a destination). The caller wakes the worker after its commit.
   */
  async acceptWithin(tx: StoreTx, prepared: PreparedEvent): Promise<Accepted> {
    const { job } = prepared;
    const records = this.#deps.records.within(tx);
    const queued = await this.#deps.queue.within(tx).enqueue({
      queue: job.functionName,
      payload: job,
      expiresAt: prepared.expiresAt,
      ...(prepared.idempotencyKey ? { idempotencyKey: prepared.idempotencyKey } : {}),
    });
    if (queued.duplicate) {
      const first = await records.findByJob(job.functionName, queued.id);
      return { requestId: first?.id ?? queued.id, duplicate: true };
    }
    await records.create({
      id: job.requestId,
      functionName: job.functionName,
      version: job.version,
      status: 'Enqueued',
      jobId: queued.id,
      attempts: 0,
      createdAt: job.acceptedAt,
      updatedAt: job.acceptedAt,
    });
    failpoint('accept');
    return { requestId: job.requestId, duplicate: false };
  }

  /** Tells the worker there is work (after a commit that queued some). */
  wake(): void {
    this.#deps.wake();
  }
}
