// Cost that tracing ids and the protection check add to one warm gateway request, in process:
// ns per request for (a) the trace ids every request gets without an OTLP endpoint (incoming
// header parse, gateway span, run span, X-Ray header), (b) the protection lookup of a stage
// without custom.nimbus, (c) an admitted request under one in-memory rate limit.
// `npm run build` first, then `node bench/protection-tracing-overhead.mjs`. Single-threaded.
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
const time = (n, fn) => {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return Number(process.hrtime.bigint() - t) / n;
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
  const t = process.hrtime.bigint();
  for (let i = 0; i < m; i++) {
    await protection.run(target, { peer: `10.0.${(i >> 8) & 255}.${i & 255}` }, call);
  }
  return Number(process.hrtime.bigint() - t) / m;
};
await limited(20_000);
const limitedNs = Math.min(await limited(50_000), await limited(50_000), await limited(50_000));
console.log(
  JSON.stringify({
    traceIdsNewNs: newTraceNs.toFixed(0),
    traceIdsContinuedNs: continuedNs.toFixed(0),
    protectionLookupNs: lookupNs.toFixed(1),
    rateLimitedRequestNs: limitedNs.toFixed(0),
  }),
);
process.exit(0);
