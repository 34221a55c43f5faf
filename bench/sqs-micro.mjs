// The SQS path in-process, without HTTP, SigV4 or function processes: SendMessageBatch (the
// operation: checks, MD5 digests, the insert), then the event-source poller's side (receive a
// batch of 10, build the function's payload, delete the batch), on SQLite with the default
// synchronous=full (the WAL sync off the event loop). CPU per message from process.cpuUsage
// (all threads: the syncs' system time counts), SQL statements and WAL syncs per message.
// Steadier than the end-to-end scenario on a shared machine. `npm run build`, then
// `node bench/sqs-micro.mjs [messages] [rounds]`; `BENCH_NIMBUS_ROOT=<dir>` measures another
// build (A/B).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NIMBUS_ROOT } from './lib/systems.mjs';

const load = (path) => import(pathToFileURL(join(NIMBUS_ROOT, 'dist', 'src', path)).href);
const { openSqliteDatabase, walSyncStats } = await load('store/sqlite.js');
const { SqsStore } = await load('services/sqs/sqs-store.js');
const { QueueWaiters } = await load('services/sqs/queue-waiters.js');
const { sendMessageBatch } = await load('services/sqs/message-operations.js');
const { createQueue } = await load('services/sqs/queue-operations.js');
const { sqsEventSource } = await load('services/sqs/sqs-event-source.js');
const { recordsPayload } = await load('platform/event-sources/invoke-batch.js');

const [messages = 5000, rounds = 3] = process.argv
  .slice(2)
  .filter((a) => !a.startsWith('--'))
  .map(Number);
/** As the end-to-end scenario: 4 senders of 10-message batches, up to 5 pollers. */
const senders = 4;
const pollers = 5;

const dir = await mkdtemp(join(tmpdir(), 'nimbus-sqs-micro-'));
const db = await openSqliteDatabase({ file: join(dir, 'store.db') });
// Statements counted where better-sqlite3 runs them (begin, savepoints and commit included).
const { default: Sqlite } = await import(
  pathToFileURL(join(NIMBUS_ROOT, 'node_modules', 'better-sqlite3', 'lib', 'index.js')).href
);
let statements = 0;
// --by-statement: the CPU time (of the process) SQLite took per statement text, printed at the end.
const bySql = process.argv.includes('--by-statement') ? new Map() : undefined;
const probe = new Sqlite(':memory:');
const statementProto = Object.getPrototypeOf(probe.prepare('select 1'));
for (const name of ['run', 'all', 'get', 'iterate']) {
  const inner = statementProto[name];
  statementProto[name] = function counted(...args) {
    statements += 1;
    if (!bySql) return inner.apply(this, args);
    const c0 = process.cpuUsage();
    try {
      return inner.apply(this, args);
    } finally {
      const c = process.cpuUsage(c0);
      const entry = bySql.get(this.source) ?? { runs: 0, ms: 0 };
      entry.runs += 1;
      entry.ms += (c.user + c.system) / 1000;
      bySql.set(this.source, entry);
    }
  };
}
probe.close();
const store = new SqsStore(db, 'sqlite');
const waiters = new QueueWaiters();
const deps = { store, waiters, clock: { now: () => Date.now() }, region: 'us-east-1' };
const req = { headers: { host: 'localhost' } };
await createQueue({ deps, req, input: { QueueName: 'micro' } });
const queueUrl = 'http://localhost/000000000000/micro';
const source = sqsEventSource(
  deps,
  'micro',
  'arn:aws:sqs:us-east-1:000000000000:micro',
  'us-east-1',
);

async function send(count) {
  let next = 0;
  const one = async () => {
    while (next < count) {
      const from = next;
      next = Math.min(count, next + 10);
      const Entries = [];
      for (let i = from; i < next; i++)
        Entries.push({ Id: String(i - from), MessageBody: `m${i}` });
      const r = await sendMessageBatch({
        deps,
        req,
        input: { QueueUrl: queueUrl, Entries },
        queue: 'micro',
      });
      if (r.Failed.length > 0) throw new Error(JSON.stringify(r.Failed[0]));
    }
  };
  await Promise.all(Array.from({ length: senders }, one));
}

async function drain(count) {
  let done = 0;
  const signal = new AbortController().signal;
  const one = async () => {
    while (done < count) {
      const records = await source.receive(10, 0, signal);
      if (records.length === 0) continue;
      recordsPayload(records);
      await source.remove(records);
      done += records.length;
    }
  };
  await Promise.all(Array.from({ length: pollers }, one));
}

function measure(label, fn, count) {
  return async () => {
    const syncs0 = walSyncStats(db)?.syncs ?? 0;
    const statements0 = statements;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn(count);
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const syncs = (walSyncStats(db)?.syncs ?? 0) - syncs0;
    const perMessage = (statements - statements0) / count;
    return `${label} ${((c.user + c.system) / count).toFixed(1)} µs/msg (user ${(c.user / count).toFixed(1)}, sys ${(c.system / count).toFixed(1)}), ${perMessage.toFixed(2)} statements/msg, ${(syncs / count).toFixed(3)} syncs/msg, ${Math.round(count / (ms / 1000))} msg/s`;
  };
}

await send(500);
await drain(500);
for (let r = 0; r < rounds; r++) {
  const lines = [
    await measure('send ', send, messages)(),
    await measure('drain', drain, messages)(),
  ];
  process.stdout.write(`round ${r + 1}: ${lines.join(' | ')}\n`);
}
if (bySql) {
  for (const [text, e] of [...bySql].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
    process.stdout.write(
      `${e.ms.toFixed(0).padStart(6)} ms ${String(e.runs).padStart(6)} runs  ${text.slice(0, 150)}\n`,
    );
  }
}
waiters.stop();
await db.destroy();
await rm(dir, { recursive: true, force: true });
