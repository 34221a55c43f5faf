import { Gauge, type Metric, Counter as PromCounter, Registry } from 'prom-client';
import type { FunctionLabels, InvocationFacts, Metrics } from './metrics-port.js';
import { registerProcessMetrics } from './process-metrics.js';
import { histogramSamples, type RenderedSample, VersionSeries } from './version-series.js';

/** Instances of one function version, by state, as the pool counts them. */
export interface VersionInstances {
  functionName: string;
  version: string;
  idle: number;
  busy: number;
  starting: number;
  provisioned: number;
}

/** One async queue (one per function) as a scrape sees it. */
export interface AsyncQueueGauge {
  functionName: string;
  /** Events waiting or running (not dead letters). */
  depth: number;
  /** Age of the oldest of them, seconds; 0 when there is none. */
  oldestAgeSeconds: number;
}

export interface PromMetricsDeps {
  /** Read at scrape time, so the request path pays nothing for the gauges. */
  instances: () => VersionInstances[];
  asyncQueues: () => Promise<AsyncQueueGauge[]>;
  /** Circuit breakers of `custom.nimbus` (docs/protection.md); none when absent. */
  breakers?: () => { functionName: string; state: 'closed' | 'open' | 'half-open' }[];
  /** Event source mappings' lag (IteratorAge); none when absent. */
  iteratorAges?: () => { uuid: string; functionName: string; ageMs: number }[];
  /** Disk used by blobs and logs, measured at scrape time (cached by the reader). */
  diskUsage?: () => Promise<{ what: string; bytes: number }[]>;
}

/** Seconds; from a 1 ms cold path to Lambda's 15 minute ceiling. */
const durationBuckets = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
];

/**
 * The Metrics port over prom-client, with a registry of its own (never the library's global
 * one), rendered by GET /metrics in the Prometheus text format. What every invocation touches
 * is kept in plain accumulators per function version (version-series.ts) and read at scrape
 * time, so a warm invocation costs a map lookup and a few additions.
 */
export class PromMetrics implements Metrics {
  readonly registry = new Registry();
  readonly #errors: PromCounter<'function' | 'version' | 'type'>;
  readonly #throttles: PromCounter<'function' | 'reason'>;
  readonly #retries: PromCounter<'function'>;
  readonly #deadLetters: PromCounter<'function'>;
  readonly #series = new Map<string, VersionSeries>();
  /**
   * The invoker passes the same labels object for every call of a version (its targets are
   * built once), so the series is found by identity, without building the string key per call.
   */
  readonly #byLabels = new WeakMap<FunctionLabels, VersionSeries>();

  constructor(deps: PromMetricsDeps) {
    const registers = [this.registry];
    registerProcessMetrics(this.registry);
    this.#errors = new PromCounter({
      name: 'nimbus_errors_total',
      help: 'Invocations that failed, by error type (handler error, Sandbox.Timedout, ...).',
      labelNames: ['function', 'version', 'type'],
      registers,
    });
    this.#throttles = new PromCounter({
      name: 'nimbus_throttles_total',
      help: 'Requests refused for concurrency (429 TooManyRequestsException), by reason.',
      labelNames: ['function', 'reason'],
      registers,
    });
    const series = this.#series;
    const family = (
      name: string,
      help: string,
      type: 'counter' | 'histogram',
      samples: (s: VersionSeries) => RenderedSample[],
    ) => {
      // prom-client's registry renders any object with a name and get(); these read the
      // accumulators at scrape time.
      this.registry.registerMetric({
        name,
        help,
        type,
        get: () => ({
          name,
          help,
          type,
          values: [...series.values()].flatMap(samples),
          aggregator: 'sum',
        }),
      } as unknown as Metric);
    };
    family(
      'nimbus_invocations_total',
      'Invocations run, by function and version.',
      'counter',
      (s) => [{ labels: s.labels, value: s.invocations }],
    );
    family('nimbus_cold_starts_total', 'Invocations that started an instance.', 'counter', (s) => [
      { labels: s.labels, value: s.coldStarts },
    ]);
    family('nimbus_duration_seconds', 'Time the handler ran, per invocation.', 'histogram', (s) =>
      histogramSamples('nimbus_duration_seconds', s.labels, s.duration),
    );
    family(
      'nimbus_init_duration_seconds',
      'Init (cold start) time of the invocations that started an instance.',
      'histogram',
      (s) => histogramSamples('nimbus_init_duration_seconds', s.labels, s.initDuration),
    );
    this.#retries = new PromCounter({
      name: 'nimbus_async_retries_total',
      help: 'Async events scheduled to run again after a failure.',
      labelNames: ['function'],
      registers,
    });
    this.#deadLetters = new PromCounter({
      name: 'nimbus_dead_letters_total',
      help: 'Async events given up on and kept as dead letters.',
      labelNames: ['function'],
      registers,
    });
    new Gauge({
      name: 'nimbus_instances',
      help: 'Function instances by state (idle, busy, starting; provisioned counts the kept ones).',
      labelNames: ['function', 'version', 'state'],
      registers,
      collect() {
        this.reset();
        for (const v of deps.instances()) {
          const labels = { function: v.functionName, version: v.version };
          this.set({ ...labels, state: 'idle' }, v.idle);
          this.set({ ...labels, state: 'busy' }, v.busy);
          this.set({ ...labels, state: 'starting' }, v.starting);
          this.set({ ...labels, state: 'provisioned' }, v.provisioned);
        }
      },
    });
    // One query at scrape time fills both queue gauges.
    let pending: Promise<AsyncQueueGauge[]> | undefined;
    const queues = () => {
      pending ??= deps.asyncQueues().finally(() => {
        pending = undefined;
      });
      return pending;
    };
    const breakers = deps.breakers;
    if (breakers) {
      new Gauge({
        name: 'nimbus_breaker_open',
        help: 'Circuit breaker state per function: 0 closed, 1 open, 0.5 half-open.',
        labelNames: ['function'],
        registers,
        collect() {
          this.reset();
          for (const b of breakers()) {
            const value = b.state === 'open' ? 1 : b.state === 'half-open' ? 0.5 : 0;
            this.set({ function: b.functionName }, value);
          }
        },
      });
    }
    const ages = deps.iteratorAges;
    if (ages) {
      new Gauge({
        name: 'nimbus_event_source_iterator_age_seconds',
        help: 'Per event source mapping: age of the oldest record of the last batch handed to its function.',
        labelNames: ['mapping', 'function'],
        registers,
        collect() {
          this.reset();
          for (const a of ages()) {
            this.set({ mapping: a.uuid, function: a.functionName }, a.ageMs / 1000);
          }
        },
      });
    }
    const disk = deps.diskUsage;
    if (disk) {
      new Gauge({
        name: 'nimbus_disk_bytes',
        help: 'Bytes used by code artifacts (blobs, and their local cache in cluster mode) and log lines.',
        labelNames: ['what'],
        registers,
        async collect() {
          this.reset();
          for (const d of await disk()) this.set({ what: d.what }, d.bytes);
        },
      });
    }
    new Gauge({
      name: 'nimbus_async_queue_depth',
      help: 'Async events waiting or running, per function.',
      labelNames: ['function'],
      registers,
      async collect() {
        this.reset();
        for (const q of await queues()) this.set({ function: q.functionName }, q.depth);
      },
    });
    new Gauge({
      name: 'nimbus_async_oldest_age_seconds',
      help: 'Age of the oldest async event waiting or running, per function.',
      labelNames: ['function'],
      registers,
      async collect() {
        this.reset();
        for (const q of await queues()) this.set({ function: q.functionName }, q.oldestAgeSeconds);
      },
    });
  }

  invoked(fn: FunctionLabels, result: InvocationFacts): void {
    const s = this.#seriesOf(fn);
    s.invocations++;
    s.duration.observe(result.durationMs / 1000);
    if (result.initDurationMs !== undefined) {
      s.coldStarts++;
      s.initDuration.observe(result.initDurationMs / 1000);
    }
    if (result.errorType !== undefined) {
      this.#errors.inc({ function: fn.functionName, version: fn.version, type: result.errorType });
    }
  }

  throttled(fn: string, reason: string): void {
    this.#throttles.inc({ function: fn, reason });
  }

  asyncRetried(fn: string): void {
    this.#retries.inc({ function: fn });
  }

  deadLettered(fn: string): void {
    this.#deadLetters.inc({ function: fn });
  }

  /** The Prometheus text exposition of everything registered. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  #seriesOf(fn: FunctionLabels): VersionSeries {
    const known = this.#byLabels.get(fn);
    if (known) return known;
    const key = `${fn.functionName}\u0000${fn.version}`;
    let s = this.#series.get(key);
    if (!s) {
      s = new VersionSeries({ function: fn.functionName, version: fn.version }, durationBuckets);
      this.#series.set(key, s);
    }
    this.#byLabels.set(fn, s);
    return s;
  }
}
