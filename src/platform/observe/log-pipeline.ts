/**
 * Between the instances that produce log lines and the LogStore: write() is on the invocation
 * path, so it only buffers; batches reach the store in the background. Live followers (`logs -t`)
 * see each line as it is written, before its batch lands.
 */
import { type Clock, systemClock } from '../../model/clock.js';
import type { LogEvent } from '../../model/invocation.js';
import type { LogStore } from './log-store.js';
import { type Scheduler, systemScheduler } from './scheduler.js';

export type LogListener = (event: LogEvent) => void;

export interface LogPipelineOptions {
  store: LogStore;
  clock?: Clock;
  scheduler?: Scheduler;
  /** pino's Logger fits. */
  log?: { warn(detail: object, message: string): void };
  /** A batch is written at most this long after its first line (default 100). */
  flushIntervalMs?: number;
  /**
   * ...or as soon as this many lines wait (default 128). On SQLite a batch is inserted on the
   * event loop (about 7 µs a line): 500 lines held every request in flight for ~3.5 ms.
   */
  batchSize?: number;
  /** Lines held while the store falls behind; past this the oldest are dropped (default 10000). */
  maxBuffered?: number;
  /** Lines older than this are pruned (default 7 days)... */
  retentionMs?: number;
  /**
   * ...unless their function keeps them longer or shorter (`logRetentionInDays`): function name
   * -> milliseconds, read at each prune.
   */
  retentionOf?: () => Promise<ReadonlyMap<string, number>>;
  /** How often prune() runs on its own; 0 turns that off (default 1 hour). */
  pruneEveryMs?: number;
}

/** What a follower gets on joining: see follow(). */
export interface LogFollow {
  /** This function's lines written before follow() but not yet stored, oldest first. */
  pending: LogEvent[];
  /**
   * Call after each read of stored history: stored lines with the resolved id or higher were
   * delivered through `pending` or the listener, so drop them (undefined: keep all). It waits
   * for a batch being stored right now, so a read that already saw that batch is covered.
   */
  historyBefore(): Promise<number | undefined>;
  /**
   * Whether this node stored the line with that id (after follow()): it reached the listener
   * live, so a tail reading other nodes' lines from the store skips it. Asks once per id.
   */
  landedHere(id: number): boolean;
  stop(): void;
}

export interface LogPipelineStats {
  buffered: number;
  stored: number;
  dropped: number;
}

interface Pending {
  seq: number;
  event: LogEvent;
}

interface FollowState {
  functionName: string;
  firstLandedId: number | undefined;
  /** Ids of this function's lines this node stored since the follow began, until asked. */
  landed: Set<number>;
}

export const defaultRetentionMs = 7 * 24 * 60 * 60 * 1000;
/** A store that keeps failing would otherwise be reported on every 100 ms tick. */
const warnEveryMs = 10_000;

export class LogPipeline {
  readonly #store: LogStore;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #log: LogPipelineOptions['log'];
  readonly #retentionOf: LogPipelineOptions['retentionOf'];
  readonly #flushIntervalMs: number;
  readonly #batchSize: number;
  readonly #maxBuffered: number;
  readonly #retentionMs: number;
  readonly #pruneEveryMs: number;

  #seq = 0;
  #buffer: Pending[] = [];
  #inflight: Pending[] = [];
  #draining: Promise<boolean> | undefined;
  #appending: Promise<number[]> | undefined;
  #cancelFlush: (() => void) | undefined;
  #cancelPrune: (() => void) | undefined;
  readonly #listeners = new Map<string, Set<LogListener>>();
  readonly #follows = new Set<FollowState>();
  #stored = 0;
  #dropped = 0;
  #droppedUnreported = 0;
  #lastWarnAt = Number.NEGATIVE_INFINITY;
  #closed = false;

  constructor(options: LogPipelineOptions) {
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    this.#scheduler = options.scheduler ?? systemScheduler;
    this.#log = options.log;
    this.#flushIntervalMs = options.flushIntervalMs ?? 100;
    this.#batchSize = options.batchSize ?? 128;
    this.#maxBuffered = options.maxBuffered ?? 10_000;
    this.#retentionMs = options.retentionMs ?? defaultRetentionMs;
    this.#retentionOf = options.retentionOf;
    this.#pruneEveryMs = options.pruneEveryMs ?? 60 * 60 * 1000;
    this.#armPrune();
  }

  /** Never blocks, never throws: a log line must not cost an invocation anything. */
  write(event: LogEvent): void {
    try {
      if (this.#closed) {
        this.#dropped++;
        return;
      }
      this.#buffer.push({ seq: ++this.#seq, event });
      if (this.#buffer.length > this.#maxBuffered)
        this.#drop(this.#buffer.length - this.#maxBuffered);
      this.#notify(event);
      if (this.#buffer.length >= this.#batchSize) void this.#startDrain(false);
      else this.#armFlush();
    } catch {
      // Only a bug can land here; losing one line beats failing the invocation.
    }
  }

  /** Calls `listener` with each line of `functionName` as it is written. */
  subscribe(functionName: string, listener: LogListener): () => void {
    let set = this.#listeners.get(functionName);
    if (!set) {
      set = new Set();
      this.#listeners.set(functionName, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(functionName) === set) {
        this.#listeners.delete(functionName);
      }
    };
  }

  /**
   * subscribe() plus what a tail needs to join stored history to live lines with no gap and no
   * duplicate: the lines still unstored, and where the store's copy of live lines begins.
   */
  follow(functionName: string, listener: LogListener): LogFollow {
    const state: FollowState = { functionName, firstLandedId: undefined, landed: new Set() };
    this.#follows.add(state);
    const pending = [...this.#inflight, ...this.#buffer]
      .filter((p) => p.event.functionName === functionName)
      .map((p) => p.event);
    const unsubscribe = this.subscribe(functionName, listener);
    return {
      pending,
      historyBefore: async () => {
        // Reactions run in order: drain()'s own await on this promise records the batch's ids
        // before this one resumes.
        await this.#appending?.catch(() => {});
        return state.firstLandedId;
      },
      landedHere: (id) => state.landed.delete(id),
      stop: () => {
        this.#follows.delete(state);
        unsubscribe();
      },
    };
  }

  /**
   * Resolves once every line written before the call is stored, or a write to the store failed
   * (logged; the lines stay buffered for the next attempt). Never rejects.
   */
  async flush(): Promise<void> {
    const target = this.#seq;
    while (this.#oldestUnstoredSeq() <= target) {
      if (!(await this.#startDrain(true))) return;
    }
  }

  /**
   * Deletes lines older than their function's retention period, or the default one; resolves
   * to how many went.
   */
  async prune(): Promise<number> {
    const now = this.#clock.now();
    const own = (await this.#retentionOf?.()) ?? new Map<string, number>();
    let deleted = 0;
    for (const [functionName, ms] of own) {
      deleted += await this.#store.deleteOlderThan(now - ms, { functionName });
    }
    return (
      deleted +
      (await this.#store.deleteOlderThan(now - this.#retentionMs, { except: [...own.keys()] }))
    );
  }

  stats(): LogPipelineStats {
    return {
      buffered: this.#buffer.length + this.#inflight.length,
      stored: this.#stored,
      dropped: this.#dropped,
    };
  }

  /** Stops the timers and stores what is buffered; later writes are dropped. */
  async stop(): Promise<void> {
    this.#closed = true;
    this.#cancelFlush?.();
    this.#cancelFlush = undefined;
    this.#cancelPrune?.();
    this.#cancelPrune = undefined;
    await this.flush();
    this.#listeners.clear();
  }

  #notify(event: LogEvent): void {
    const set = this.#listeners.get(event.functionName);
    if (!set) return;
    for (const listener of set) {
      try {
        listener(event);
      } catch {
        // One broken follower must not stop the others, nor the write.
      }
    }
  }

  #oldestUnstoredSeq(): number {
    return this.#inflight[0]?.seq ?? this.#buffer[0]?.seq ?? Number.POSITIVE_INFINITY;
  }

  #armFlush(): void {
    if (this.#cancelFlush || this.#closed) return;
    this.#cancelFlush = this.#scheduler.schedule(this.#flushIntervalMs, () => {
      this.#cancelFlush = undefined;
      this.#reportDrops();
      void this.#startDrain(true);
    });
  }

  #armPrune(): void {
    if (this.#pruneEveryMs <= 0 || this.#closed) return;
    this.#cancelPrune = this.#scheduler.schedule(this.#pruneEveryMs, () => {
      this.#cancelPrune = undefined;
      this.prune()
        .catch((error: unknown) => this.#log?.warn({ err: error }, 'log retention pruning failed'))
        .finally(() => this.#armPrune());
    });
  }

  /**
   * At most one drain at a time; batches land in order, which follow() relies on. `all` (timer,
   * flush) empties the buffer; otherwise only full batches go and the rest waits for the timer.
   */
  #startDrain(all: boolean): Promise<boolean> {
    this.#draining ??= this.#drain(all).finally(() => {
      this.#draining = undefined;
      this.#reportDrops();
      if (this.#buffer.length > 0) this.#armFlush();
    });
    return this.#draining;
  }

  async #drain(all: boolean): Promise<boolean> {
    let first = true;
    while (this.#buffer.length >= (all ? 1 : this.#batchSize)) {
      // Between two batches, let the event loop serve the I/O that waits: a SQLite insert
      // resolves without ever leaving the turn, so a backlog would otherwise go in one stall.
      if (!first) await new Promise<void>((resolve) => setImmediate(resolve));
      first = false;
      if (this.#buffer.length === 0) break;
      const batch = this.#buffer.splice(0, this.#batchSize);
      this.#inflight = batch;
      let ids: number[];
      try {
        this.#appending = this.#store.append(batch.map((p) => p.event));
        ids = await this.#appending;
      } catch (error) {
        this.#appending = undefined;
        // Back to the front, in order, for the next tick; the bound still holds, so a store
        // that stays down costs the oldest lines, not memory.
        this.#inflight = [];
        this.#buffer.unshift(...batch);
        if (this.#buffer.length > this.#maxBuffered) {
          this.#drop(this.#buffer.length - this.#maxBuffered);
        }
        this.#warn({ err: error, buffered: this.#buffer.length }, 'log store write failed');
        return false;
      }
      this.#appending = undefined;
      this.#inflight = [];
      this.#stored += ids.length;
      const firstId = ids[0];
      if (firstId !== undefined) {
        for (const follow of this.#follows) {
          follow.firstLandedId ??= firstId;
          for (const [i, p] of batch.entries()) {
            if (p.event.functionName === follow.functionName) follow.landed.add(ids[i]!);
          }
        }
      }
    }
    return true;
  }

  #drop(count: number): void {
    this.#buffer.splice(0, count);
    this.#dropped += count;
    this.#droppedUnreported += count;
  }

  #reportDrops(): void {
    if (this.#droppedUnreported === 0) return;
    const reported = this.#warn(
      { dropped: this.#droppedUnreported, droppedTotal: this.#dropped },
      'log store is falling behind: dropped the oldest buffered log lines',
    );
    if (reported) this.#droppedUnreported = 0;
  }

  #warn(detail: object, message: string): boolean {
    const now = this.#clock.now();
    if (now - this.#lastWarnAt < warnEveryMs) return false;
    this.#lastWarnAt = now;
    this.#log?.warn(detail, message);
    return true;
  }
}
