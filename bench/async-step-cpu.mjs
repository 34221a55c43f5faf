// CPU per event of each step of the async path's SQL, one step at a time (no HTTP, no functions,
// no sharing of transactions): accept (job + record), the ready probe, lease (claim 2 + records
// Running), settle (ack + record Succeeded), each its own transaction through the group
// committer. CPU is the whole process's (process.cpuUsage: the WAL sync on the thread pool
// counts), so a step's figure includes its BEGIN/COMMIT; statement rows are inside it.
//   node bench/async-step-cpu.mjs [full|normal|pg] [events]
// full/normal: a fresh SQLite store in a temp dir (synchronous=FULL, the store's default, or
// NORMAL); pg: a fresh schema on BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test),
// dropped after. `npm run build` first; BENCH_NIMBUS_ROOT picks another build (A/B runs).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NIMBUS_ROOT as root } from './lib/systems.mjs';

const mode = process.argv[2] ?? 'full';
const N = Number(process.argv[3] ?? 1000);
const pg = mode === 'pg';
const { openDatabase } = await import(`${root}/dist/src/store/open-store.js`);
const { SqlWorkQueue } = await import(`${root}/dist/src/queue/sql-work-queue.js`);
const { InvocationRecords } = await import(`${root}/dist/src/platform/async/invocation-records.js`);
const { sql } = await import(`${root}/node_modules/kysely/dist/esm/index.js`);

const dir = mkdtempSync(join(tmpdir(), 'async-step-cpu-'));
const schema = `bench_steps_${process.pid}`;
const pgUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const db = await openDatabase(pg ? `${pgUrl}?schema=${schema}` : 'sqlite:', {
  dataDir: dir,
  ...(pg ? {} : { sqliteSynchronous: mode }),
});
const clock = { now: () => Date.now() };
const queue = new SqlWorkQueue(db, { flavor: pg ? 'postgres' : 'sqlite', clock });
const records = new InvocationRecords(db);
const fn = 'bench-dev-hello';

const cpu = {};
async function step(name, work) {
  const start = process.cpuUsage();
  const out = await work();
  const used = process.cpuUsage(start);
  cpu[name] = (cpu[name] ?? 0) + used.user + used.system;
  return out;
}

const load0 = loadavg()[0];
for (let i = 0; i < N; i++) {
  const job = {
    kind: 'invoke',
    requestId: `r${i}`,
    functionName: fn,
    version: '1',
    event: JSON.stringify({ bench: 'steps', i }),
    acceptedAt: clock.now(),
    maxRetryAttempts: 2,
    maxEventAgeMs: 21_600_000,
    service: 'bench',
    stage: 'dev',
  };
  await step('accept (job + record)', () =>
    queue.transaction(async (tx) => {
      const queued = await queue.within(tx).enqueue({
        queue: fn,
        payload: job,
        expiresAt: job.acceptedAt + job.maxEventAgeMs,
      });
      const now = clock.now();
      await records.within(tx).create({
        ...{ id: job.requestId, functionName: fn, version: '1', status: 'Enqueued' },
        ...{ jobId: queued.id, attempts: 0, createdAt: now, updatedAt: now },
      });
    }),
  );
}
for (let i = 0; i < N / 2; i++) {
  await step('ready probe', () => queue.queuesReady());
  const jobs = await step('lease (claim 2 + Running)', () =>
    queue.transaction(async (tx) => {
      const leased = await queue.within(tx).lease(fn, { max: 2, leaseMs: 60_000 });
      const runs = leased.map((j) => ({ id: j.payload.requestId, attempts: j.attempts }));
      await records.within(tx).start(runs, clock.now());
      return leased;
    }),
  );
  for (const job of jobs) {
    await step('settle (ack + Succeeded)', () =>
      queue.transaction(async (tx) => {
        await queue.within(tx).ack(job);
        await records.within(tx).update(job.payload.requestId, {
          status: 'Succeeded',
          attempts: job.attempts,
          result: '{"ok":true}',
          updatedAt: clock.now(),
        });
      }),
    );
  }
}
let total = 0;
for (const [name, us] of Object.entries(cpu)) {
  total += us / N;
  console.log(`${(us / N).toFixed(0).padStart(6)} µs CPU per event  ${name}`);
}
console.log(
  `${total.toFixed(0).padStart(6)} µs CPU per event  all steps (${mode}, ${N} events, load ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)}, ${root})`,
);
if (pg) await sql.raw(`drop schema "${schema}" cascade`).execute(db);
await db.destroy();
rmSync(dir, { recursive: true, force: true });
