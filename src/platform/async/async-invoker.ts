import { randomUUID } from 'node:crypto';
import { NimbusError } from '../../errors/nimbus-error.js';
import type { Clock } from '../../model/clock.js';
import type { WorkQueue } from '../../queue/work-queue.js';
import type { Invoker } from '../invoker/invoker-port.js';
import type { InvokeJob } from './async-jobs.js';
import { maxAsyncPayloadBytes } from './async-jobs.js';
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
  queue: WorkQueue;
  records: InvocationRecords;
  clock: Clock;
  /** Tells the worker there is work, so it need not wait for its next poll. */
  wake: () => void;
}

export interface AcceptOptions {
  idempotencyKey?: string;
}

export interface Accepted {
  requestId: string;
  /** The key was seen before: nothing new was stored, requestId is the first event's. */
  duplicate: boolean;
}

/**
 * The way in for asynchronous invocations (Invoke API `Event`, `invoke -t Event`, async HTTP
 * events, schedules, destinations). The event is durably queued before accept() resolves, which
 * is when the caller gets its 202.
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
    const bytes = Buffer.byteLength(event);
    if (bytes > maxAsyncPayloadBytes) throw new AsyncPayloadTooLargeError(bytes);
    const resolved = await this.#deps.invoker.resolve(functionRef, qualifier);
    const now = this.#deps.clock.now();
    const c = resolved.config;
    const maxEventAgeMs = (c.maximumEventAge ?? defaultMaximumEventAgeSeconds) * 1000;
    const requestId = randomUUID();
    const job: InvokeJob = {
      kind: 'invoke',
      requestId,
      functionName: resolved.functionName,
      version: resolved.version,
      event,
      acceptedAt: now,
      maxRetryAttempts: c.maximumRetryAttempts ?? defaultMaximumRetryAttempts,
      maxEventAgeMs,
      service: resolved.service,
      stage: resolved.stage,
      ...(c.destinations?.onSuccess ? { onSuccess: c.destinations.onSuccess } : {}),
      ...(c.destinations?.onFailure ? { onFailure: c.destinations.onFailure } : {}),
    };
    // The record first: if the process dies before the job is queued, a lone Enqueued record is
    // harmless noise; the other order could run a job whose status nobody can read.
    if (!opts.idempotencyKey) {
      await this.#record(job, now);
    }
    const queued = await this.#deps.queue.enqueue({
      queue: resolved.functionName,
      payload: job,
      expiresAt: now + maxEventAgeMs,
      ...(opts.idempotencyKey
        ? { idempotencyKey: `${resolved.functionName}:${opts.idempotencyKey}` }
        : {}),
    });
    if (queued.duplicate) {
      return {
        requestId: await this.#requestIdOfJob(queued.id, resolved.functionName),
        duplicate: true,
      };
    }
    if (opts.idempotencyKey) await this.#record(job, now);
    await this.#deps.records.update(requestId, { jobId: queued.id, updatedAt: now });
    this.#deps.wake();
    return { requestId, duplicate: false };
  }

  async #record(job: InvokeJob, now: number): Promise<void> {
    await this.#deps.records.create({
      id: job.requestId,
      functionName: job.functionName,
      version: job.version,
      status: 'Enqueued',
      attempts: 0,
      createdAt: now,
      updatedAt: now,
    });
  }

  /** The request id of an earlier event with the same idempotency key, found by its job id. */
  async #requestIdOfJob(jobId: string, functionName: string): Promise<string> {
    const found = await this.#deps.records.findByJob(functionName, jobId);
    return found?.id ?? jobId;
  }
}
