import type { Logger } from 'pino';
import type { Clock } from '../../model/clock.js';
import type { InvokeResult } from '../../model/invocation.js';
import type { Job, WorkQueue } from '../../queue/work-queue.js';
import { FunctionNotFoundError, type Invoker } from '../invoker/invoker-port.js';
import { TooManyRequestsError } from '../pool/pool-errors.js';
import type { AsyncInvoker } from './async-invoker.js';
import { type AsyncJob, type DeliverJob, deliveryQueue, type InvokeJob } from './async-jobs.js';
import { type Condition, destinationTarget, invocationRecord } from './destination-record.js';
import type { InvocationRecords } from './invocation-records.js';
import { functionErrorDelay, type RetrySettings, systemErrorDelay } from './retry-policy.js';

export interface AsyncWorkerDeps {
  queue: WorkQueue;
  records: InvocationRecords;
  invoker: Invoker;
  /** Destinations that are functions are invoked asynchronously through it. */
  asyncInvoker: () => AsyncInvoker;
  clock: Clock;
  logger: Logger;
  retry: RetrySettings;
  /** Async events of one function run at most this many at once (sync traffic keeps the rest). */
  concurrencyOf: (functionName: string) => number;
  /** A lease outlives a crash by this long before another worker may take the job. */
  leaseMs: number;
  /** How often the queue is polled when nothing woke the worker. */
  pollMs: number;
  region: string;
  /** HTTP destinations: give up after this many failed deliveries. */
  maxDeliveryAttempts?: number;
  fetch?: typeof fetch;
}

/** The largest result kept in a task record (the async limit). */
const maxResultBytes = 1024 * 1024;

/**
 * Runs queued events: leases what each function has room for, invokes, and settles every job
 * as success (destination), retry (function error: linear delay; system error: exponential
 * backoff that uses no attempt), or failure (destination or dead letter). Leases are extended
 * while a run lasts, so no event runs twice at once; a crash lets the lease lapse and the event
 * runs again (at least once).
 */
export class AsyncWorker {
  readonly #d: AsyncWorkerDeps;
  readonly #running = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #pumping = false;
  #again = false;
  #stopped = false;
  readonly #inflight = new Set<Promise<void>>();

  constructor(deps: AsyncWorkerDeps) {
    this.#d = deps;
  }

  start(): void {
    this.#schedule(0);
  }

  /** Something was enqueued: look now rather than at the next poll. */
  wake(): void {
    if (!this.#stopped) this.#schedule(0);
  }

  /** Stops leasing; waits for runs in flight (their results are settled). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await Promise.allSettled([...this.#inflight]);
  }

  /** One pass over the ready queues; exposed so tests drive the worker without timers. */
  async pump(): Promise<void> {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        for (const queue of await this.#d.queue.queuesReady()) {
          if (this.#stopped) return;
          const limit = queue === deliveryQueue ? 8 : this.#d.concurrencyOf(queue);
          const room = limit - (this.#running.get(queue) ?? 0);
          if (room <= 0) continue;
          const jobs = await this.#d.queue.lease(queue, { max: room, leaseMs: this.#d.leaseMs });
          for (const job of jobs) this.#launch(queue, job);
        }
      } while (this.#again && !this.#stopped);
    } finally {
      this.#pumping = false;
    }
  }

  /** Resolves when every run started so far has settled (tests). */
  async idle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  #schedule(ms: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.pump()
        .catch((error) => this.#d.logger.error({ err: error }, 'async worker pass failed'))
        .finally(() => {
          if (!this.#stopped) this.#schedule(this.#d.pollMs);
        });
    }, ms);
    this.#timer.unref();
  }

  #launch(queue: string, job: Job): void {
    this.#running.set(queue, (this.#running.get(queue) ?? 0) + 1);
    const heartbeat = setInterval(
      () => void this.#d.queue.extendLease(job, this.#d.leaseMs).catch(() => {}),
      Math.max(50, this.#d.leaseMs / 3),
    );
    heartbeat.unref();
    const payload = job.payload as AsyncJob;
    const run = (payload.kind === 'deliver' ? this.#deliver(job, payload) : this.#run(job, payload))
      .catch((error) =>
        this.#d.logger.error({ err: error, job: job.id }, 'async job failed to settle'),
      )
      .finally(() => {
        clearInterval(heartbeat);
        this.#running.set(queue, (this.#running.get(queue) ?? 1) - 1);
        this.#inflight.delete(run);
        // A slot freed up: there may be more waiting.
        if (!this.#stopped) this.#schedule(0);
      });
    this.#inflight.add(run);
  }

  async #run(job: Job, p: InvokeJob): Promise<void> {
    const now = this.#d.clock.now();
    const current = await this.#d.records.get(p.requestId);
    if (current?.status === 'Stopped') {
      await this.#d.queue.ack(job);
      return;
    }
    // The queue holds the deadline (expiresAt = accepted + maximumEventAge); a redrive clears it,
    // so an operator can run a dead letter again however old it is.
    if (job.expired) {
      return this.#fail(job, p, 'EventAgeExceeded', undefined, { errorType: 'EventAgeExceeded' });
    }
    await this.#d.records.update(p.requestId, {
      status: 'Running',
      attempts: job.attempts,
      updatedAt: now,
    });
    let result: InvokeResult;
    try {
      ({ result } = await this.#d.invoker.invoke(p.functionName, p.version, {
        payload: p.event,
        requestId: p.requestId,
      }));
    } catch (error) {
      return this.#systemError(job, p, error);
    }
    if (result.outcome.status === 'ok') return this.#succeed(job, p, result);
    const failures = job.failures + 1;
    if (failures <= p.maxRetryAttempts) {
      const at = this.#d.clock.now() + functionErrorDelay(failures, this.#d.retry);
      await this.#d.records.update(p.requestId, {
        status: 'Retrying',
        lastError: result.outcome.error,
        updatedAt: this.#d.clock.now(),
      });
      await this.#d.queue.retryAt(job, at, { countFailure: true });
      return;
    }
    return this.#fail(job, p, 'RetriesExhausted', result, result.outcome.error);
  }

  async #systemError(job: Job, p: InvokeJob, error: unknown): Promise<void> {
    if (error instanceof FunctionNotFoundError) {
      // The function (or this version) is gone: nothing will ever run it.
      return this.#fail(job, p, 'RetriesExhausted', undefined, {
        errorType: 'ResourceNotFoundException',
        errorMessage: error.message,
      });
    }
    const systemErrors = job.attempts - job.failures;
    const at = this.#d.clock.now() + systemErrorDelay(systemErrors, this.#d.retry);
    const detail =
      error instanceof TooManyRequestsError
        ? { errorType: 'TooManyRequestsException', errorMessage: error.message }
        : {
            errorType: 'ServiceException',
            errorMessage: (error as Error)?.message ?? String(error),
          };
    await this.#d.records.update(p.requestId, {
      status: 'Retrying',
      lastError: detail,
      updatedAt: this.#d.clock.now(),
    });
    await this.#d.queue.retryAt(job, at, { countFailure: false });
  }

  async #succeed(job: Job, p: InvokeJob, result: InvokeResult): Promise<void> {
    const payload = result.outcome.status === 'ok' ? result.outcome.payload : '';
    const now = this.#d.clock.now();
    const destination = p.onSuccess
      ? await this.#sendToDestination(
          p.onSuccess,
          p,
          invocationRecord(p, {
            region: this.#d.region,
            condition: 'Success',
            attempts: job.attempts,
            nowMs: now,
            result,
          }),
        )
      : undefined;
    await this.#d.records.update(p.requestId, {
      status: 'Succeeded',
      attempts: job.attempts,
      result:
        Buffer.byteLength(payload) <= maxResultBytes ? payload : payload.slice(0, maxResultBytes),
      ...(destination ? { destination } : {}),
      updatedAt: now,
    });
    await this.#d.queue.ack(job);
  }

  async #fail(
    job: Job,
    p: InvokeJob,
    condition: Condition,
    result: InvokeResult | undefined,
    lastError: unknown,
  ): Promise<void> {
    const now = this.#d.clock.now();
    const status = condition === 'EventAgeExceeded' ? 'Expired' : 'Failed';
    if (p.onFailure) {
      const record = invocationRecord(p, {
        region: this.#d.region,
        condition,
        attempts: job.attempts,
        nowMs: now,
        ...(result ? { result } : {}),
      });
      const destination = await this.#sendToDestination(p.onFailure, p, record);
      await this.#d.records.update(p.requestId, {
        status,
        attempts: job.attempts,
        lastError,
        destination,
        updatedAt: now,
      });
      await this.#d.queue.ack(job);
      return;
    }
    await this.#d.records.update(p.requestId, {
      status,
      attempts: job.attempts,
      lastError,
      destination: { type: 'dead-letter', status: 'Stored' },
      updatedAt: now,
    });
    await this.#d.queue.deadLetter(job, { condition, lastError });
  }

  /** Hands the record on durably (an async invoke, or a queued HTTP delivery) before the job is acked. */
  async #sendToDestination(
    raw: string,
    p: InvokeJob,
    record: Record<string, unknown>,
  ): Promise<unknown> {
    const target = destinationTarget(raw, p);
    if (target.type === 'function') {
      try {
        const accepted = await this.#d
          .asyncInvoker()
          .accept(target.name, undefined, JSON.stringify(record));
        return {
          type: 'function',
          target: target.name,
          status: 'Delivered',
          requestId: accepted.requestId,
        };
      } catch (error) {
        this.#d.logger.warn(
          { err: error, destination: target.name },
          'destination function could not be invoked',
        );
        return {
          type: 'function',
          target: target.name,
          status: 'Failed',
          error: (error as Error).message,
        };
      }
    }
    const deliver: DeliverJob = {
      kind: 'deliver',
      recordId: p.requestId,
      url: target.url,
      body: JSON.stringify(record),
    };
    await this.#d.queue.enqueue({ queue: deliveryQueue, payload: deliver });
    return { type: 'url', target: target.url, status: 'Pending' };
  }

  async #deliver(job: Job, p: DeliverJob): Promise<void> {
    const post = this.#d.fetch ?? fetch;
    let ok = false;
    let detail = '';
    try {
      const res = await post(p.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: p.body,
        signal: AbortSignal.timeout(10_000),
      });
      ok = res.ok;
      detail = `HTTP ${res.status}`;
      await res.body?.cancel();
    } catch (error) {
      detail = (error as Error).message;
    }
    const now = this.#d.clock.now();
    if (ok) {
      await this.#d.records.update(p.recordId, {
        destination: { type: 'url', target: p.url, status: 'Delivered' },
        updatedAt: now,
      });
      await this.#d.queue.ack(job);
      return;
    }
    if (job.attempts < (this.#d.maxDeliveryAttempts ?? 8)) {
      await this.#d.records.update(p.recordId, {
        destination: { type: 'url', target: p.url, status: 'Retrying', lastError: detail },
        updatedAt: now,
      });
      await this.#d.queue.retryAt(job, now + systemErrorDelay(job.attempts, this.#d.retry), {
        countFailure: true,
      });
      return;
    }
    await this.#d.records.update(p.recordId, {
      destination: { type: 'url', target: p.url, status: 'Failed', lastError: detail },
      updatedAt: now,
    });
    await this.#d.queue.deadLetter(job, { destination: p.url, lastError: detail });
  }
}
