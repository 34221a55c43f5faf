// The DynamoDB operations in-process, without HTTP or SigV4: CPU per GetItem, PutItem (16 at
// once, as the bench's calls in flight, so they share group commits) and Query (10 items), from
// process.cpuUsage over 4,000 calls after 1,000 of warm-up, on SQLite with synchronous=NORMAL.
// Steadier than the end-to-end scenario on a shared machine. `npm run build`, then
// `node bench/dynamodb-micro.mjs`; `BENCH_NIMBUS_ROOT=<dir>` measures another build (A/B).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_TABLE, benchItem, benchKey } from './lib/dynamodb-bench-table.mjs';
import { NIMBUS_ROOT } from './lib/systems.mjs';

const load = (path) => import(pathToFileURL(join(NIMBUS_ROOT, 'dist', 'src', path)).href);
const { openSqliteDatabase } = await load('store/sqlite.js');
const { DynamoStore } = await load('services/dynamodb/dynamodb-store.js');
const { createTable } = await load('services/dynamodb/table-operations.js');
const { putItem, getItem } = await load('services/dynamodb/item-operations.js');
const { query } = await load('services/dynamodb/query-scan.js');

const dir = await mkdtemp(join(tmpdir(), 'nimbus-ddb-micro-'));
const db = await openSqliteDatabase({ file: join(dir, 'store.db'), synchronous: 'normal' });
const deps = {
  store: new DynamoStore(db, 'sqlite'),
  clock: { now: () => Date.now() },
  region: 'us-east-1',
  accountId: '000000000000',
};
await createTable(deps, BENCH_TABLE);
for (let p = 0; p < 20; p++) {
  for (let s = 0; s < 20; s++) await putItem(deps, { TableName: 'bench', Item: benchItem(p, s) });
}

const calls = 4000;
const out = [];
async function time(label, fn, per = 1) {
  for (let i = 0; i < 1000; i++) await fn(i);
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) await fn(i);
  const c = process.cpuUsage(c0);
  out.push(`${label} ${((c.user + c.system) / (calls * per)).toFixed(1)} µs`);
}
await time('GetItem', (i) => getItem(deps, { TableName: 'bench', Key: benchKey(i % 20, i % 20) }));
await time(
  'PutItem',
  (i) =>
    Promise.all(
      Array.from({ length: 16 }, (_, j) =>
        putItem(deps, {
          TableName: 'bench',
          Item: benchItem(100 + ((i * 16 + j) % 50), i * 16 + j),
        }),
      ),
    ),
  16,
);
await time('Query', (i) =>
  query(deps, {
    TableName: 'bench',
    KeyConditionExpression: 'pk = :p AND sk BETWEEN :a AND :b',
    ExpressionAttributeValues: {
      ':p': { S: `user-${i % 20}` },
      ':a': { N: '5' },
      ':b': { N: '14' },
    },
  }),
);
const loadavg = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
process.stdout.write(`CPU per call: ${out.join(', ')} (load ${loadavg})\n`);
await db.destroy();
await rm(dir, { recursive: true, force: true });
