// Cost of the metrics on the warm invoke path, in process: ns per invocation that PromMetrics
// adds at the invoker boundary (a warm ok, a cold start, an error), against the no-op port.
// `npm run build` first, then `node bench/metrics-overhead.mjs`. Single-threaded and short.
const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const { PromMetrics } = await import(`${root}/dist/src/platform/observe/metrics/prom-metrics.js`);
const { noMetrics } = await import(`${root}/dist/src/platform/observe/metrics/metrics-port.js`);
const fns = Array.from({ length: 20 }, (_, i) => ({
  functionName: `svc-dev-fn${i}`,
  version: '1',
}));
const warm = { durationMs: 3.2 };
const cold = { durationMs: 3.2, initDurationMs: 120 };
const failed = { durationMs: 3.2, errorType: 'TypeError' };
const run = (metrics, n) => {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const fn = fns[i % fns.length];
    metrics.invoked(fn, i % 100 === 0 ? cold : i % 50 === 0 ? failed : warm);
  }
  return Number(process.hrtime.bigint() - t) / n;
};
const prom = new PromMetrics({ instances: () => [], asyncQueues: async () => [] });
const n = 1_000_000;
run(prom, n);
run(noMetrics, n); // warm up the JIT
const best = (m) => Math.min(...Array.from({ length: 5 }, () => run(m, n)));
const promNs = best(prom);
const noopNs = best(noMetrics);
const scrapeStart = process.hrtime.bigint();
const text = await prom.render();
const scrapeMs = Number(process.hrtime.bigint() - scrapeStart) / 1e6;
console.log(
  JSON.stringify({
    invocationsPerRun: n,
    promNsPerInvocation: promNs.toFixed(1),
    noopNsPerInvocation: noopNs.toFixed(1),
    addedNsPerInvocation: (promNs - noopNs).toFixed(1),
    scrapeMs: scrapeMs.toFixed(2),
    scrapeBytes: text.length,
  }),
);
process.exit(0);
