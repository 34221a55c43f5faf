import { availableParallelism } from 'node:os';
import type { Clock } from '../../model/clock.js';
import type {
  FunctionErrorBody,
  FunctionTarget,
  InvokeRequest,
  InvokeResult,
} from '../../model/invocation.js';
import { functionErrorOf, InitHealth } from './init-backoff.js';
import { timeoutError } from './instance-errors.js';
import { InstanceStartError, TooManyRequestsError } from './pool-errors.js';
import { StartGate } from './start-gate.js';

/** What the pool needs of one instance; the process-backed Instance provides it. */
export interface PoolInstance {
  readonly id: string;
  readonly state: 'starting' | 'idle' | 'busy' | 'dead';
  /** False once its process is gone, which may be known before `state` says dead. */
  readonly alive?: boolean;
  /** Set when init failed: the instance is dead, and its first invoke() answers with this. */
  readonly initError?: FunctionErrorBody | undefined;
  /** Requests it serves at once (the target's `concurrency`); 1 when absent, Lambda's contract. */
  readonly capacity?: number;
  invoke(req: InvokeRequest): Promise<InvokeResult>;
  /** Graceful: lets an in-flight request finish, then ends the process. */
  stop(): Promise<void>;
}

export type InstanceFactory = (
  target: FunctionTarget,
  kind: 'on-demand' | 'provisioned',
) => Promise<PoolInstance>;

export interface PoolOptions {
  factory: InstanceFactory;
  clock: Clock;
  /** Idle instances older than this are stopped by reap(): scale to zero. */
  idleTimeoutMs: number;
  /** Platform-wide cap on instances (busy, idle and starting together). */
  maxInstances: number;
  /** Instance starts under way at once, platform-wide. Default 4. */
  maxConcurrentStarts?: number;
  /**
   * Instances this old (from the start that made them) take no new request: idle ones stop,
   * busy ones once their requests are done, provisioned ones are replaced. What keeps an
   * instance inside the life of the session credentials it was started with. At least a minute.
   */
  maxInstanceAgeMs?: number;
  /**
   * CPU-aware scheduling (docs/performance.md): once this many instances platform-wide are busy
   * or starting (every core has one), a request that finds no idle instance of its version waits
   * for one of that version's instances to come free instead of starting another process that
   * would only compete for the same cores. Default: the host's available parallelism.
   */
  cpuSlots?: number;
  /**
   * How long such waiting may go on without any progress (an instance of the version freed or
   * started) before instances are started for the waiting requests after all: what keeps
   * I/O-bound handlers, which leave the cores idle while busy, scaling out. 0 turns the hold
   * off (start at once, as before). Default 10 ms.
   */
  holdMs?: number;
}

/** Below this, a start could outlast the age it is allowed and instances would churn. */
const minInstanceAgeMs = 60_000;

interface Slot {
  instance: PoolInstance;
  provisioned: boolean;
  lastUsed: number;
  /** When its start began (its credentials are at least this old). */
  startedAt: number;
  /** A dead instance whose init error no request has been given yet. */
  initErrorPending: boolean;
  /** Requests handed to it and not yet released; in `busy` while above zero. */
  active: number;
  capacity: number;
}

/** A request without an instance: it gets one, or an answer instead (init failure, timeout). */
interface Waiter {
  req: InvokeRequest;
  resolve(got: Slot | InvokeResult): void;
  reject(error: unknown): void;
}

/** Instances of one function version. */
interface VersionGroup {
  target: FunctionTarget;
  idle: Slot[];
  /** Instances serving at least one request (with room for more when capacity > 1). */
  busy: Set<Slot>;
  starting: number;
  waiters: Waiter[];
  retired: boolean;
  /** Instances handed on (freed or started): the progress a held request waits for. */
  offers: number;
  /** Armed while requests are held (CPU-aware scheduling). */
  holdTimer: NodeJS.Timeout | undefined;
}

/**
 * Keeps instances per function version: reuses idle ones (most recently used first, so the
 * warmest serve and the rest age out), starts new ones only for requests that are actually
 * waiting (a burst of N starts at most N), refuses past the concurrency limits, and reaps idle
 * ones so an unused function holds no process.
 *
 * Init failures (docs/runtimes.md): a version not yet proven by a successful init starts one
 * instance at a time, so code that cannot load costs one process per attempt, not one per
 * request; after a failure, starts of it back off (init-backoff.ts) and requests that would need
 * one are answered with the last init error at once.
 *
 * A target with `concurrency` N (docs/runtimes.md) has each instance take up to N requests; a
 * busy instance with room is filled before an idle one is woken or a new one started.
 */
export class InstancePool {
  readonly #opts: PoolOptions;
  readonly #groups = new Map<string, VersionGroup>();
  /** In-flight requests per function name (all versions), for reserved concurrency. */
  readonly #inflight = new Map<string, number>();
  /** Per version key; outlives the version's group, which goes when its last instance does. */
  readonly #health = new Map<string, InitHealth>();
  readonly #gate: StartGate;
  readonly #cpuSlots: number;
  readonly #holdMs: number;
  /** Starts made for held requests after their hold ran out with no progress (tests, docs). */
  #holdExpiries = 0;

  constructor(opts: PoolOptions) {
    if (opts.maxInstanceAgeMs !== undefined && !(opts.maxInstanceAgeMs >= minInstanceAgeMs)) {
      throw new RangeError(`maxInstanceAgeMs must be at least ${minInstanceAgeMs} ms`);
    }
    this.#opts = opts;
    this.#gate = new StartGate(opts.maxConcurrentStarts ?? 4);
    this.#cpuSlots = Math.max(1, opts.cpuSlots ?? availableParallelism());
    this.#holdMs = Math.max(0, opts.holdMs ?? 10);
  }

  /** How many times held requests got instances started after all (no progress in holdMs). */
  get holdExpiries(): number {
    return this.#holdExpiries;
  }

  /** The most instance starts that ran at once so far. */
  get peakConcurrentStarts(): number {
    return this.#gate.peak;
  }

  async invoke(
    target: FunctionTarget,
    req: InvokeRequest,
    limits: { reservedConcurrency?: number } = {},
  ): Promise<InvokeResult> {
    const name = target.functionName;
    const key = groupKey(name, target.version);
    const failure = this.#health.get(key)?.holdingBack(this.#opts.clock.now());
    if (failure && !this.#groups.get(key)?.idle.length) {
      return failureResult(target, failure.error);
    }
    const inflight = this.#inflight.get(name) ?? 0;
    if (limits.reservedConcurrency !== undefined && inflight >= limits.reservedConcurrency) {
      throw new TooManyRequestsError('ReservedFunctionConcurrentInvocationLimitExceeded');
    }
    const group = this.#group(target);
    if (group.idle.length === 0 && this.#total() >= this.#opts.maxInstances && !this.#freeOne()) {
      throw new TooManyRequestsError('ConcurrentInvocationLimitExceeded');
    }
    this.#inflight.set(name, inflight + 1);
    try {
      const slot = await this.#acquire(group, req);
      if (!isSlot(slot)) return slot;
      try {
        return await slot.instance.invoke(req);
      } finally {
        this.#release(group, slot);
      }
    } finally {
      const left = (this.#inflight.get(name) ?? 1) - 1;
      if (left === 0) this.#inflight.delete(name);
      else this.#inflight.set(name, left);
    }
  }

  /**
   * Keeps `count` initialized instances of this version that reap() never stops, within the
   * platform cap: provisioned instances count against it like any other, and past it fewer are
   * kept (deploy refuses a count over the cap; this holds whatever asks).
   */
  async provision(target: FunctionTarget, count: number): Promise<void> {
    const group = this.#group(target);
    const have = [...group.idle, ...group.busy].filter((s) => s.provisioned).length;
    const room = Math.max(0, this.#opts.maxInstances - this.#total());
    const wanted = Math.min(count, have + room);
    const starts: Promise<void>[] = [];
    for (let i = have; i < wanted; i++) starts.push(this.#startProvisioned(group));
    await Promise.all(starts);
  }

  #startProvisioned(group: VersionGroup): Promise<void> {
    return this.#start(group, 'provisioned').then(
      (slot) => {
        group.starting--;
        if (!slot) return;
        slot.provisioned = true;
        this.#offer(group, slot);
      },
      (error) => {
        group.starting--;
        throw error;
      },
    );
  }

  /** Past maxInstanceAgeMs: it must take no new request. */
  #tooOld(slot: Slot): boolean {
    const max = this.#opts.maxInstanceAgeMs;
    return max !== undefined && this.#opts.clock.now() - slot.startedAt >= max;
  }

  /** Stops an instance that aged out; a provisioned one gets a successor. */
  #recycle(group: VersionGroup, slot: Slot): void {
    void slot.instance.stop().catch(() => {});
    if (slot.provisioned && !group.retired) {
      this.#startProvisioned(group).catch(() => {});
    }
  }

  /**
   * A version no alias serves any more: idle instances stop now, busy ones once their request
   * is done. Requests already waiting for this version are still served.
   */
  async retire(functionName: string, keepVersions: Set<string>): Promise<void> {
    const stops: Promise<void>[] = [];
    for (const [key, group] of this.#groups) {
      if (group.target.functionName !== functionName || keepVersions.has(group.target.version))
        continue;
      group.retired = true;
      stops.push(...group.idle.splice(0).map((s) => s.instance.stop()));
      this.#dropIfEmpty(key, group);
    }
    // A version that comes back (rollback to it) gets a fresh chance.
    for (const key of [...this.#health.keys()]) {
      const [fn, version] = key.split('\u0000') as [string, string];
      if (fn === functionName && !keepVersions.has(version)) this.#health.delete(key);
    }
    await Promise.all(stops);
  }

  /** Stops every instance of a function (removed from the platform). */
  async removeFunction(functionName: string): Promise<void> {
    await this.retire(functionName, new Set());
  }

  /**
   * Stops idle on-demand instances unused for idleTimeoutMs, and idle instances past
   * maxInstanceAgeMs (replacing provisioned ones). Called by a timer, or by tests.
   */
  async reap(): Promise<number> {
    const cutoff = this.#opts.clock.now() - this.#opts.idleTimeoutMs;
    const stops: Promise<void>[] = [];
    for (const [key, group] of this.#groups) {
      const keep: Slot[] = [];
      for (const slot of group.idle) {
        if (this.#tooOld(slot)) this.#recycle(group, slot);
        else if (!slot.provisioned && slot.lastUsed <= cutoff) stops.push(slot.instance.stop());
        else keep.push(slot);
      }
      group.idle = keep;
      this.#dropIfEmpty(key, group);
    }
    await Promise.all(stops);
    return stops.length;
  }

  stats(): { instances: number; busy: number; idle: number; starting: number } {
    let busy = 0;
    let idle = 0;
    let starting = 0;
    for (const g of this.#groups.values()) {
      busy += g.busy.size;
      idle += g.idle.length;
      starting += g.starting;
    }
    return { instances: busy + idle + starting, busy, idle, starting };
  }

  /** Instances per function version and state, for the metrics scrape. */
  statsByVersion(): {
    functionName: string;
    version: string;
    idle: number;
    busy: number;
    starting: number;
    provisioned: number;
  }[] {
    return [...this.#groups.values()].map((g) => ({
      functionName: g.target.functionName,
      version: g.target.version,
      idle: g.idle.length,
      busy: g.busy.size,
      starting: g.starting,
      provisioned:
        g.idle.filter((s) => s.provisioned).length +
        [...g.busy].filter((s) => s.provisioned).length,
    }));
  }

  /** Instances of one function version, for tests and the console. */
  countFor(functionName: string, version: string): number {
    const g = this.#groups.get(groupKey(functionName, version));
    return g ? g.idle.length + g.busy.size + g.starting : 0;
  }

  async close(): Promise<void> {
    const stops: Promise<void>[] = [];
    for (const group of this.#groups.values()) {
      group.retired = true;
      if (group.holdTimer) clearTimeout(group.holdTimer);
      stops.push(...group.idle.splice(0).map((s) => s.instance.stop()));
      stops.push(...[...group.busy].map((s) => s.instance.stop()));
      for (const w of group.waiters.splice(0))
        w.reject(new InstanceStartError('the platform is shutting down'));
    }
    this.#groups.clear();
    this.#health.clear();
    await Promise.all(stops);
  }

  #group(target: FunctionTarget): VersionGroup {
    const key = groupKey(target.functionName, target.version);
    let group = this.#groups.get(key);
    if (!group) {
      group = {
        target,
        idle: [],
        busy: new Set(),
        starting: 0,
        waiters: [],
        retired: false,
        offers: 0,
        holdTimer: undefined,
      };
      this.#groups.set(key, group);
    }
    return group;
  }

  #acquire(group: VersionGroup, req: InvokeRequest): Promise<Slot | InvokeResult> {
    const withRoom = this.#busyWithRoom(group);
    if (withRoom) {
      withRoom.active++;
      return Promise.resolve(withRoom);
    }
    let slot = group.idle.pop();
    // A handler may end its process after answering (process.exit, a crash in a timer): an idle
    // instance whose process is gone is dropped, never handed a request.
    while (slot && (slot.instance.state === 'dead' || slot.instance.alive === false)) {
      slot.instance.stop().catch(() => {});
      slot = group.idle.pop();
    }
    // Aged out while idle, between two reaps: never handed a request.
    while (slot && this.#tooOld(slot)) {
      this.#recycle(group, slot);
      slot = group.idle.pop();
    }
    if (slot) {
      slot.active = 1;
      group.busy.add(slot);
      return Promise.resolve(slot);
    }
    return new Promise((resolve, reject) => {
      // Bounded by the request's own deadline, whatever its instance's init does: an init that
      // never ends (a bootstrap that never calls /next) must not hold the caller past it.
      const timer = setTimeout(
        () => {
          const i = group.waiters.indexOf(waiter);
          if (i < 0) return;
          group.waiters.splice(i, 1);
          const now = this.#opts.clock.now();
          resolve(
            failureResult(group.target, timeoutError(now, req.requestId, group.target.timeout)),
          );
          this.#dropIfEmpty(groupKey(group.target.functionName, group.target.version), group);
        },
        Math.min(MAX_TIMER_MS, Math.max(0, req.deadlineMs - this.#opts.clock.now())),
      );
      timer.unref();
      const waiter: Waiter = {
        req,
        resolve: (got) => {
          clearTimeout(timer);
          resolve(got);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      group.waiters.push(waiter);
      this.#fill(group);
    });
  }

  /**
   * Starts what the waiting requests need: one each (an instance that frees up first serves
   * whoever waits longest), but only one at a time for a version whose init is not proven, and
   * none while its init failures are being backed off: those waiters get the failure instead.
   */
  #fill(group: VersionGroup, afterHold = false): void {
    const health = this.#healthOf(group);
    const failure = health.holdingBack(this.#opts.clock.now());
    if (failure) {
      // A start still under way may yet serve them; otherwise nothing will.
      if (group.starting === 0) {
        for (const w of group.waiters.splice(0))
          w.resolve(failureResult(group.target, failure.error));
      }
      return;
    }
    // A new instance takes up to `capacity` of the waiting requests.
    const capacity = Math.max(1, group.target.concurrency ?? 1);
    const needed = Math.ceil(group.waiters.length / capacity);
    const wanted = health.proven ? needed : Math.min(1, needed);
    if (group.starting >= wanted) return;
    if (!afterHold && health.proven && this.#hold(group)) return;
    while (group.starting < wanted) {
      this.#start(group, 'on-demand').then(
        (started) => {
          group.starting--;
          if (started) this.#offer(group, started);
          else this.#dropIfEmpty(groupKey(group.target.functionName, group.target.version), group);
        },
        (error) => {
          group.starting--;
          const fnError = functionErrorOf(error);
          if (fnError) {
            group.waiters.shift()?.resolve(failureResult(group.target, fnError));
          } else {
            group.waiters.shift()?.reject(error);
          }
          this.#fill(group);
          this.#dropIfEmpty(groupKey(group.target.functionName, group.target.version), group);
        },
      );
    }
  }

  /**
   * CPU-aware scheduling: with every core taken by a busy or starting instance, and this
   * version's own instances under way, the waiting requests are left for those to serve as they
   * free up (#offer hands them over in order). A timer checks for progress every holdMs; a
   * window with none (the instances are waiting on I/O, not using the cores) and nothing
   * starting ends the hold, and the starts are made. Only a proven version (its init has
   * succeeded) is held: one still failing gets the init-failure handling instead.
   */
  #hold(group: VersionGroup): boolean {
    if (this.#holdMs === 0) return false;
    if (group.busy.size + group.starting === 0) return false;
    if (this.#busyOrStarting() < this.#cpuSlots) return false;
    if (!group.holdTimer) this.#armHold(group, group.offers);
    return true;
  }

  #armHold(group: VersionGroup, offersAtArm: number): void {
    group.holdTimer = setTimeout(() => {
      // Timers run before I/O in each turn of the event loop: after a stall of the platform
      // (a busy host), the answers that are progress may sit unread. Decide after the poll.
      setImmediate(() => {
        group.holdTimer = undefined;
        if (group.waiters.length === 0) return;
        if (group.offers !== offersAtArm || group.starting > 0) {
          this.#armHold(group, group.offers);
          return;
        }
        this.#holdExpiries++;
        this.#fill(group, true);
      });
    }, this.#holdMs);
    group.holdTimer.unref();
  }

  #busyOrStarting(): number {
    let n = 0;
    for (const g of this.#groups.values()) n += g.busy.size + g.starting;
    return n;
  }

  /**
   * The caller takes `starting` back down in the same callback that hands the instance on, so
   * that #fill never sees a start that is over but not yet handed on as missing.
   */
  async #start(group: VersionGroup, kind: 'on-demand'): Promise<Slot | undefined>;
  async #start(group: VersionGroup, kind: 'provisioned'): Promise<Slot>;
  /**
   * An on-demand start queued behind the start gate is dropped when its turn comes and nobody
   * waits any more (an instance that freed up served them): under a steady load, the starts a
   * burst asked for must not arrive later as processes nobody needs.
   */
  async #start(group: VersionGroup, kind: 'on-demand' | 'provisioned'): Promise<Slot | undefined> {
    group.starting++;
    const health = this.#healthOf(group);
    const startedAt = this.#opts.clock.now();
    try {
      const instance = await this.#gate.run(() =>
        kind === 'on-demand' && group.waiters.length === 0
          ? Promise.resolve(undefined)
          : this.#opts.factory(group.target, kind),
      );
      if (!instance) return undefined;
      const now = this.#opts.clock.now();
      if (instance.initError) health.failed(instance.initError, startedAt, now);
      else health.succeeded();
      const slot: Slot = {
        instance,
        provisioned: false,
        lastUsed: now,
        startedAt,
        initErrorPending: instance.initError !== undefined,
        active: 0,
        capacity: Math.max(1, instance.capacity ?? 1),
      };
      return slot;
    } catch (error) {
      const fnError = functionErrorOf(error);
      if (fnError) {
        health.failed(fnError, startedAt, this.#opts.clock.now());
        throw error;
      }
      throw error instanceof InstanceStartError
        ? error
        : new InstanceStartError(`could not start an instance of ${group.target.functionName}`, {
            cause: error,
          });
    }
  }

  /** A request is done with its instance. */
  #release(group: VersionGroup, slot: Slot): void {
    slot.active = Math.max(0, slot.active - 1);
    this.#offer(group, slot);
  }

  /** An instance has room (new, or a request done): hand it to waiters, park it, or let it go. */
  #offer(group: VersionGroup, slot: Slot): void {
    slot.lastUsed = this.#opts.clock.now();
    if (slot.instance.state === 'dead') {
      group.busy.delete(slot);
      // Its first invoke() answers with the init error, with the log lines Lambda writes.
      const waiter = slot.initErrorPending ? group.waiters.shift() : undefined;
      slot.initErrorPending = false;
      if (waiter) {
        slot.active++;
        group.busy.add(slot);
        waiter.resolve(slot);
      }
      this.#fill(group);
      this.#dropIfEmpty(groupKey(group.target.functionName, group.target.version), group);
      return;
    }
    if (this.#tooOld(slot)) {
      // Its requests under way finish; it takes no more, and the waiting get a new instance.
      if (slot.active > 0) return;
      group.busy.delete(slot);
      this.#recycle(group, slot);
      this.#fill(group);
      this.#dropIfEmpty(groupKey(group.target.functionName, group.target.version), group);
      return;
    }
    // Progress for requests held by CPU-aware scheduling: a live instance with room.
    group.offers++;
    if (group.waiters.length > 0 && slot.active < slot.capacity) {
      group.busy.add(slot);
      while (slot.active < slot.capacity) {
        const waiter = group.waiters.shift();
        if (!waiter) break;
        slot.active++;
        waiter.resolve(slot);
      }
      // Proven just now, perhaps: the others waiting behind a first start get theirs.
      this.#fill(group);
      return;
    }
    if (slot.active > 0) return;
    group.busy.delete(slot);
    if (group.retired) {
      void slot.instance.stop();
      this.#dropIfEmpty(groupKey(group.target.functionName, group.target.version), group);
      return;
    }
    group.idle.push(slot);
  }

  /** The busy instance with the most requests that still has room: fills instances one by one. */
  #busyWithRoom(group: VersionGroup): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of group.busy) {
      if (slot.active >= slot.capacity || slot.instance.alive === false) continue;
      if (this.#tooOld(slot)) continue;
      if (slot.instance.state === 'dead') continue;
      if (!best || slot.active > best.active) best = slot;
    }
    return best;
  }

  #healthOf(group: VersionGroup): InitHealth {
    const key = groupKey(group.target.functionName, group.target.version);
    let health = this.#health.get(key);
    if (!health) {
      health = new InitHealth();
      this.#health.set(key, health);
    }
    return health;
  }

  /** At the platform cap: stop the least recently used idle instance of any function, if one exists. */
  #freeOne(): boolean {
    let oldest: { group: VersionGroup; index: number; at: number } | undefined;
    for (const group of this.#groups.values()) {
      group.idle.forEach((slot, index) => {
        if (!slot.provisioned && (!oldest || slot.lastUsed < oldest.at))
          oldest = { group, index, at: slot.lastUsed };
      });
    }
    if (!oldest) return false;
    const [slot] = oldest.group.idle.splice(oldest.index, 1);
    void slot?.instance.stop();
    return true;
  }

  #total(): number {
    return this.stats().instances;
  }

  #dropIfEmpty(key: string, group: VersionGroup): void {
    if (
      group.idle.length === 0 &&
      group.busy.size === 0 &&
      group.starting === 0 &&
      group.waiters.length === 0
    ) {
      if (group.holdTimer) clearTimeout(group.holdTimer);
      this.#groups.delete(key);
    }
  }
}

function groupKey(functionName: string, version: string): string {
  return `${functionName}\u0000${version}`;
}

/** setTimeout's limit; a later deadline would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function isSlot(got: Slot | InvokeResult): got is Slot {
  return 'instance' in got;
}

/** An answer given without running the function: the version's init failed, or the wait ran out. */
function failureResult(target: FunctionTarget, error: FunctionErrorBody): InvokeResult {
  return {
    outcome: { status: 'error', error },
    executedVersion: target.version,
    durationMs: 0,
    maxMemoryUsedMb: 0,
  };
}
