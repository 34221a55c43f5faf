/**
 * EventBridge target deliveries that wait in the WorkQueue: retries of deliveries that failed
 * for a passing reason (the store unreachable, a throttle; a target that does not exist goes to
 * the dead-letter queue at once, as on EventBridge) and the
 * targets of scheduled rules (scheduled-rules.ts queues them in the schedule's claim). Durable,
 * so a retry survives a restart, and leased, so one node of a cluster delivers each. Retries
 * follow the target's RetryPolicy (MaximumRetryAttempts, MaximumEventAgeInSeconds; EventBridge's
 * defaults 185 and 24 h) with exponential backoff; what is left over goes to the target's
 * DeadLetterConfig queue, or to the WorkQueue's dead letters when it has none.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../model/clock.js';
import type { Job, WorkQueue } from '../../queue/work-queue.js';
import {
  deadLetter,
  deliverToTarget,
  isPermanent,
  retryLimits,
  type TargetDeliveries,
  type TargetJob,
} from './bus-delivery.js';

/** The WorkQueue queue of target jobs (function names never contain a dot). */
export const targetJobQueue = 'nimbus.events-targets';

export interface TargetJobsDeps {
  queue: WorkQueue;
  /** The deliveries, without `retryLater` (a job that fails is retried by its own lease). */
  targets: Omit<TargetDeliveries, 'retryLater'>;
  clock: Clock;
  logger: Pick<Logger, 'warn' | 'error'>;
  /** First retry delay, doubling per attempt up to `maxDelayMs`. Default 1 s. */
  retryBaseMs?: number;
  maxDelayMs?: number;
}

const leaseMs = 60_000;
const batch = 10;

export class TargetJobs {
  readonly #d: TargetJobsDeps;
  #draining: Promise<number> | undefined;
  #again = false;

  constructor(deps: TargetJobsDeps) {
    this.#d = deps;
  }

  /** Queues a job (through `queue`, say a transaction's, when given) due at `runAt`. */
  async enqueue(job: TargetJob, opts: { queue?: WorkQueue; runAt?: number } = {}): Promise<void> {
    await (opts.queue ?? this.#d.queue).enqueue({
      queue: targetJobQueue,
      payload: job,
      ...(opts.runAt === undefined ? {} : { runAt: opts.runAt }),
    });
  }

  /** A delivery that failed `job.attempts` times: tried again after the backoff, or dead-lettered. */
  async retryLater(job: TargetJob, error: unknown): Promise<void> {
    const now = this.#d.clock.now();
    const at = now + this.#delay(job.attempts);
    if (!this.#mayRetry(job, job.attempts, at)) {
      await deadLetter(this.#d.targets, job.target, job.ruleArn, job.input, error);
      return;
    }
    await this.enqueue(job, { runAt: at });
  }

  /** Drains soon, without waiting (after queueing); failures are logged, the period retries. */
  kick(): void {
    this.drain().catch((error: unknown) =>
      this.#d.logger.error({ err: error }, 'EventBridge target jobs failed'),
    );
  }

  /**
   * Delivers every job that is due, batch after batch, and resolves to how many it settled.
   * Calls while a drain runs join it (and make it look once more), so two never overlap here.
   */
  drain(): Promise<number> {
    if (this.#draining) {
      this.#again = true;
      return this.#draining;
    }
    this.#draining = (async () => {
      let settled = 0;
      try {
        do {
          this.#again = false;
          for (;;) {
            const jobs = await this.#d.queue.lease(targetJobQueue, { max: batch, leaseMs });
            if (jobs.length === 0) break;
            for (const job of jobs) {
              await this.#run(job);
              settled++;
            }
          }
        } while (this.#again);
      } finally {
        this.#draining = undefined;
      }
      return settled;
    })();
    return this.#draining;
  }

  async #run(job: Job): Promise<void> {
    const p = job.payload as TargetJob;
    // Deliveries before this one: those before the job was queued, then one per lease.
    const tried = p.attempts + job.attempts - 1;
    try {
      await deliverToTarget(this.#d.targets, p.target, p.input, p.hops ?? 0);
      await this.#d.queue.ack(job);
      return;
    } catch (error) {
      const now = this.#d.clock.now();
      const at = now + this.#delay(tried + 1);
      if (!isPermanent(error) && this.#mayRetry(p, tried + 1, at)) {
        await this.#d.queue.retryAt(job, at, { countFailure: true });
        return;
      }
      const dlq = p.target.DeadLetterConfig?.Arn;
      if (dlq) {
        await deadLetter(this.#d.targets, p.target, p.ruleArn, p.input, error);
        await this.#d.queue.ack(job);
      } else {
        this.#d.targets.onError(error, p.target.Arn);
        await this.#d.queue.deadLetter(job, {
          target: p.target.Arn,
          rule: p.ruleArn,
          lastError: (error as Error).message,
        });
      }
    }
  }

  /** After `failed` deliveries, may one more run at `at`? */
  #mayRetry(job: TargetJob, failed: number, at: number): boolean {
    const limits = retryLimits(job.target);
    return failed - 1 < limits.retries && at - job.acceptedAt <= limits.maxAgeMs;
  }

  #delay(failed: number): number {
    const base = this.#d.retryBaseMs ?? 1000;
    return Math.min(base * 2 ** Math.max(0, failed - 1), this.#d.maxDelayMs ?? 5 * 60_000);
  }
}
