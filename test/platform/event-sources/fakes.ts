/**
 * In-memory sources and hand-driven time for the engine's unit tests: a queue with leases and
 * an ordered stream with shards and durable checkpoints. Waits resolve when records arrive,
 * when the fake time passes their deadline, or on abort; nothing sleeps.
 */
import type { Mapping } from '../../../src/platform/event-sources/mapping.js';
import { sqsDefaults } from '../../../src/platform/event-sources/mapping.js';
import type {
  QueueSource,
  SourceRecord,
  StreamSource,
} from '../../../src/platform/event-sources/source-port.js';

export class FakeTime {
  now = 1_000_000;
  #timers: { at: number; run: () => void }[] = [];
  readonly clock = { now: () => this.now };
  readonly timer = {
    schedule: (ms: number, run: () => void) => {
      const t = { at: this.now + ms, run };
      this.#timers.push(t);
      return () => {
        this.#timers = this.#timers.filter((x) => x !== t);
      };
    },
  };

  /** Moves time on, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.now = Math.max(this.now, due.at);
      due.run();
      await settle();
    }
    this.now = end;
    await settle();
  }
}

/** Lets pending promise chains run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

function waiter(time: FakeTime, ms: number, signal: AbortSignal, wakers: Set<() => void>) {
  return new Promise<void>((resolve) => {
    const done = () => {
      cancel();
      wakers.delete(done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const cancel = time.timer.schedule(ms, done);
    wakers.add(done);
    signal.addEventListener('abort', done, { once: true });
  });
}

export function record(id: string, body: string, arrivedAt = 0): SourceRecord {
  let parsed: unknown = body;
  try {
    parsed = JSON.parse(body);
  } catch {}
  const r = { messageId: id, body };
  return { id, record: r, filterView: { ...r, body: parsed }, arrivedAt };
}

export class MemoryQueue implements QueueSource {
  readonly kind = 'queue';
  readonly visible: SourceRecord[] = [];
  readonly leased = new Set<SourceRecord>();
  readonly removed: string[] = [];
  readonly #wakers = new Set<() => void>();
  receives = 0;
  /** Receives under way, and the most at once. */
  receiving = 0;
  maxReceiving = 0;

  constructor(readonly time: FakeTime) {}

  push(...records: SourceRecord[]): void {
    this.visible.push(...records);
    for (const w of [...this.#wakers]) w();
  }

  async receive(max: number, waitMs: number, signal: AbortSignal): Promise<SourceRecord[]> {
    this.receives++;
    this.receiving++;
    this.maxReceiving = Math.max(this.maxReceiving, this.receiving);
    // A receive takes a turn, as a claim in a store does, so receives may overlap.
    await new Promise<void>((r) => setImmediate(r));
    if (this.visible.length === 0 && !signal.aborted) {
      await waiter(this.time, waitMs, signal, this.#wakers);
    }
    this.receiving--;
    const got = this.visible.splice(0, Math.min(max, 10));
    for (const r of got) this.leased.add(r);
    return got;
  }

  async remove(records: readonly SourceRecord[]): Promise<void> {
    for (const r of records) {
      this.leased.delete(r);
      this.removed.push(r.id);
    }
  }
}

export class MemoryStream implements StreamSource {
  readonly kind = 'stream';
  readonly shardRecords = new Map<string, SourceRecord[]>();
  readonly checkpoints = new Map<string, string>();
  readonly #wakers = new Set<() => void>();

  constructor(readonly time: FakeTime) {}

  put(shard: string, ...records: SourceRecord[]): void {
    const list = this.shardRecords.get(shard) ?? [];
    list.push(...records);
    this.shardRecords.set(shard, list);
    for (const w of [...this.#wakers]) w();
  }

  async shards(): Promise<string[]> {
    return [...this.shardRecords.keys()];
  }

  async checkpoint(shard: string): Promise<string | undefined> {
    return this.checkpoints.get(shard);
  }

  async read(
    shard: string,
    after: string | undefined,
    max: number,
    waitMs: number,
    signal: AbortSignal,
  ) {
    const next = () => {
      const list = this.shardRecords.get(shard) ?? [];
      const from = after === undefined ? 0 : list.findIndex((r) => r.id === after) + 1;
      return list.slice(from, from + max);
    };
    if (next().length === 0 && !signal.aborted) {
      await waiter(this.time, waitMs, signal, this.#wakers);
    }
    return next();
  }

  async commit(shard: string, upTo: string): Promise<void> {
    this.checkpoints.set(shard, upTo);
  }
}

export function mapping(overrides: Partial<Mapping> = {}): Mapping {
  return {
    ...sqsDefaults,
    uuid: 'm-1',
    functionName: 'svc-dev-worker',
    sourceArn: 'arn:aws:sqs:us-east-1:000000000000:q',
    origin: 'api',
    lastModified: 0,
    ...overrides,
  };
}

/** A function under test: records every batch, answers with what `answer` says. */
export class FakeFunction {
  readonly batches: string[][] = [];
  running = 0;
  maxRunning = 0;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  constructor(
    public answer: (
      ids: string[],
    ) => { ok: true; payload: string } | { ok: false; reason: string } = () => ({
      ok: true,
      payload: 'null',
    }),
  ) {}

  /** Holds every invocation until release(). */
  hold(): void {
    this.#gate = new Promise((r) => {
      this.#open = r;
    });
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  readonly invoke = async (_target: unknown, payload: string) => {
    const ids = (JSON.parse(payload) as { Records: { messageId: string }[] }).Records.map(
      (r) => r.messageId,
    );
    this.batches.push(ids);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      if (this.#gate) await this.#gate;
      return this.answer(ids);
    } finally {
      this.running--;
    }
  };
}
