// Warm path per-request cost, in process and small enough for a shared machine: one real Node
// instance behind the pool (fd 3 frames, START/END/REPORT lines into a no-op sink), no HTTP.
// `npm run build` first, then `node bench/warm-micro.mjs [distDir] [requests]`. Reports req/s and
// p50/p99 for sequential requests and 10 in flight, and how many instances were started.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const dist = resolve(process.argv[2] ?? new URL('../dist', import.meta.url).pathname);
const total = Number(process.argv[3] ?? 3000);
const { InstancePool } = await import(`${dist}/src/platform/pool/instance-pool.js`);
const { startInstance } = await import(`${dist}/src/platform/pool/instance.js`);

const root = mkdtempSync(join(tmpdir(), 'nimbus-warm-micro-'));
chmodSync(root, 0o755);
const code = join(root, 'code');
const tmp = join(root, 'tmp');
for (const d of [code, tmp]) {
  (await import('node:fs')).mkdirSync(d, { mode: 0o755 });
  chmodSync(d, 0o755);
}
writeFileSync(
  join(code, 'handler.js'),
  'exports.hello = async () => ({ statusCode: 200, body: "hello" });\n',
);
chmodSync(join(code, 'handler.js'), 0o644);
const runAsUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;

let starts = 0;
let lines = 0;
const pool = new InstancePool({
  clock: { now: () => Date.now() },
  idleTimeoutMs: 600_000,
  maxInstances: 20,
  factory: (target) => {
    starts++;
    return startInstance({
      target,
      instanceId: `m${starts}`,
      tmpRoot: tmp,
      onLog: (e) => {
        lines++;
        if (process.env.SHOW && !/^(START|END|REPORT)/.test(e.message))
          console.error(e.message.slice(0, 200));
      },
      ...(runAsUser ? { runAsUser } : {}),
    });
  },
});
const target = {
  functionName: 'svc-dev-hello',
  version: '1',
  runtime: 'nodejs20.x',
  runtimeFamily: 'nodejs',
  handler: 'handler.hello',
  memorySize: 256,
  timeout: 6,
  environment: {},
  region: 'us-east-1',
  codeDir: code,
};
const payload = JSON.stringify({
  rawPath: '/hello',
  requestContext: { http: { method: 'GET' } },
  headers: { host: 'x' },
});
let n = 0;
const one = async () => {
  const t = performance.now();
  const r = await pool.invoke(target, {
    requestId: `r${n++}`,
    payload,
    deadlineMs: Date.now() + 6000,
  });
  if (r.outcome.status !== 'ok') throw new Error(JSON.stringify(r.outcome));
  return performance.now() - t;
};
const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(q * (s.length - 1))];
};
async function phase(name, inFlight) {
  const times = [];
  const t0 = performance.now();
  const startsBefore = starts;
  let left = total;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (left-- > 0) times.push(await one());
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  return {
    phase: name,
    reqPerSec: Math.round(times.length / secs),
    p50: +pct(times, 0.5).toFixed(3),
    p99: +pct(times, 0.99).toFixed(3),
    starts: starts - startsBefore,
  };
}
for (let i = 0; i < 300; i++) await one(); // warm up: instance, JIT
await Promise.all(Array.from({ length: 10 }, () => one()));
const out = [await phase('sequential', 1), await phase('10 in flight', 10)];
console.log(
  JSON.stringify({ dist: process.argv[2] ? 'given' : 'worktree', logLines: lines, results: out }),
);
await pool.close();
rmSync(root, { recursive: true, force: true });
