import type { Clock } from '../../model/clock.js';
import type { FunctionTarget, InvokeRequest, InvokeResult } from '../../model/invocation.js';
import { InstanceStartError, TooManyRequestsError } from './pool-errors.js';

/** What the pool needs of one instance; the process-backed Instance provides it. */
export interface PoolInstance {
  readonly id: string;
  readonly state: 'starting' | 'idle' | 'busy' | 'dead';
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
}

interface Slot {
  instance: PoolInstance;
  provisioned: boolean;
  lastUsed: number;
}

interface Waiter {
  resolve(slot: Slot): void;
  reject(error: unknown): void;
}

/** Instances of one function version. */
interface VersionGroup {
  target: FunctionTarget;
  idle: Slot[];
  busy: Set<Slot>;
  starting: number;
  waiters: Waiter[];
  retired: boolean;
}

/**
 * Keeps instances per function version: reuses idle ones (most recently used first, so the
 * warmest serve and the rest age out), starts new ones only for requests that are actually
 * waiting (a burst of N starts at most N), refuses past the concurrency limits, and reaps idle
 * ones so an unused function holds no process.
 */
export class InstancePool {
  readonly #opts: PoolOptions;
  readonly #groups = new Map<string, VersionGroup>();
  /** In-flight requests per function name (all versions), for reserved concurrency. */
  readonly #inflight = new Map<string, number>();

  constructor(opts: PoolOptions) {
    this.#opts = opts;
  }

  async invoke(
    target: FunctionTarget,
    req: InvokeRequest,
    limits: { reservedConcurrency?: number } = {},
  ): Promise<InvokeResult> {
    const name = target.functionName;
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
      const slot = await this.#acquire(group);
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

  /** Keeps `count` initialized instances of this version that reap() never stops. */
  async provision(target: FunctionTarget, count: number): Promise<void> {
    const group = this.#group(target);
    const have = [...group.idle, ...group.busy].filter((s) => s.provisioned).length;
    const starts: Promise<void>[] = [];
    for (let i = have; i < count; i++) {
      starts.push(
        this.#start(group, 'provisioned').then((slot) => {
          slot.provisioned = true;
          this.#release(group, slot);
        }),
      );
    }
    await Promise.all(starts);
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
    await Promise.all(stops);
  }

  /** Stops every instance of a function (removed from the platform). */
  async removeFunction(functionName: string): Promise<void> {
    await this.retire(functionName, new Set());
  }

  /** Stops idle on-demand instances unused for idleTimeoutMs. Called by a timer, or by tests. */
  async reap(): Promise<number> {
    const cutoff = this.#opts.clock.now() - this.#opts.idleTimeoutMs;
    const stops: Promise<void>[] = [];
    for (const [key, group] of this.#groups) {
      const keep: Slot[] = [];
      for (const slot of group.idle) {
        if (!slot.provisioned && slot.lastUsed <= cutoff) stops.push(slot.instance.stop());
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

  /** Instances of one function version, for tests and the console. */
  countFor(functionName: string, version: string): number {
    const g = this.#groups.get(groupKey(functionName, version));
    return g ? g.idle.length + g.busy.size + g.starting : 0;
  }

  async close(): Promise<void> {
    const stops: Promise<void>[] = [];
    for (const group of this.#groups.values()) {
      group.retired = true;
      stops.push(...group.idle.splice(0).map((s) => s.instance.stop()));
      stops.push(...[...group.busy].map((s) => s.instance.stop()));
      for (const w of group.waiters.splice(0))
        w.reject(new InstanceStartError('the platform is shutting down'));
    }
    this.#groups.clear();
    await Promise.all(stops);
  }

  #group(target: FunctionTarget): VersionGroup {
    const key = groupKey(target.functionName, target.version);
    let group = this.#groups.get(key);
    if (!group) {
      group = { target, idle: [], busy: new Set(), starting: 0, waiters: [], retired: false };
      this.#groups.set(key, group);
    }
    return group;
  }

  #acquire(group: VersionGroup): Promise<Slot> {
    const slot = group.idle.pop();
    if (slot) {
      group.busy.add(slot);
      return Promise.resolve(slot);
    }
    return new Promise<Slot>((resolve, reject) => {
      group.waiters.push({ resolve, reject });
      // One start per waiting request at most: a burst never spawns more than it needs, and an
      // instance that frees up first serves whoever waits longest.
      if (group.starting < group.waiters.length) {
        this.#start(group, 'on-demand').then(
          (started) => this.#release(group, started),
          (error) => group.waiters.shift()?.reject(error),
        );
      }
    });
  }

  async #start(group: VersionGroup, kind: 'on-demand' | 'provisioned'): Promise<Slot> {
    group.starting++;
    try {
      const instance = await this.#opts.factory(group.target, kind);
      const slot: Slot = { instance, provisioned: false, lastUsed: this.#opts.clock.now() };
      group.busy.add(slot);
      return slot;
    } catch (error) {
      throw error instanceof InstanceStartError
        ? error
        : new InstanceStartError(`could not start an instance of ${group.target.functionName}`, {
            cause: error,
          });
    } finally {
      group.starting--;
    }
  }

  /** An instance is free: hand it to the next waiter, park it, or let it go. */
  #release(group: VersionGroup, slot: Slot): void {
    group.busy.delete(slot);
    slot.lastUsed = this.#opts.clock.now();
    if (slot.instance.state === 'dead') {
      // Replace a dead instance only if somebody is waiting without a start under way.
      if (group.waiters.length > group.starting) {
        this.#start(group, 'on-demand').then(
          (started) => this.#release(group, started),
          (error) => group.waiters.shift()?.reject(error),
        );
      }
      this.#dropIfEmpty(groupKey(group.target.functionName, group.target.version), group);
      return;
    }
    const waiter = group.waiters.shift();
    if (waiter) {
      group.busy.add(slot);
      waiter.resolve(slot);
      return;
    }
    if (group.retired) {
      void slot.instance.stop();
      this.#dropIfEmpty(groupKey(group.target.functionName, group.target.version), group);
      return;
    }
    group.idle.push(slot);
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
      this.#groups.delete(key);
    }
  }
}

function groupKey(functionName: string, version: string): string {
  return `${functionName}\u0000${version}`;
}
