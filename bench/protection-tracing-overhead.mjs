// Cost that tracing ids and the protection check add to one warm gateway request, in process:
// ns per request for (a) the trace ids every request gets without an OTLP endpoint (incoming
// header parse, gateway span, run span, X-Ray header), (b) the protection lookup of a stage
// without custom.nimbus, (c) an admitted request under one in-memory rate limit, (d) an admitted
// request under the bench's operate settings (a limit for everyone, a breaker, a fallback), less
// the same call made without protection.
// `npm run build` first, then `node bench/protection-tracing-overhead.mjs`. Single-threaded.
// Times are this process's CPU time (user + system), not wall time: on a shared machine a
// descheduled loop would otherwise count the other processes' work.
const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const { idOnlyTracing } = await import(`${root}/dist/src/platform/observe/tracing/tracing.js`);
const { incomingTrace, toXRay } = await import(
  `${root}/dist/src/platform/observe/tracing/trace-context.js`
);
const { Protection } = await import(`${root}/dist/src/platform/protection/protection.js`);
const { memoryCounters } = await import(`${root}/dist/src/platform/protection/counters.js`);
const { trustedProxies } = await import(`${root}/dist/src/platform/protection/callers.js`);
const pino = (await import('pino')).default;

const tracing = idOnlyTracing();
const traceOnce = (header) => {
  const gateway = tracing.start('GET /x', incomingTrace(header, undefined), { kind: 'server' });
  const run = tracing.start('invoke fn', gateway.context);
  const x = toXRay(run.context);
  run.end();
  gateway.end();
  return x;
};
/** CPU ns since `from` (a process.cpuUsage() reading), per `n` operations. */
const cpuNs = (from, n) => {
  const used = process.cpuUsage(from);
  return ((used.user + used.system) * 1000) / n;
};
const time = (n, fn) => {
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  return cpuNs(t, n);
};
const best = (n, fn) => Math.min(...Array.from({ length: 5 }, () => time(n, fn)));

const protection = new Protection({
  counters: memoryCounters,
  proxies: trustedProxies(''),
  logger: pino({ level: 'silent' }),
});
const definition = {
  service: 'svc',
  stage: 'dev',
  functions: { fn: { key: 'fn', name: 'svc-dev-fn' } },
  custom: { nimbus: { rateLimits: [{ function: 'fn', per: 'ip', rate: 1_000_000_000 }] } },
};
protection.setStage('svc', 'dev', definition);
const target = { service: 'svc', stage: 'dev', functionKey: 'fn', functionName: 'svc-dev-fn' };
const call = {
  invoke: async () => ({ statusCode: 200 }),
  staticAnswer: () => ({ statusCode: 200 }),
  failed: () => false,
  throttled: () => false,
};
const n = 200_000;
time(n, () => traceOnce(undefined));
const newTraceNs = best(n, () => traceOnce(undefined));
const continuedNs = best(n, () =>
  traceOnce('00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01'),
);
const lookupNs = best(n, () => protection.protects('other-dev-fn'));
const limited = async (m) => {
  const t = process.cpuUsage();
  for (let i = 0; i < m; i++) {
    await protection.run(target, { peer: `10.0.${(i >> 8) & 255}.${i & 255}` }, call);
  }
  return cpuNs(t, m);
};
await limited(20_000);
const limitedNs = Math.min(await limited(50_000), await limited(50_000), await limited(50_000));

// (d) The operate scenario's settings (bench/lib/operate.mjs) on a stage of its own.
protection.setStage('ops', 'dev', {
  service: 'ops',
  stage: 'dev',
  functions: { hello: { key: 'hello', name: 'ops-dev-hello' } },
  custom: {
    nimbus: {
      rateLimits: [{ function: 'hello', per: 'all', rate: 1_000_000_000 }],
      breakers: { hello: { errorRate: 50, minimumRequests: 10, window: '30s', cooldown: '10s' } },
      fallbacks: { hello: { statusCode: 503, body: '{}' } },
    },
  },
});
const hello = { service: 'ops', stage: 'dev', functionKey: 'hello', functionName: 'ops-dev-hello' };
const facts = { peer: '127.0.0.1' };
const loop = async (m, one) => {
  const t = process.cpuUsage();
  for (let i = 0; i < m; i++) await one();
  return cpuNs(t, m);
};
const guarded = () => protection.run(hello, facts, call);
const bare = () => call.invoke('ops-dev-hello');
await loop(20_000, guarded);
await loop(20_000, bare);
let guardedBest = Number.POSITIVE_INFINITY;
let bareBest = Number.POSITIVE_INFINITY;
// Interleaved, best of each: what is left of the noise hits both alike.
for (let i = 0; i < 7; i++) {
  guardedBest = Math.min(guardedBest, await loop(100_000, guarded));
  bareBest = Math.min(bareBest, await loop(100_000, bare));
}
console.log(
  JSON.stringify({
    traceIdsNewNs: newTraceNs.toFixed(0),
    traceIdsContinuedNs: continuedNs.toFixed(0),
    protectionLookupNs: lookupNs.toFixed(1),
    rateLimitedRequestNs: limitedNs.toFixed(0),
    operateGuardNs: (guardedBest - bareBest).toFixed(0),
    operateBareCallNs: bareBest.toFixed(0),
  }),
);
process.exit(0);
