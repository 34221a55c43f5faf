/**
 * Not a test: a quick measurement of the SQL WorkQueue end to end (enqueue, lease in batches,
 * ack), run by hand after a build (`node .build/queue/test/queue/measure-throughput.js [n]`).
 * Prints events/s on SQLite with the store's own settings (WAL; better-sqlite3 builds SQLite with
 * synchronous=NORMAL for WAL) and with synchronous=FULL (an fsync per commit), and on PostgreSQL
 * when NIMBUS_TEST_PG (or the default test URL) answers, and on NATS JetStream when the test
 * server answers (`NIMBUS_QUEUE_BENCH=nats` runs only that). A warm-up pass runs first: the first
 * thousands of calls mostly measure the JIT.
 */

import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Kysely, sql } from 'kysely';
import { systemClock } from '../../src/model/clock.js';
import { NatsWorkQueue } from '../../src/queue/nats-work-queue.js';
import { SqlWorkQueue } from '../../src/queue/sql-work-queue.js';
import type { WorkQueue } from '../../src/queue/work-queue.js';
import type { SqlFlavor } from '../../src/store/migrations/sql-flavor.js';
import { openPostgresDatabase } from '../../src/store/postgres.js';
import type { Database } from '../../src/store/schema.js';
import { openSqliteDatabase } from '../../src/store/sqlite.js';
import { connectTestNats, uniqueNatsPrefix } from '../helpers/nats.js';
import { makeTestSchema } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const n = Number(process.argv[2] ?? 5000);
const batch = 64;

/** Enqueue all, then drain: lease `batch` at a time, ack each. */
async function sequential(q: WorkQueue, keyed: boolean): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    await q.enqueue({
      queue: 'bench',
      payload: { i, body: 'x'.repeat(200) },
      ...(keyed ? { idempotencyKey: `k-${i}` } : {}),
    });
  }
  const enqueued = performance.now();
  let done = 0;
  while (done < n) {
    const jobs = await q.lease('bench', { max: batch, leaseMs: 60_000 });
    for (const job of jobs) await q.ack(job);
    done += jobs.length;
  }
  const end = performance.now();
  console.log(`    enqueue ${rate(n, enqueued - start)}/s, lease+ack ${rate(n, end - enqueued)}/s`);
  return rate(n, end - start);
}

/** Producers and one worker at once, as the gateway and the async worker would run. */
async function concurrent(q: WorkQueue): Promise<number> {
  const start = performance.now();
  const producers = 8;
  const produce = async (p: number) => {
    for (let i = p; i < n; i += producers) {
      await q.enqueue({ queue: 'bench', payload: { i, body: 'x'.repeat(200) } });
    }
  };
  let done = 0;
  const work = async () => {
    while (done < n) {
      const jobs = await q.lease('bench', { max: batch, leaseMs: 60_000 });
      await Promise.all(jobs.map((j) => q.ack(j)));
      done += jobs.length;
      if (jobs.length === 0) await new Promise((r) => setImmediate(r));
    }
  };
  await Promise.all([...Array.from({ length: producers }, (_, p) => produce(p)), work()]);
  return rate(n, performance.now() - start);
}

function rate(count: number, ms: number): number {
  return Math.round((count * 1000) / ms);
}

async function run(label: string, flavor: SqlFlavor, open: () => Promise<Kysely<Database>>) {
  for (const [name, fn] of [
    ['sequential', (q: WorkQueue) => sequential(q, false)],
    ['sequential, idempotency keys', (q: WorkQueue) => sequential(q, true)],
    ['8 producers + 1 worker', concurrent],
  ] as const) {
    const db = await open();
    try {
      console.log(`  ${label} / ${name}:`);
      const eps = await fn(new SqlWorkQueue(db, { flavor, clock: systemClock }));
      console.log(`    end to end ${eps} events/s (n=${n}, lease batch ${batch})`);
    } finally {
      await db.destroy();
    }
  }
}

const natsOnly = process.env.NIMBUS_QUEUE_BENCH === 'nats';
if (!natsOnly) await runSql();

/** The same scenarios on JetStream, streams of their own, deleted afterwards. */
try {
  const nc = await connectTestNats();
  try {
    console.log('NATS JetStream (one connection, file storage):');
    for (const [name, fn] of [
      ['warm-up', (q: WorkQueue) => sequential(q, true)],
      ['sequential', (q: WorkQueue) => sequential(q, false)],
      ['sequential, idempotency keys', (q: WorkQueue) => sequential(q, true)],
      ['8 producers + 1 worker', concurrent],
    ] as const) {
      const q = await NatsWorkQueue.open(nc, { clock: systemClock, prefix: uniqueNatsPrefix() });
      try {
        console.log(`  nats / ${name}:`);
        const eps = await fn(q);
        console.log(`    end to end ${eps} events/s (n=${n}, lease batch ${batch})`);
      } finally {
        await q.destroy();
      }
    }
  } finally {
    await nc.close();
  }
} catch (err) {
  console.log(`NATS skipped: ${(err as Error).message}`);
}

async function runSql(): Promise<void> {
  const tmp = await makeTempDir('nimbus-queue-bench-');
  try {
    let file = 0;
    const sqlite = (synchronous?: string) => async () => {
      const db = await openSqliteDatabase({ file: join(tmp.dir, `q${file++}.db`) });
      if (synchronous !== undefined)
        await sql.raw(`pragma synchronous = ${synchronous}`).execute(db);
      return db;
    };
    const probe = await sqlite()();
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(probe);
    await probe.destroy();
    const warm = await sqlite()();
    await sequential(new SqlWorkQueue(warm, { flavor: 'sqlite', clock: systemClock }), true);
    await warm.destroy();
    console.log(`SQLite (WAL, store default synchronous=${rows[0]?.synchronous}):`);
    await run('sqlite', 'sqlite', sqlite());
    console.log('SQLite (WAL, synchronous=FULL):');
    await run('sqlite FULL', 'sqlite', sqlite('FULL'));
  } finally {
    await tmp.cleanup();
  }

  try {
    const pg = await makeTestSchema();
    try {
      console.log('PostgreSQL (one pool, default pool size):');
      await run('postgres', 'postgres', () =>
        openPostgresDatabase({ url: pg.url, schema: pg.schema }),
      );
    } finally {
      await pg.drop();
    }
  } catch (err) {
    console.log(`PostgreSQL skipped: ${(err as Error).message}`);
  }
}
