// The async path's SQL on SQLite, without HTTP or functions: 8 callers accept (job + record, one
// group-committed transaction each), a consumer leases up to 8 at a time (records Running) and
// settles each (ack + record Succeeded). Reports rate, event-loop busy share, CPU per event,
// commits and WAL syncs per event.
//   node bench/sqlite-async-commits.mjs [full|normal|sqlite-full] [events]
// full: the store's default (NORMAL + our WAL sync off the event loop); normal: no sync;
// sqlite-full: SQLite syncing inside each commit on the event loop, one batch at a time (the
// behaviour before issue 10's task F), for A/B runs. `npm run build` first; BENCH_NIMBUS_ROOT
// picks another build.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { NIMBUS_ROOT as root } from './lib/systems.mjs';

const mode = process.argv[2] ?? 'full';
const N = Number(process.argv[3] ?? 3000);
const { openSqliteDatabase, walSyncStats } = await import(`${root}/dist/src/store/sqlite.js`);
const { groupCommitter } = await import(`${root}/dist/src/store/group-commit.js`);
const { SqlWorkQueue } = await import(`${root}/dist/src/queue/sql-work-queue.js`);
const { InvocationRecords } = await import(`${root}/dist/src/platform/async/invocation-records.js`);
const { sql } = await import(`${root}/node_modules/kysely/dist/esm/index.js`);
const dir = mkdtempSync(join(tmpdir(), 'nimbus-commits-'));
const file = join(dir, 'nimbus.db');
const db = await openSqliteDatabase({ file, synchronous: mode === 'full' ? 'full' : 'normal' });
if (mode === 'sqlite-full') {
  await sql`pragma synchronous = FULL`.execute(db);
  groupCommitter(db, { parallel: 1 });
}
const clock = { now: () => Date.now() };
const queue = new SqlWorkQueue(db, { flavor: 'sqlite', clock });
const records = new InvocationRecords(db);
const gc = groupCommitter(db);
let accepted = 0,
  completed = 0;
const lat = [];
const elu0 = performance.eventLoopUtilization();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
async function sender() {
  while (accepted < N) {
    accepted++;
    const s = performance.now();
    const requestId = randomUUID();
    const now = clock.now();
    await queue.transaction(async (tx) => {
      const q = await queue.within(tx).enqueue({
        queue: 'fn',
        payload: { kind: 'invoke', requestId, event: '{"i":1}' },
        expiresAt: now + 3600_000,
      });
      await records.within(tx).create({
        id: requestId,
        functionName: 'fn',
        version: '1',
        status: 'Enqueued',
        jobId: q.id,
        attempts: 0,
        createdAt: now,
        updatedAt: now,
      });
    });
    lat.push(performance.now() - s);
  }
}
async function consumer() {
  let inflight = 0;
  let freed = () => {};
  while (completed < N) {
    if (inflight >= 8) {
      await new Promise((r) => {
        freed = r;
      });
      continue;
    }
    const jobs = await queue.transaction(async (tx) => {
      const jobs = await queue.within(tx).lease('fn', { max: 8 - inflight, leaseMs: 30000 });
      if (jobs.length)
        await records.within(tx).start(
          jobs.map((j) => ({ id: j.payload.requestId, attempts: j.attempts, job: j })),
          clock.now(),
        );
      return jobs;
    });
    if (jobs.length === 0) {
      await new Promise((r) => setTimeout(r, 1));
      continue;
    }
    for (const job of jobs) {
      inflight++;
      setImmediate(() =>
        queue
          .transaction(async (tx) => {
            await queue.within(tx).ack(job);
            await records.within(tx).update(job.payload.requestId, {
              status: 'Succeeded',
              attempts: job.attempts,
              result: '{}',
              updatedAt: clock.now(),
            });
          })
          .then(() => {
            inflight--;
            completed++;
            freed();
          }),
      );
    }
  }
}
await Promise.all([...Array.from({ length: 8 }, sender), consumer()]);
const ms = performance.now() - t0;
const elu = performance.eventLoopUtilization(elu0);
const cpu = process.cpuUsage(cpu0);
lat.sort((a, b) => a - b);
console.log(
  `${mode} (load ${loadavg()[0].toFixed(1)}): ${N} events, ${((N / ms) * 1000).toFixed(0)} completed/s, accept p50 ${lat[lat.length >> 1].toFixed(1)} ms p99 ${lat[Math.floor(lat.length * 0.99)].toFixed(1)} ms, loop busy ${(elu.utilization * 100).toFixed(0)}%, CPU ${((cpu.user + cpu.system) / N).toFixed(0)} µs/event, commits ${gc.stats.commits} (${(gc.stats.commits / N).toFixed(2)}/event, ${(gc.stats.units / gc.stats.commits).toFixed(1)} units each), WAL syncs ${JSON.stringify(walSyncStats(db) ?? null)}`,
);
await db.destroy();
rmSync(dir, { recursive: true, force: true });
