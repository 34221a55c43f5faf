import type { Logger } from 'pino';
import type { Part } from '../lifecycle/lifecycle.js';
import { type Scheduler, systemScheduler } from '../observe/scheduler.js';
import type { ScheduleLease } from '../triggers/schedule/scheduler.js';
import type { ClusterLease } from './cluster-lease.js';

/**
 * Keeps the schedule runner's cluster lease: renews it every `renewEveryMs` while this node holds
 * it, and tries to take it over on the same beat, so when the holder dies another node fires
 * within the lease's TTL plus one beat. Gaining the lease ticks the runner at once (it may have
 * been sleeping until its retry). A clean stop releases the lease for the next node.
 */
export class ScheduleLeaseKeeper implements Part, ScheduleLease {
  readonly #lease: Pick<ClusterLease, 'hold' | 'release'>;
  readonly #tick: () => Promise<void>;
  readonly #renewEveryMs: number;
  readonly #logger: Pick<Logger, 'error' | 'info'>;
  readonly #timer: Scheduler;
  #held = false;
  #cancel: (() => void) | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(opts: {
    lease: Pick<ClusterLease, 'hold' | 'release'>;
    tick: () => Promise<void>;
    renewEveryMs: number;
    logger: Pick<Logger, 'error' | 'info'>;
    timer?: Scheduler;
  }) {
    this.#lease = opts.lease;
    this.#tick = opts.tick;
    this.#renewEveryMs = opts.renewEveryMs;
    this.#logger = opts.logger;
    this.#timer = opts.timer ?? systemScheduler;
  }

  /** What the runner asks before each tick. */
  async hold(nowMs: number): Promise<boolean> {
    const held = await this.#lease.hold(nowMs);
    this.#note(held);
    return held;
  }

  start(): void {
    this.#arm();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancel?.();
    await this.#running;
    if (this.#held) await this.#lease.release();
    this.#held = false;
  }

  async renew(): Promise<void> {
    const was = this.#held;
    const held = await this.#lease.hold();
    this.#note(held);
    if (held && !was) await this.#tick();
  }

  #note(held: boolean): void {
    if (held !== this.#held) {
      this.#logger.info({ held }, held ? 'took the schedule lease' : 'lost the schedule lease');
    }
    this.#held = held;
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#cancel = this.#timer.schedule(this.#renewEveryMs, () => {
      this.#running = this.renew()
        .catch((error: unknown) => {
          this.#held = false;
          this.#logger.error({ err: error }, 'renewing the schedule lease failed');
        })
        .finally(() => {
          this.#running = undefined;
          this.#arm();
        });
    });
  }
}
