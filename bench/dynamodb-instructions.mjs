// Instructions per DynamoDB call in the server, counted by valgrind's callgrind: steadier than
// CPU time on a shared, loaded machine, though what the event loop does by the clock is counted
// too (two runs of one build differed by up to 25%: run each build twice). `npm run build`, then
// `node bench/dynamodb-instructions.mjs [calls per operation]` (default 300; about ten minutes:
// the server runs some fifty times slower under valgrind); `BENCH_NIMBUS_ROOT=<dir>` counts
// another build (A/B). The server (SQLite, synchronous=NORMAL) gets a table, 400 items and, per
// operation, as many warm-up calls as measured ones; the counters are dumped around the measured
// calls. "main" is the event loop's thread (the request path); "all" adds V8's and SQLite's
// helper threads (concurrent GC and compilation, the checkpoint worker), which vary more.
import { execFileSync, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_TABLE, benchItem, benchKey } from './lib/dynamodb-bench-table.mjs';
import { leanDynamoClient } from './lib/dynamodb-lean-client.mjs';
import { NIMBUS_BIN, NIMBUS_ROOT } from './lib/systems.mjs';

const calls = Number(process.argv[2] ?? 300);
const work = await mkdtemp(join(tmpdir(), 'nimbus-ddb-instr-'));
const logFile = join(work, 'server.log');
const out = join(work, 'callgrind.out');
const child = spawn(
  'valgrind',
  [
    '--tool=callgrind',
    `--callgrind-out-file=${out}`,
    process.execPath,
    NIMBUS_BIN,
    'server',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--data-dir',
    join(work, 'data'),
    '--sqlite-synchronous',
    'normal',
  ],
  { cwd: NIMBUS_ROOT, stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')] },
);
try {
  let url;
  for (let i = 0; i < 600 && !url; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    url = /listening on (http:\/\/\S+)/.exec(await readFile(logFile, 'utf8'))?.[1];
  }
  if (!url) throw new Error(`the server did not start:\n${await readFile(logFile, 'utf8')}`);
  const token = (await readFile(join(work, 'data', 'admin-token'), 'utf8')).trim();
  const res = await fetch(`${url}/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ description: 'instructions' }),
  });
  const { key } = await res.json();
  const lean = leanDynamoClient(
    url,
    { accessKeyId: key.id, secretAccessKey: key.secret },
    { sockets: 4 },
  );
  await lean.send('CreateTable', BENCH_TABLE);
  for (let p = 0; p < 20; p++) {
    for (let s = 0; s < 20; s++)
      await lean.send('PutItem', { TableName: 'bench', Item: benchItem(p, s) });
  }
  // The same inputs as the dynamodb scenario (lib/dynamodb.mjs), on 20 partitions.
  const operations = {
    PutItem: (i) => ({ TableName: 'bench', Item: benchItem(1000 + (i % 5000), i) }),
    GetItem: (i) => ({ TableName: 'bench', Key: benchKey(i % 20, i % 20) }),
    Query: (i) => ({
      TableName: 'bench',
      KeyConditionExpression: 'pk = :p AND sk BETWEEN :a AND :b',
      ExpressionAttributeValues: {
        ':p': { S: `user-${i % 20}` },
        ':a': { N: '5' },
        ':b': { N: '14' },
      },
    }),
  };
  const pool = async (n, fn) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < n) await fn(next++);
      }),
    );
  };
  let dumps = 0;
  const dump = async () => {
    execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
    dumps += 1;
    // callgrind numbers its dumps: callgrind.out.1, .2, ...
    for (let i = 0; i < 100; i++) {
      if ((await readdir(work)).includes(`callgrind.out.${dumps}`)) return `${out}.${dumps}`;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no callgrind dump');
  };
  const lines = [];
  for (const [op, input] of Object.entries(operations)) {
    await pool(calls, (i) => lean.send(op, input(i + 100_000)));
    await dump();
    await pool(calls, (i) => lean.send(op, input(i)));
    const file = await dump();
    const all = Number(/^summary: (\d+)/m.exec(await readFile(file, 'utf8'))[1]);
    // What ran under pthread's start_thread is the helper threads'.
    const annotated = execFileSync('callgrind_annotate', ['--inclusive=yes', file], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const threads = Number(
      (/^\s*([\d,]+) .*start_thread/m.exec(annotated)?.[1] ?? '0').replaceAll(',', ''),
    );
    lines.push(
      `${op}: main ${Math.round((all - threads) / calls)}, all ${Math.round(all / calls)} instructions per call`,
    );
  }
  process.stdout.write(`${NIMBUS_ROOT}\n${lines.join('\n')}\n`);
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await rm(work, { recursive: true, force: true });
}
