import type { Clock } from '../../src/model/clock.js';
import type { LogEvent } from '../../src/model/invocation.js';
import type {
  LogQuery,
  LogStore,
  RetentionScope,
  StoredLogEvent,
} from '../../src/platform/observe/log-store.js';
import type { Scheduler } from '../../src/platform/observe/scheduler.js';

/** Timers fired by hand: `fire(ms)` runs what is due after ms more have passed. */
export class FakeScheduler implements Scheduler {
  now = 0;
  #timers: { at: number; run: () => void }[] = [];

  schedule(ms: number, run: () => void): () => void {
    const timer = { at: this.now + ms, run };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  get pending(): number[] {
    return this.#timers.map((t) => t.at - this.now);
  }

  fire(ms: number): void {
    this.now += ms;
    const due = this.#timers.filter((t) => t.at <= this.now);
    this.#timers = this.#timers.filter((t) => t.at > this.now);
    for (const t of due) t.run();
  }
}

export class FakeClock implements Clock {
  constructor(public ms = 1_700_000_000_000) {}
  now(): number {
    return this.ms;
  }
}

/**
 * An in-memory LogStore whose appends can be held (`hold()`, then `release()`) or made to fail,
 * to play a store that falls behind.
 */
export class MemoryLogStore implements LogStore {
  events: StoredLogEvent[] = [];
  batches: number[] = [];
  failNext = 0;
  cutoffs: number[] = [];
  #nextId = 1;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  hold(): void {
    this.#gate = new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  async append(events: LogEvent[]): Promise<number[]> {
    if (this.#gate) await this.#gate;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('store down');
    }
    this.batches.push(events.length);
    return events.map((e) => {
      const id = this.#nextId++;
      this.events.push({ id, ...e });
      return id;
    });
  }

  async query(q: LogQuery): Promise<StoredLogEvent[]> {
    return this.events
      .filter(
        (e) =>
          e.functionName === q.functionName &&
          (q.after === undefined || e.id > q.after) &&
          (q.before === undefined || e.id < q.before) &&
          (q.startTime === undefined || e.timestamp >= q.startTime) &&
          (q.endTime === undefined || e.timestamp <= q.endTime) &&
          (!q.filter || e.message.includes(q.filter)),
      )
      .slice(0, q.limit);
  }

  async deleteOlderThan(cutoffMs: number, scope: RetentionScope = {}): Promise<number> {
    this.cutoffs.push(cutoffMs);
    const before = this.events.length;
    const inScope = (e: LogEvent) =>
      (scope.functionName === undefined || e.functionName === scope.functionName) &&
      !scope.except?.includes(e.functionName);
    this.events = this.events.filter((e) => e.timestamp >= cutoffMs || !inScope(e));
    return before - this.events.length;
  }
}

export function logLine(message: string, functionName = 'svc-dev-hello', timestamp = 0): LogEvent {
  return { functionName, version: '1', logStream: '2024/01/02/[1]i1', timestamp, message };
}

/** Lets pending promise callbacks run (the store's fake awaits resolve within a few turns). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
