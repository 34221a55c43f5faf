import { type Kysely, sql } from 'kysely';
import type { Clock } from '../../../model/clock.js';
import type { Database } from '../../../store/schema.js';
import { bucketOf, quantileMs } from './duration-buckets.js';
import type { FunctionLabels, InvocationFacts, Metrics } from './metrics-port.js';

interface Minute {
  invocations: number;
  errors: number;
  throttles: number;
  coldStarts: number;
  mbMs: number;
  durations: Map<number, number>;
}

export interface FunctionUsage {
  functionName: string;
  invocations: number;
  errors: number;
  throttles: number;
  coldStarts: number;
  /** Memory size (GB) times billed duration (s), summed. */
  gbSeconds: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

const minuteMs = 60_000;

/**
 * Per-minute rollups of every invocation, kept in the Store for `nimbus metrics`. Counted in
 * memory on the request path and added to the rows by flush() (a periodic task, and before a
 * read so a run's own invocations are in its answer); prune() drops minutes past retention.
 */
export class RollupRecorder implements Metrics {
  readonly #db: Kysely<Database>;
  readonly #clock: Clock;
  #pending = new Map<string, Minute>();

  constructor(deps: { db: Kysely<Database>; clock: Clock }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
  }

  invoked(fn: FunctionLabels, result: InvocationFacts): void {
    const m = this.#minute(fn.functionName);
    m.invocations++;
    if (result.errorType !== undefined) m.errors++;
    if (result.initDurationMs !== undefined) m.coldStarts++;
    // Billed as the REPORT line says: the duration rounded up to the ms, at least 1 ms.
    m.mbMs += fn.memorySize * Math.max(1, Math.ceil(result.durationMs));
    const b = bucketOf(result.durationMs);
    m.durations.set(b, (m.durations.get(b) ?? 0) + 1);
  }

  throttled(fn: string): void {
    this.#minute(fn).throttles++;
  }

  asyncRetried(): void {}
  deadLettered(): void {}

  async flush(): Promise<void> {
    const pending = this.#pending;
    if (pending.size === 0) return;
    this.#pending = new Map();
    await this.#db.transaction().execute(async (tx) => {
      for (const [key, m] of pending) {
        const [functionName, minuteText] = key.split('\u0000') as [string, string];
        const minute = Number(minuteText);
        await tx
          .insertInto('metric_rollups')
          .values({
            function_name: functionName,
            minute,
            invocations: m.invocations,
            errors: m.errors,
            throttles: m.throttles,
            cold_starts: m.coldStarts,
            mb_ms: m.mbMs,
          })
          .onConflict((oc) =>
            oc.columns(['function_name', 'minute']).doUpdateSet({
              invocations: sql`metric_rollups.invocations + excluded.invocations`,
              errors: sql`metric_rollups.errors + excluded.errors`,
              throttles: sql`metric_rollups.throttles + excluded.throttles`,
              cold_starts: sql`metric_rollups.cold_starts + excluded.cold_starts`,
              mb_ms: sql`metric_rollups.mb_ms + excluded.mb_ms`,
            }),
          )
          .execute();
        for (const [bucket, count] of m.durations) {
          await tx
            .insertInto('metric_rollup_durations')
            .values({ function_name: functionName, minute, bucket, count })
            .onConflict((oc) =>
              oc
                .columns(['function_name', 'minute', 'bucket'])
                .doUpdateSet({ count: sql`metric_rollup_durations.count + excluded.count` }),
            )
            .execute();
        }
      }
    });
  }

  /** Drops minutes older than `retentionMs`. */
  async prune(retentionMs: number): Promise<void> {
    const cutoff = this.#clock.now() - retentionMs;
    await this.#db.deleteFrom('metric_rollup_durations').where('minute', '<', cutoff).execute();
    await this.#db.deleteFrom('metric_rollups').where('minute', '<', cutoff).execute();
  }

  /** Usage per function over [startMs, endMs), whole minutes; only the named functions. */
  async query(functionNames: string[], startMs: number, endMs: number): Promise<FunctionUsage[]> {
    await this.flush();
    if (functionNames.length === 0) return [];
    const from = Math.floor(startMs / minuteMs) * minuteMs;
    const rows = await this.#db
      .selectFrom('metric_rollups')
      .select([
        'function_name',
        (eb) => eb.fn.sum<string>('invocations').as('invocations'),
        (eb) => eb.fn.sum<string>('errors').as('errors'),
        (eb) => eb.fn.sum<string>('throttles').as('throttles'),
        (eb) => eb.fn.sum<string>('cold_starts').as('cold_starts'),
        (eb) => eb.fn.sum<string>('mb_ms').as('mb_ms'),
      ])
      .where('function_name', 'in', functionNames)
      .where('minute', '>=', from)
      .where('minute', '<', endMs)
      .groupBy('function_name')
      .execute();
    const buckets = await this.#db
      .selectFrom('metric_rollup_durations')
      .select(['function_name', 'bucket', (eb) => eb.fn.sum<string>('count').as('count')])
      .where('function_name', 'in', functionNames)
      .where('minute', '>=', from)
      .where('minute', '<', endMs)
      .groupBy(['function_name', 'bucket'])
      .execute();
    const dist = new Map<string, Map<number, number>>();
    for (const b of buckets) {
      const d = dist.get(b.function_name) ?? new Map<number, number>();
      d.set(Number(b.bucket), Number(b.count));
      dist.set(b.function_name, d);
    }
    const byName = new Map(rows.map((r) => [r.function_name, r]));
    return functionNames.map((name) => {
      const r = byName.get(name);
      const d = dist.get(name) ?? new Map<number, number>();
      const p = (q: number) => {
        const v = quantileMs(d, q);
        return v === undefined ? null : Math.round(v * 100) / 100;
      };
      return {
        functionName: name,
        invocations: Number(r?.invocations ?? 0),
        errors: Number(r?.errors ?? 0),
        throttles: Number(r?.throttles ?? 0),
        coldStarts: Number(r?.cold_starts ?? 0),
        gbSeconds: Number(r?.mb_ms ?? 0) / 1024 / 1000,
        p50Ms: p(0.5),
        p95Ms: p(0.95),
        p99Ms: p(0.99),
      };
    });
  }

  #minute(functionName: string): Minute {
    const minute = Math.floor(this.#clock.now() / minuteMs) * minuteMs;
    const key = `${functionName}\u0000${minute}`;
    let m = this.#pending.get(key);
    if (!m) {
      m = { invocations: 0, errors: 0, throttles: 0, coldStarts: 0, mbMs: 0, durations: new Map() };
      this.#pending.set(key, m);
    }
    return m;
  }
}
