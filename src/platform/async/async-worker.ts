import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { Clock } from '../../model/clock.js';
import { deadLetterVia } from '../../model/dead-letter-target.js';
import type { InvokeResult } from '../../model/invocation.js';
import type { Job, TransactionalWorkQueue, WorkQueue } from '../../queue/work-queue.js';
import type { StoreTx } from '../../store/group-commit.js';
import { FunctionNotFoundError, type Invoker } from '../invoker/invoker-port.js';
import type { Metrics } from '../observe/metrics/metrics-port.js';
import { parseTraceparent } from '../observe/tracing/trace-context.js';
import type { Tracing } from '../observe/tracing/tracing.js';
import { TooManyRequestsError } from '../pool/pool-errors.js';
import type { AsyncInvoker, PreparedEvent } from './async-invoker.js';
import {
  type AsyncJob,
  type DeliverJob,
  deliveryQueue,
  type InvokeJob,
  isAsyncQueue,
} from './async-jobs.js';
import { type Condition, destinationTarget, invocationRecord } from './destination-record.js';
import { failpoint } from './failpoint.js';
import type { InvocationRecords } from './invocation-records.js';
import { functionErrorDelay, type RetrySettings, systemErrorDelay } from './retry-policy.js';

export interface AsyncWorkerDeps {
  /** Every settle (queue outcome + task record) is one transaction on it. */
  queue: TransactionalWorkQueue<StoreTx>;
  records: InvocationRecords;
  invoker: Invoker;
  /** Spans of the queue wait; none by default. */
  tracing?: Tracing;
  /** Destinations that are functions are invoked asynchronously through it. */
  asyncInvoker: () => AsyncInvoker;
  clock: Clock;
  logger: Logger;
  retry: RetrySettings;
  /** Async events of one function run at most this many at once (sync traffic keeps the rest). */
  concurrencyOf: (functionName: string) => number;
  /**
   * Function runs in flight across all functions; default four per CPU the process may use
   * (os.availableParallelism()), so a burst does not start dozens of processes on two cores.
   */
  maxConcurrent?: number;
  /** A lease outlives a crash by this long before another worker may take the job. */
  leaseMs: number;
  /** How often the queue is polled when nothing woke the worker. */
  pollMs: number;
  region: string;
  /** HTTP destinations: give up after this many failed deliveries. */
  maxDeliveryAttempts?: number;
  fetch?: typeof fetch;
  /** SQS queue, SNS topic and EventBridge bus destinations (by ARN); without it they fail and retry. */
  messaging?: {
    deliver(
      via: 'sqs' | 'sns' | 'events',
      arn: string,
      body: string,
      attributes?: Record<string, { DataType: string; StringValue: string }>,
    ): Promise<void>;
  };
  /** Where retries and dead letters are counted; none by default. */
  metrics?: Metrics;
}

/** HTTP deliveries in flight; they wait on the network, not the CPU, so they have their own cap. */
const maxDeliveries = 8;

/** The largest result kept in a task record (the async limit). */
const maxResultBytes = 1024 * 1024;

/** Where a settled event's record goes, resolved before the settle's transaction. */
type Destination =
  | { type: 'function'; target: string; prepared: PreparedEvent }
  | { type: 'function'; target: string; error: string }
  | { type: 'url'; deliver: DeliverJob };

/**
 * Runs queued events: leases what each function has room for, invokes, and settles every job
 * as success (destination), retry (function error: linear delay; system error: exponential
 * backoff that uses no attempt), or failure (destination or dead letter). Leases are extended
 * while a run lasts, so no event runs twice at once; a crash lets the lease lapse and the event
 * runs again (at least once).
 *
 * Every step is one transaction: the lease marks the records Running; a settle writes the
 * queue's outcome, the record, and any hand-on (a destination event, an HTTP delivery job)
 * together. Transactions are group-committed with the other steps in flight.
 */
export class AsyncWorker {
  readonly #d: AsyncWorkerDeps;
  readonly #maxConcurrent: number;
  readonly #running = new Map<string, number>();
  /** Function runs in flight (deliveries not counted). */
  #runs = 0;
  #timer: NodeJS.Timeout | undefined;
  #pumping = false;
  #again = false;
  #stopped = false;
  /** Runs in flight, with the job each holds. */
  readonly #inflight = new Map<Promise<void>, Job>();
  /** Jobs whose lease stop() handed back: whatever their run ends with is not settled. */
  readonly #released = new Set<string>();

  /** Function runs and deliveries in flight (cluster status). */
  get inFlight(): number {
    return this.#inflight.size;
  }

  constructor(deps: AsyncWorkerDeps) {
    this.#d = deps;
    this.#maxConcurrent = deps.maxConcurrent ?? Math.max(4, availableParallelism() * 4);
  }

  start(): void {
    this.#schedule(0);
  }

  /** Something was enqueued: look now rather than at the next poll. */
  wake(): void {
    if (!this.#stopped) this.#schedule(0);
  }

  /**
   * Stops leasing and waits for runs in flight until `deadline` (their results are settled).
   * Runs still going then have their leases handed back, due now, without using an attempt: the
   * next start (or another node) runs them at once instead of after the lease runs out.
   */
  async stop(ctx: { deadline?: number } = {}): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    const all = Promise.allSettled([...this.#inflight.keys()]);
    if (ctx.deadline === undefined) {
      await all;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const waitMs = Math.max(0, ctx.deadline - Date.now());
    await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
    const left = [...this.#inflight.values()];
    if (left.length === 0) return;
    for (const job of left) this.#released.add(job.id);
    const now = this.#d.clock.now();
    await this.#d.queue.transaction(async (tx) => {
      const q = this.#d.queue.within(tx);
      for (const job of left) await q.retryAt(job, now, { countFailure: false });
    });
    this.#d.logger.info({ jobs: left.length }, 'async runs cut by stop: leases released');
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
          if (!isAsyncQueue(queue)) continue;
          const delivery = queue === deliveryQueue;
          const limit = delivery ? maxDeliveries : this.#d.concurrencyOf(queue);
          const room = Math.min(
            limit - (this.#running.get(queue) ?? 0),
            delivery ? Infinity : this.#maxConcurrent - this.#runs,
          );
          if (room <= 0) continue;
          for (const job of await this.#lease(queue, room)) this.#launch(queue, job);
        }
      } while (this.#again && !this.#stopped);
    } finally {
      this.#pumping = false;
    }
  }

  /** Resolves when every run started so far has settled (tests). */
  async idle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight.keys()]);
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

  /**
   * Leases and marks the records Running in one transaction; a job whose record was stopped is
   * acked there instead of handed out. So is one whose record is already final: its settle
   * committed but never reached a queue outside the database (a crash right after the commit),
   * so it is settled as the record says (acked, or dead-lettered) rather than run again.
   */
  async #lease(queue: string, max: number): Promise<Job[]> {
    const opts = { max, leaseMs: this.#d.leaseMs };
    // Outside the database a lease is a network call that a rerun of the transaction would
    // repeat: it is taken first.
    const early = this.#d.queue.outsideDatabase
      ? await this.#d.queue.lease(queue, opts)
      : undefined;
    if (early?.length === 0) return [];
    return this.#d.queue.transaction(async (tx) => {
      const q = this.#d.queue.within(tx);
      const records = this.#d.records.within(tx);
      const now = this.#d.clock.now();
      const jobs = early ?? (await q.lease(queue, opts));
      const runs = jobs.flatMap((job) => {
        const p = job.payload as AsyncJob;
        return p.kind === 'invoke' && !job.expired
          ? [{ id: p.requestId, attempts: job.attempts, job }]
          : [];
      });
      const notStarted = runs.length > 0 ? await records.start(runs, now) : new Set<string>();
      const dropped = new Set<Job>();
      for (const run of runs) {
        if (!notStarted.has(run.id)) continue;
        // No record at all (an event from before records were written with their job) still
        // runs; a stopped or finished one is settled here.
        const record = await records.get(run.id);
        if (!record) continue;
        const destination = record.destination as { type?: string } | undefined;
        if (record.status !== 'Stopped' && destination?.type === 'dead-letter') {
          await q.deadLetter(run.job, {
            condition: record.status === 'Expired' ? 'EventAgeExceeded' : 'RetriesExhausted',
            lastError: record.lastError,
          });
        } else {
          await q.ack(run.job);
        }
        dropped.add(run.job);
      }
      const out = jobs.filter((job) => !dropped.has(job));
      return out;
    });
  }

  #launch(queue: string, job: Job): void {
    const delivery = queue === deliveryQueue;
    this.#running.set(queue, (this.#running.get(queue) ?? 0) + 1);
    if (!delivery) this.#runs += 1;
    const heartbeat = setInterval(
      () => {
        this.#d.queue.extendLease(job, this.#d.leaseMs).then(
          (held) => {
            if (!held) {
              this.#d.logger.warn(
                { job: job.id, queue },
                'async job lease lost while running: another worker may run it too',
              );
            }
          },
          (error) =>
            this.#d.logger.warn({ err: error, job: job.id, queue }, 'async lease heartbeat failed'),
        );
      },
      Math.max(50, this.#d.leaseMs / 3),
    );
    heartbeat.unref();
    // The slot is the function's, not the settle's: it frees once the function returned, so the
    // next event runs while this one's settle waits for its commit to reach the disk.
    let freed = false;
    const free = () => {
      if (freed) return;
      freed = true;
      this.#running.set(queue, (this.#running.get(queue) ?? 1) - 1);
      if (!delivery) this.#runs -= 1;
      // A slot freed up: there may be more waiting.
      if (!this.#stopped) this.#schedule(0);
    };
    const payload = job.payload as AsyncJob;
    const run = (
      payload.kind === 'deliver' ? this.#deliver(job, payload) : this.#run(job, payload, free)
    )
      .catch((error) =>
        this.#d.logger.error({ err: error, job: job.id }, 'async job failed to settle'),
      )
      .finally(() => {
        clearInterval(heartbeat);
        this.#inflight.delete(run);
        free();
      });
    this.#inflight.set(run, job);
  }

  /**
   * One transaction: `work` applies the queue's outcome first and returns whether the lease
   * still held; only then does it write the record. A lost lease writes nothing and is logged:
   * the job was leased again after this lease ran out, and its newer holder settles it.
   */
  async #settle(
    job: Job,
    outcome: string,
    work: (q: WorkQueue, records: InvocationRecords, tx: StoreTx) => Promise<boolean>,
  ): Promise<boolean> {
    // Its lease went back at stop; the run's end (often the kill of its process) is not news.
    if (this.#released.has(job.id)) return false;
    const held = await this.#d.queue.transaction(async (tx) => {
      const ok = await work(this.#d.queue.within(tx), this.#d.records.within(tx), tx);
      if (ok) failpoint('settle');
      return ok;
    });
    if (!held) {
      this.#d.logger.warn(
        { job: job.id, queue: job.queue, outcome, attempts: job.attempts },
        'async job not settled: its lease was lost (the job was leased again, or is gone)',
      );
    }
    return held;
  }

  async #run(job: Job, p: InvokeJob, ran: () => void): Promise<void> {
    // The queue holds the deadline (expiresAt = accepted + maximumEventAge); a redrive clears it,
    // so an operator can run a dead letter again however old it is.
    if (job.expired) {
      return this.#fail(job, p, 'EventAgeExceeded', undefined, { errorType: 'EventAgeExceeded' });
    }
    let result: InvokeResult;
    try {
      const trace = parseTraceparent(p.trace);
      // The wait in the queue, from accept to this run, in the trace of the call that queued it.
      this.#d.tracing
        ?.start('queue wait', trace, { kind: 'consumer', startMs: p.acceptedAt })
        .end({ 'faas.invocation_id': p.requestId, 'nimbus.attempt': job.attempts });
      ({ result } = await this.#d.invoker.invoke(p.functionName, p.version, {
        payload: p.event,
        requestId: p.requestId,
        ...(trace ? { trace } : {}),
      }));
    } catch (error) {
      ran();
      return this.#systemError(job, p, error);
    }
    ran();
    if (result.outcome.status === 'ok') return this.#succeed(job, p, result);
    const failures = job.failures + 1;
    if (failures <= p.maxRetryAttempts) {
      const now = this.#d.clock.now();
      const at = now + functionErrorDelay(failures, this.#d.retry);
      const lastError = result.outcome.error;
      const held = await this.#settle(job, 'retry', async (q, records) => {
        if (!(await q.retryAt(job, at, { countFailure: true }))) return false;
        await records.update(p.requestId, { status: 'Retrying', lastError, updatedAt: now });
        return true;
      });
      if (held) this.#d.metrics?.asyncRetried(p.functionName);
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
    if (error instanceof TooManyRequestsError && (await this.#reservedZero(p))) {
      // As Lambda: a function turned off with reserved concurrency 0 fails its events at once
      // rather than throttling them until they expire.
      return this.#fail(job, p, 'RetriesExhausted', undefined, {
        errorType: 'TooManyRequestsException',
        errorMessage: `${p.functionName} has reserved concurrency 0: its events are not run`,
      });
    }
    const systemErrors = job.attempts - job.failures;
    const now = this.#d.clock.now();
    const at = now + systemErrorDelay(systemErrors, this.#d.retry);
    const detail =
      error instanceof TooManyRequestsError
        ? { errorType: 'TooManyRequestsException', errorMessage: error.message }
        : {
            errorType: 'ServiceException',
            errorMessage: (error as Error)?.message ?? String(error),
          };
    const held = await this.#settle(job, 'retry', async (q, records) => {
      if (!(await q.retryAt(job, at, { countFailure: false }))) return false;
      await records.update(p.requestId, { status: 'Retrying', lastError: detail, updatedAt: now });
      return true;
    });
    if (held) this.#d.metrics?.asyncRetried(p.functionName);
  }

  /** Asked only after a throttle, so a normal run pays nothing for it. */
  async #reservedZero(p: InvokeJob): Promise<boolean> {
    try {
      const resolved = await this.#d.invoker.resolve(p.functionName, p.version);
      return resolved.config.reservedConcurrency === 0;
    } catch {
      return false;
    }
  }

  async #succeed(job: Job, p: InvokeJob, result: InvokeResult): Promise<void> {
    const payload = result.outcome.status === 'ok' ? result.outcome.payload : '';
    const now = this.#d.clock.now();
    const destination = p.onSuccess
      ? await this.#prepareDestination(
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
    await this.#settle(job, 'success', async (q, records, tx) => {
      if (!(await q.ack(job))) return false;
      const sent = destination ? await this.#handOn(destination, q, tx) : undefined;
      await records.update(p.requestId, {
        status: 'Succeeded',
        attempts: job.attempts,
        result:
          Buffer.byteLength(payload) <= maxResultBytes ? payload : payload.slice(0, maxResultBytes),
        ...(sent ? { destination: sent } : {}),
        updatedAt: now,
      });
      return true;
    });
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
    const destination = p.onFailure
      ? await this.#prepareDestination(
          p.onFailure,
          p,
          invocationRecord(p, {
            region: this.#d.region,
            condition,
            attempts: job.attempts,
            nowMs: now,
            ...(result ? { result } : {}),
          }),
        )
      : undefined;
    const deadLetter = p.deadLetter ? deadLetterJob(p, lastError, result) : undefined;
    if (destination && !('error' in destination)) {
      await this.#settle(job, 'failure', async (q, records, tx) => {
        if (!(await q.ack(job))) return false;
        const sent = await this.#handOn(destination, q, tx);
        if (deadLetter) {
          await q.enqueue({ queue: deliveryQueue, payload: { ...deadLetter, untracked: true } });
        }
        await records.update(p.requestId, {
          status,
          attempts: job.attempts,
          lastError,
          destination: sent,
          updatedAt: now,
        });
        return true;
      });
      return;
    }
    if (deadLetter && !destination) {
      // onError alone: the dead-letter queue gets the event, and the record follows that send.
      await this.#settle(job, 'failure', async (q, records) => {
        if (!(await q.ack(job))) return false;
        await q.enqueue({ queue: deliveryQueue, payload: deadLetter });
        await records.update(p.requestId, {
          status,
          attempts: job.attempts,
          lastError,
          destination: { type: deadLetter.via, target: deadLetter.url, status: 'Pending' },
          updatedAt: now,
        });
        return true;
      });
      return;
    }
    // No onFailure, or one that cannot take the event: the dead letters keep it, with why.
    const failed =
      destination && 'error' in destination
        ? { type: 'function', target: destination.target, error: destination.error }
        : undefined;
    const held = await this.#settle(job, 'dead letter', async (q, records) => {
      const reason = failed
        ? { condition, lastError, destination: failed }
        : { condition, lastError };
      if (!(await q.deadLetter(job, reason))) return false;
      if (deadLetter) {
        await q.enqueue({ queue: deliveryQueue, payload: { ...deadLetter, untracked: true } });
      }
      await records.update(p.requestId, {
        status,
        attempts: job.attempts,
        lastError,
        destination: {
          type: 'dead-letter',
          status: 'Stored',
          ...(failed ? { failedDestination: failed } : {}),
        },
        updatedAt: now,
      });
      return true;
    });
    if (held) this.#d.metrics?.deadLettered(p.functionName);
  }

  /**
   * The reads a destination needs (resolving a function), done before the settle's transaction:
   * on SQLite nothing may read outside a transaction while it is open on the one connection.
   */
  async #prepareDestination(
    raw: string,
    p: InvokeJob,
    record: Record<string, unknown>,
  ): Promise<Destination> {
    const target = destinationTarget(raw, p);
    if (target.type !== 'function') {
      return {
        type: 'url',
        deliver: {
          kind: 'deliver',
          recordId: p.requestId,
          url: target.type === 'url' ? target.url : target.arn,
          ...(target.type === 'url' ? {} : { via: target.type }),
          body: JSON.stringify(record),
        },
      };
    }
    try {
      const prepared = await this.#d
        .asyncInvoker()
        .prepare(target.name, undefined, JSON.stringify(record));
      return { type: 'function', target: target.name, prepared };
    } catch (error) {
      this.#d.logger.warn(
        { err: error, destination: target.name },
        'destination function could not be invoked',
      );
      return { type: 'function', target: target.name, error: (error as Error).message };
    }
  }

  /** Hands the record on inside the settle's transaction: it is queued iff the job is settled. */
  async #handOn(destination: Destination, q: WorkQueue, tx: StoreTx): Promise<unknown> {
    if (destination.type === 'url') {
      await q.enqueue({ queue: deliveryQueue, payload: destination.deliver });
      const type = destination.deliver.via ?? 'url';
      return { type, target: destination.deliver.url, status: 'Pending' };
    }
    if ('error' in destination) {
      return {
        type: 'function',
        target: destination.target,
        status: 'Failed',
        error: destination.error,
      };
    }
    const accepted = await this.#d.asyncInvoker().acceptWithin(tx, destination.prepared);
    return {
      type: 'function',
      target: destination.target,
      status: 'Delivered',
      requestId: accepted.requestId,
    };
  }

  async #deliver(job: Job, p: DeliverJob): Promise<void> {
    const post = this.#d.fetch ?? fetch;
    const type = p.via ?? 'url';
    let ok = false;
    let detail = '';
    try {
      if (p.via) {
        // A queue or topic: stored (and fanned out) before this resolves, or it throws.
        if (!this.#d.messaging) throw new Error(`${p.via} destinations are not wired`);
        await this.#d.messaging.deliver(p.via, p.url, p.body, p.attributes);
        ok = true;
      } else {
        const res = await post(p.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: p.body,
          signal: AbortSignal.timeout(10_000),
        });
        ok = res.ok;
        detail = `HTTP ${res.status}`;
        await res.body?.cancel();
      }
    } catch (error) {
      detail = (error as Error).message;
    }
    const now = this.#d.clock.now();
    if (ok) {
      void (await this.#settle(job, 'delivered', async (q, records) => {
        if (!(await q.ack(job))) return false;
        if (p.untracked) return true;
        await records.update(p.recordId, {
          destination: { type, target: p.url, status: 'Delivered' },
          updatedAt: now,
        });
        return true;
      }));
      return;
    }
    if (job.attempts < (this.#d.maxDeliveryAttempts ?? 8)) {
      const at = now + systemErrorDelay(job.attempts, this.#d.retry);
      void (await this.#settle(job, 'retry delivery', async (q, records) => {
        if (!(await q.retryAt(job, at, { countFailure: true }))) return false;
        if (p.untracked) return true;
        await records.update(p.recordId, {
          destination: { type, target: p.url, status: 'Retrying', lastError: detail },
          updatedAt: now,
        });
        return true;
      }));
      return;
    }
    void (await this.#settle(job, 'delivery dead letter', async (q, records) => {
      if (!(await q.deadLetter(job, { destination: p.url, lastError: detail }))) return false;
      if (p.untracked) return true;
      await records.update(p.recordId, {
        destination: { type, target: p.url, status: 'Failed', lastError: detail },
        updatedAt: now,
      });
      return true;
    }));
  }
}

/**
 * What Lambda sends a dead-letter queue or topic (DeadLetterConfig): the event itself, with
 * the request id, an error code (200 when the function ran and failed, as the Invoke status
 * was) and the first KiB of the error message as message attributes.
 */
function deadLetterJob(
  p: InvokeJob,
  lastError: unknown,
  result: InvokeResult | undefined,
): DeliverJob & { via: 'sqs' | 'sns' } {
  const error = (lastError ?? {}) as { errorType?: unknown; errorMessage?: unknown };
  const text =
    typeof error.errorMessage === 'string'
      ? error.errorMessage
      : typeof error.errorType === 'string'
        ? error.errorType
        : String(lastError);
  return {
    kind: 'deliver',
    recordId: p.requestId,
    url: p.deadLetter!,
    via: deadLetterVia(p.deadLetter!) ?? 'sqs',
    body: p.event,
    attributes: {
      RequestID: { DataType: 'String', StringValue: p.requestId },
      ErrorCode: { DataType: 'Number', StringValue: result ? '200' : '500' },
      ErrorMessage: { DataType: 'String', StringValue: truncateUtf8(text, 1024) || 'Unknown' },
    },
  };
}

function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  // Cutting inside a character would leave a broken one; drop the partial bytes.
  return bytes
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
}
