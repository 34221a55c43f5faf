/**
 * Fires schedules on time, once per slot, from one timer (docs/schedules.md).
 *
 * Every schedule carries `lastSlot` (the latest settled slot, from the ledger) and `next` (the
 * first slot after it). A tick takes each schedule whose `next` has come, picks the latest slot
 * that has come (so a late tick, or a start-up after downtime, fires once for the most recent
 * missed slot, never a burst), claims it in the ledger and hands it on. Then it re-arms the timer
 * for the earliest `next`, at most `maxSleepMs` ahead so a clock step or a suspend is noticed.
 */
import { type Clock, systemClock } from '../../../model/clock.js';
import { systemScheduler, type Scheduler as Timer } from '../../observe/scheduler.js';
import { latestFireMs, nextFireMs } from './next-fire.js';
import { type CompiledSchedule, compileSchedule, type Schedule } from './schedule.js';
import { ScheduleConfigError } from './schedule-errors.js';
import type { ScheduleLedger } from './schedule-ledger.js';

/**
 * Hook for cluster mode: a tick only fires while this node holds the lease (a lease row or an
 * advisory lock). Correctness never depends on it — claims are conditional upserts — it only
 * spares the other nodes the work. On PostgreSQL the platform wires it to a lease row
 * (src/platform/cluster/schedule-lease-keeper.ts; docs/cluster.md).
 */
export interface ScheduleLease {
  /** Acquires or renews; false when another node holds it. */
  hold(nowMs: number): Promise<boolean>;
}

export interface ScheduleFireOptions<Ctx> {
  ledger: ScheduleLedger<Ctx>;
  /**
   * Work a fire needs before the claim (resolving the function, building the event): it may read
   * anywhere, which `fire` inside a same-transaction claim may not. Its result goes to `fire`; a
   * failure retries the slot after `retryDelayMs`, with nothing claimed.
   */
  prepare?(schedule: Schedule, scheduledTime: Date): Promise<unknown>;
  /**
   * Hands a claimed slot on (enqueue an async invocation; do not run the function here, ticks
   * wait for it). `ctx` comes from the ledger: write through it to commit with the claim.
   * `prepared` is what `prepare` returned (undefined without one).
   */
  fire(schedule: Schedule, scheduledTime: Date, ctx: Ctx, prepared?: unknown): Promise<void>;
  clock?: Clock;
  timer?: Timer;
  /** A schedule that was skipped (bad expression, clashing id) or a claim/hand-on that failed. */
  onError?(err: unknown, schedule?: Schedule): void;
  /** Wait before retrying a slot whose claim or hand-on failed; default 10 s. */
  retryDelayMs?: number;
  /** Longest timer; default 60 s. */
  maxSleepMs?: number;
  lease?: ScheduleLease;
}

/** What `list()` reports per schedule. */
export interface ScheduleStatus {
  schedule: Schedule;
  /** Undefined when disabled or when the expression has no slot left (an expired year list). */
  nextFire: Date | undefined;
  lastSlot: Date | undefined;
}

interface Entry {
  compiled: CompiledSchedule;
  group: string;
  lastSlot: number;
  next: number | undefined;
  retryAt: number;
}

export class ScheduleRunner<Ctx> {
  readonly #ledger: ScheduleLedger<Ctx>;
  readonly #fire: ScheduleFireOptions<Ctx>['fire'];
  readonly #prepare: ScheduleFireOptions<Ctx>['prepare'];
  readonly #clock: Clock;
  readonly #timer: Timer;
  readonly #onError: (err: unknown, schedule?: Schedule) => void;
  readonly #retryDelayMs: number;
  readonly #maxSleepMs: number;
  readonly #lease: ScheduleLease | undefined;
  readonly #entries = new Map<string, Entry>();
  /** Every operation runs after the previous one: ticks and replacements never interleave. */
  #chain: Promise<void> = Promise.resolve();
  #cancelTimer: (() => void) | undefined;
  #stopped = false;

  constructor(options: ScheduleFireOptions<Ctx>) {
    this.#ledger = options.ledger;
    this.#fire = options.fire;
    this.#prepare = options.prepare;
    this.#clock = options.clock ?? systemClock;
    this.#timer = options.timer ?? systemScheduler;
    this.#onError = options.onError ?? (() => {});
    this.#retryDelayMs = options.retryDelayMs ?? 10_000;
    this.#maxSleepMs = options.maxSleepMs ?? 60_000;
    this.#lease = options.lease;
  }

  /**
   * Replaces the schedules of `group` (say `<service>/<stage>`; one group is fine for a caller
   * that always passes everything) and fires what is due. Schedules that fail to compile or whose
   * id another schedule holds go to onError and are left out; the rest still run. Rejects, with
   * the previous set kept, only when the ledger cannot be reached.
   */
  setSchedules(list: readonly Schedule[], group = ''): Promise<void> {
    return this.#enqueue(async () => {
      const now = this.#clock.now();
      const incoming = new Map<string, CompiledSchedule>();
      for (const schedule of list) {
        try {
          const owner = this.#entries.get(schedule.id)?.group;
          if (incoming.has(schedule.id) || (owner !== undefined && owner !== group)) {
            throw new ScheduleConfigError(
              `schedule id ${schedule.id} is already taken by another schedule; give one of ` +
                'them a different name',
            );
          }
          incoming.set(schedule.id, compileSchedule(schedule));
        } catch (err) {
          this.#onError(err, schedule);
        }
      }
      const removed = [...this.#entries.values()]
        .filter((e) => e.group === group && !incoming.has(e.compiled.schedule.id))
        .map((e) => e.compiled.schedule.id);
      const slots = await this.#ledger.sync(
        [...incoming.values()].map((c) => ({ id: c.schedule.id, spec: c.spec })),
        now,
      );
      if (removed.length > 0) await this.#ledger.forget(removed);

      for (const id of removed) this.#entries.delete(id);
      for (const [id, compiled] of incoming) {
        const previous = this.#entries.get(id);
        // A peer may have claimed later slots: never step back behind what either side knows.
        const lastSlot = Math.max(
          slots.get(id) ?? now,
          previous?.compiled.spec === compiled.spec ? previous.lastSlot : -Infinity,
        );
        this.#entries.set(id, {
          compiled,
          group,
          lastSlot,
          next: this.#nextAfter(compiled, lastSlot),
          retryAt: 0,
        });
      }
      await this.#tick();
    });
  }

  /** Fires everything due now and re-arms the timer; what the timer calls. */
  tick(): Promise<void> {
    return this.#enqueue(() => this.#tick());
  }

  /** Resolves once every operation queued so far has finished (tests, shutdown). */
  idle(): Promise<void> {
    return this.#chain;
  }

  list(): ScheduleStatus[] {
    return [...this.#entries.values()].map((e) => ({
      schedule: e.compiled.schedule,
      nextFire: e.next === undefined ? undefined : new Date(e.next),
      lastSlot: Number.isFinite(e.lastSlot) ? new Date(e.lastSlot) : undefined,
    }));
  }

  /** Cancels the timer and waits for a running tick; nothing fires afterwards. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    await this.#chain;
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(() => (this.#stopped ? undefined : op()));
    // The chain itself must survive a failed operation; the caller still sees the rejection.
    this.#chain = run.catch(() => {});
    return run;
  }

  async #tick(): Promise<void> {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    const now = this.#clock.now();
    if (this.#lease !== undefined && !(await this.#holdLease(now))) {
      this.#arm(now, now + this.#retryDelayMs);
      return;
    }
    const due = [...this.#entries.values()]
      .filter((e) => e.next !== undefined && e.next <= now && e.retryAt <= now)
      .sort((a, b) => a.next! - b.next!);
    for (const entry of due) {
      if (this.#stopped) return;
      await this.#fireLatest(entry, now);
    }
    let wake = Infinity;
    for (const e of this.#entries.values()) {
      if (e.next !== undefined) wake = Math.min(wake, Math.max(e.next, e.retryAt));
    }
    this.#arm(now, wake);
  }

  async #fireLatest(entry: Entry, now: number): Promise<void> {
    const { schedule, expression, timezone } = entry.compiled;
    const slot = latestFireMs(expression, entry.lastSlot, now, timezone) ?? entry.next!;
    try {
      const prepared = await this.#prepare?.(schedule, new Date(slot));
      // False means a peer, or this node before a restart, already has the slot: skip it.
      await this.#ledger.claim(schedule.id, slot, now, (ctx) =>
        this.#fire(schedule, new Date(slot), ctx, prepared),
      );
    } catch (err) {
      // Claim not settled here: retry. A record-first claim that did commit refuses the retry,
      // so nothing fires twice either way.
      entry.retryAt = now + this.#retryDelayMs;
      this.#onError(err, schedule);
      return;
    }
    entry.lastSlot = slot;
    entry.retryAt = 0;
    entry.next = this.#nextAfter(entry.compiled, slot);
  }

  #nextAfter(compiled: CompiledSchedule, afterMs: number): number | undefined {
    if (!compiled.schedule.event.enabled) return undefined;
    return nextFireMs(compiled.expression, afterMs, compiled.timezone);
  }

  async #holdLease(now: number): Promise<boolean> {
    try {
      return await this.#lease!.hold(now);
    } catch (err) {
      this.#onError(err);
      return false;
    }
  }

  #arm(now: number, wakeAt: number): void {
    // Nothing enabled has a slot left: no timer until the next setSchedules.
    if (this.#stopped || wakeAt === Infinity) return;
    const delay = Math.min(Math.max(wakeAt - now, 0), this.#maxSleepMs);
    this.#cancelTimer = this.#timer.schedule(delay, () => {
      this.#cancelTimer = undefined;
      this.tick().catch((err) => this.#onError(err));
    });
  }
}
