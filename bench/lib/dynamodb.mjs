// DynamoDB scenario: PutItem, GetItem and Query ops/s through the official SDK v3 client, Nimbus
// (the `nimbus server` child, SQLite with synchronous=NORMAL for the comparison and FULL, its
// default, beside it) side by side with dynalite (the Node DynamoDB emulator, LevelDB on disk). Both get the same table, the same preloaded items and the
// same client settings; the client runs in this process, so its CPU counts against both alike.
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { leanDynamoClient } from './dynamodb-lean-client.mjs';
import { cpuMs, start, stop, waitForText } from './proc.mjs';
import { quantile, summary } from './stats.mjs';
import { DYNALITE_BIN, freePort, NIMBUS_ROOT, nimbusKey, startNimbus } from './systems.mjs';
import { BENCH_TABLE, benchItem, benchKey } from './dynamodb-bench-table.mjs';

const log = (m) => process.stderr.write(`bench: ${m}\n`);
const PARTITIONS = 100;
/** The row of Nimbus at its default durability (fsync per commit). */
export const FULL_SYSTEM = 'Nimbus synchronous=FULL';
const ITEMS_PER_PARTITION = 20;

async function startDynalite(work) {
  const port = await freePort();
  const path = await mkdtemp(join(work, 'dynalite-data-'));
  const logFile = join(work, 'dynalite.log');
  const child = start(
    process.execPath,
    [
      DYNALITE_BIN,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--path',
      path,
      '--createTableMs',
      '0',
    ],
    { cwd: NIMBUS_ROOT, env: { PATH: process.env.PATH }, logFile },
  );
  await waitForText(logFile, /listening/i, 30_000, child);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    stop: () => stop(child, 3000),
  };
}

function client(url, credentials) {
  return new DynamoDBClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });
}

/** The table and its preloaded items, through the lean client (quicker on a busy machine). */
async function prepare(lean) {
  await lean.send('CreateTable', BENCH_TABLE);
  // dynalite creates tables asynchronously (CREATING for a moment), as DynamoDB does.
  for (let i = 0; i < 100; i++) {
    try {
      await lean.send('GetItem', { TableName: 'bench', Key: benchKey(0, 0) });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const jobs = [];
  for (let p = 0; p < PARTITIONS; p++) {
    for (let s = 0; s < ITEMS_PER_PARTITION; s++) jobs.push([p, s]);
  }
  await pool(16, jobs.length, (i) =>
    lean.send('PutItem', { TableName: 'bench', Item: benchItem(...jobs[i]) }),
  );
}

/** Runs `n` calls of `fn` with `width` in flight. */
async function pool(width, n, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** Each operation's input for call `i`: the same for both clients and every system. */
const operations = {
  PutItem: (i) => ({ TableName: 'bench', Item: benchItem(1000 + (i % 5000), i) }),
  GetItem: (i) => ({ TableName: 'bench', Key: benchKey(i % PARTITIONS, i % ITEMS_PER_PARTITION) }),
  Query: (i) => ({
    TableName: 'bench',
    KeyConditionExpression: 'pk = :p AND sk BETWEEN :a AND :b',
    ExpressionAttributeValues: {
      ':p': { S: `user-${i % PARTITIONS}` },
      ':a': { N: '5' },
      ':b': { N: '14' },
    },
  }),
};
const commands = { PutItem: PutItemCommand, GetItem: GetItemCommand, Query: QueryCommand };

/**
 * The load generators. `lean` (the headline rows): the SDK's own requests, byte for byte, sent
 * without the SDK (lib/dynamodb-lean-client.mjs), so the client is not what limits either
 * system. `sdk`: the SDK v3 client itself, as an application would call it.
 */
const clients = {
  lean: (s, op, i) => s.lean.send(op, operations[op](i)),
  sdk: (s, op, i) => s.ddb.send(new commands[op](operations[op](i))),
};

/** One timed trial: as many calls as `width` callers complete in `seconds`. */
async function trial(system, client, op, width, seconds) {
  const call = clients[client];
  const cpu0 = cpuMs(system.pid);
  const client0 = process.cpuUsage();
  const until = performance.now() + seconds * 1000;
  const latencies = [];
  let errors = 0;
  const errorNames = {};
  let i = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        try {
          await call(system, op, i++);
          latencies.push(performance.now() - t);
        } catch (error) {
          errors++;
          const name = error?.name ?? 'Error';
          errorNames[name] = (errorNames[name] ?? 0) + 1;
        }
      }
    }),
  );
  return {
    ops: latencies.length / seconds,
    // The server's own CPU per call (user + system, 10 ms ticks): steadier than ops/s on a busy
    // machine, where other processes take turns on the cores.
    cpuUsPerOp: ((cpuMs(system.pid) - cpu0) * 1000) / Math.max(1, latencies.length + errors),
    // The load generator's own CPU per call (this process): what the lean generator saves.
    clientCpuUsPerOp: (() => {
      const c = process.cpuUsage(client0);
      return (c.user + c.system) / Math.max(1, latencies.length + errors);
    })(),
    p99: quantile(latencies, 0.99),
    errors,
    errorNames,
  };
}

export async function dynamodbScenario(ctx) {
  const { work, cfg } = ctx;
  // Two Nimbus servers: at dynalite's durability (the SQLite WAL without fsync per commit, so an
  // answered write survives a crash of the process but not a power loss; that is what the ratio
  // and the goal use), and at Nimbus's default (fsync per commit: it survives a power loss too).
  const systems = [];
  const modes = [
    ['Nimbus', 'normal'],
    [FULL_SYSTEM, 'full'],
  ].filter(
    ([, synchronous]) =>
      (!cfg.dynamodbFullOnly || synchronous === 'full') &&
      (!cfg.dynamodbNormalOnly || synchronous === 'normal'),
  );
  for (const [name, synchronous] of modes) {
    const nimbus = await startNimbus(work, {
      name: `nimbus-dynamodb-${synchronous}`,
      nodeArgs: ctx.profileArgs ?? [],
      // full is the default: not named, so the run also works against a Nimbus without the flag.
      extraArgs: synchronous === 'full' ? [] : ['--sqlite-synchronous', synchronous],
    });
    ctx.profiled?.set(nimbus.pid, `Nimbus server, dynamodb scenario, synchronous=${synchronous}`);
    ctx.onStop(nimbus);
    const credentials = await nimbusKey(nimbus);
    systems.push({
      name,
      pid: nimbus.pid,
      ddb: client(nimbus.url, credentials),
      lean: leanDynamoClient(nimbus.url, credentials, { sockets: cfg.dynamodbWidth }),
    });
  }
  if (!cfg.dynamodbNimbusOnly) {
    const dynalite = await startDynalite(work);
    ctx.onStop(dynalite);
    systems.push({
      name: 'dynalite',
      pid: dynalite.pid,
      ddb: client(dynalite.url, dynalite.credentials),
      lean: leanDynamoClient(dynalite.url, dynalite.credentials, { sockets: cfg.dynamodbWidth }),
    });
  }
  for (const s of systems) await prepare(s.lean);
  const rows = [];
  const raw = {};
  // The lean generator's rows carry the plain figure names (the ratios and the goal use them);
  // the SDK's rows say so in theirs.
  const generators = [
    ['lean', ''],
    ['sdk', ', SDK v3 client'],
  ].filter(([generator]) => !cfg.dynamodbLeanOnly || generator === 'lean');
  for (const op of Object.keys(operations)) {
    for (const [generator, suffix] of generators) {
      const trials = Object.fromEntries(systems.map((s) => [s.name, []]));
      for (const s of systems) await trial(s, generator, op, cfg.dynamodbWidth, 1); // warm-up
      for (let t = 0; t < cfg.dynamodbTrials; t++) {
        // Each trial starts with another system, so none always runs first (or last).
        const order = systems.map((_, j) => systems[(j + t) % systems.length]);
        for (const s of order) {
          const r = await trial(s, generator, op, cfg.dynamodbWidth, cfg.dynamodbSec);
          trials[s.name].push(r);
          log(
            `dynamodb: ${op} (${generator}) trial ${t + 1}/${cfg.dynamodbTrials} ${s.name}: ${Math.round(r.ops)} ops/s, ` +
              `p99 ${r.p99.toFixed(2)} ms, server CPU ${Math.round(r.cpuUsPerOp)} µs/call, client CPU ${Math.round(r.clientCpuUsPerOp)} µs/call${r.errors ? `, ${r.errors} errors ${JSON.stringify(r.errorNames)}` : ''}`,
          );
        }
      }
      raw[`${op}${suffix}`] = trials;
      for (const s of systems) {
        const list = trials[s.name];
        const errors = list.reduce((a, r) => a + r.errors, 0);
        const extra = errors ? { note: `${errors} errors over the trials` } : {};
        const row = (figure, unit, better, values, more = {}) =>
          rows.push({
            scenario: 'dynamodb',
            system: s.name,
            figure: `${op} ${figure}${suffix}`,
            unit,
            better,
            summary: summary(values),
            ...more,
          });
        row(
          'ops/s',
          'ops/s',
          'higher',
          list.map((r) => r.ops),
          extra,
        );
        row(
          'p99',
          'ms',
          'lower',
          list.map((r) => r.p99),
        );
        row(
          'server CPU per call',
          'µs',
          'lower',
          list.map((r) => r.cpuUsPerOp),
        );
      }
    }
  }
  for (const s of systems) {
    s.ddb.destroy();
    s.lean.destroy();
  }
  return {
    rows,
    raw,
    notes: [
      `DynamoDB: the SDK v3 client with ${cfg.dynamodbWidth} calls in flight, in the bench process. ` +
        'Equal durability: the "Nimbus" rows run `nimbus server --sqlite-synchronous normal` (SQLite WAL, ' +
        'no fsync per commit: an answered write survives a crash of the process, not a power loss), as ' +
        'dynalite writes LevelDB without fsync; the ratios and the goal use them. ' +
        `"${FULL_SYSTEM}" is Nimbus's default (fsync per commit group: it survives a power loss too).`,
    ],
  };
}
