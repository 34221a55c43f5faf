import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';

const require = createRequire(import.meta.url);

type DefaultMetric = (registry: Registry, config: object) => void;

/**
 * prom-client's default process metrics (CPU, memory, heap, handles, GC, ...) with the standard
 * names, except its event-loop delay family. That one keeps a `monitorEventLoopDelay` histogram
 * sampling every 10 ms, which wakes an idle platform 100 times a second (about 4 ms of CPU a
 * second on the 2-core development machine), and computes its standard deviation and mean at
 * each scrape by walking the whole histogram (0.3-0.55 ms of a 1.5 ms render). prom-client has
 * no switch for one default metric, so the others are registered one by one from its own
 * modules, named by its exported list (docs/metrics.md, docs/performance.md).
 */
export function registerProcessMetrics(registry: Registry): void {
  for (const name of collectDefaultMetrics.metricsList) {
    if (name === 'eventLoopLag') continue;
    const register = require(`prom-client/lib/metrics/${name}`) as DefaultMetric;
    register(registry, {});
  }
  registerEventLoopGauges(registry);
}

/**
 * The event loop as a scrape sees it, without a sampler running in between:
 * `nodejs_eventloop_lag_seconds` (prom-client's name and meaning: how long a callback queued at
 * scrape time waits for its turn) and `nodejs_eventloop_utilization` (the share of the time since
 * the previous scrape the loop spent running rather than waiting, which libuv tracks anyway).
 */
function registerEventLoopGauges(registry: Registry): void {
  const registers = [registry];
  new Gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Lag of event loop in seconds.',
    registers,
    async collect() {
      const start = process.hrtime.bigint();
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.set(Number(process.hrtime.bigint() - start) / 1e9);
    },
  });
  let last = performance.eventLoopUtilization();
  new Gauge({
    name: 'nodejs_eventloop_utilization',
    help: 'Share of the time since the previous scrape the event loop was busy (0 to 1).',
    registers,
    collect() {
      const now = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(now, last).utilization);
      last = now;
    },
  });
}
