// DynamoDB scenario: PutItem, GetItem and Query ops/s, Nimbus (the `nimbus server` child, SQLite
// with synchronous=NORMAL for the comparison and FULL, its default, beside it) side by side with
// dynalite (the Node DynamoDB emulator, LevelDB on disk). Both get the same table, the same
// preloaded items and the same requests. The load generator runs in this process, on the same 2
// cores as the server, so its CPU counts against both alike; the headline rows come from the
// replaying generator (lib/replay-load.mjs: the SDK's requests, SigV4-signed before the timed
// window and replayed over raw keep-alive sockets: 20-80 µs of CPU per call on the busy machine,
// a fifth to a seventh of the lean client's), so the server, not the generator, sets the pace. The lean signed client and the SDK v3 client give secondary rows,
// labelled. A sample of each trial's calls is checked after its window: the items a PutItem trial
// wrote are read back, GetItem and Query answers are compared with the preloaded items.
import { deepStrictEqual } from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { BENCH_TABLE, benchItem, benchKey } from './dynamodb-bench-table.mjs';
import { leanDynamoClient } from './dynamodb-lean-client.mjs';
import { cpuMs, start, stop, waitForQuiet, waitForText } from './proc.mjs';
import { eachOf, forSeconds, rawRequest, replay } from './replay-load.mjs';
import { quantile, summary } from './stats.mjs';
import { BENCH, DYNALITE_BIN, freePort, NIMBUS_ROOT, nimbusKey, startNimbus } from './systems.mjs';

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

/** The row of node:http answering canned replies (fixtures/dynamodb-floor-server.mjs). */
export const FLOOR_SYSTEM = 'node:http floor';

async function startFloor(work) {
  const logFile = join(work, 'dynamodb-floor.log');
  const child = start(
    process.execPath,
    [join(BENCH, 'fixtures', 'dynamodb-floor-server.mjs')],
    { cwd: NIMBUS_ROOT, env: { PATH: process.env.PATH }, logFile },
  );
  const m = await waitForText(logFile, /listening on (http:\/\/\S+)/, 10_000, child);
  return { url: m[1], pid: child.pid, stop: () => stop(child, 3000) };
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

/** Each operation's input for call `i`: the same for every generator and every system. */
const operations = {
  PutItem: (i) => ({ TableName: 'bench', Item: benchItem(1000 + (i % 5000), i) }),
  // Every preloaded item in turn, partition by partition.
  GetItem: (i) => ({
    TableName: 'bench',
    Key: benchKey(i % PARTITIONS, Math.floor(i / PARTITIONS) % ITEMS_PER_PARTITION),
  }),
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
 * How many distinct requests the replaying generator signs per operation and system for trials of
 * `seconds`, replayed round and round: PutItem's as many as a trial sends at up to 10,000 calls/s
 * (each writes an item of its own, as the other generators' calls do), GetItem's every preloaded
 * item twice, Query's every partition 40 times. Signing costs about 30 µs of CPU a request.
 */
const replayed = (op, seconds) => (op === 'PutItem' ? 10_000 * Math.max(1, seconds) : 4_000);
/** Signatures older than this are made again before a trial (AWS and Nimbus accept 15 min). */
const RESIGN_AFTER_MS = 10 * 60_000;

/** `op`'s requests for system `s`, signed now by the lean client's signer, as bytes to send. */
function presign(s, op, count) {
  const requests = [];
  for (let i = 0; i < count; i++) {
    const { headers, body } = s.lean.sign(op, operations[op](i));
    requests.push(rawRequest('POST', '/', headers, body));
  }
  return { requests, signedAt: Date.now() };
}

/** DynamoDB returns a set's members in no particular order. */
const normalized = (item) =>
  item &&
  Object.fromEntries(
    Object.entries(item).map(([name, v]) => [name, v.SS ? { SS: [...v.SS].sort() } : v]),
  );

/**
 * Checks a sample of a replayed trial's calls, after its window: the items a PutItem trial wrote
 * are read back with GetItem (through the lean client), GetItem and Query requests are replayed
 * once more and their answers compared with the preloaded items. Throws on a mismatch: figures
 * from calls that did the wrong thing are not figures.
 */
async function verifyReplay(s, op, requests, sent, failed) {
  // Indexes 0..sent-1 were all sent (in turn, each answered before the window closed); a call
  // that failed is already counted as an error, so it is not checked again.
  const count = Math.min(sent, requests.length);
  const step = Math.max(1, Math.floor(count / 50));
  const sample = [];
  for (let i = 0; i < count && sample.length < 50; i += step) if (!failed.has(i)) sample.push(i);
  const check = (i, actual, expected) => {
    try {
      deepStrictEqual(actual, expected);
    } catch {
      throw new Error(
        `dynamodb: ${s.name} ${op} call ${i} answered ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`,
      );
    }
  };
  if (op === 'PutItem') {
    await pool(8, sample.length, async (k) => {
      const { Item } = operations.PutItem(sample[k]);
      const { pk, sk } = Item;
      const answer = await s.lean.send('GetItem', { TableName: 'bench', Key: { pk, sk } });
      check(sample[k], normalized(answer.Item), normalized(Item));
    });
    return;
  }
  const r = await replay(s.url, requests, 4, eachOf(sample), () => true);
  if (r.errors) throw new Error(`dynamodb: ${s.name} ${op} check: ${JSON.stringify(r.errorNames)}`);
  for (const i of sample) {
    const answer = JSON.parse(r.bodies.get(i).toString('utf8'));
    if (op === 'GetItem') {
      const { pk, sk } = operations.GetItem(i).Key;
      const expected = benchItem(Number(pk.S.slice('user-'.length)), Number(sk.N));
      check(i, normalized(answer.Item), normalized(expected));
    } else {
      const p = i % PARTITIONS;
      const expected = Array.from({ length: 10 }, (_, k) => normalized(benchItem(p, 5 + k)));
      check(
        i,
        { Count: answer.Count, Items: answer.Items.map(normalized) },
        {
          Count: 10,
          Items: expected,
        },
      );
    }
  }
}

/** One timed trial of the lean client or the SDK: as many calls as `width` callers complete. */
async function callerTrial(system, client, op, width, seconds) {
  const call =
    client === 'sdk'
      ? (i) => system.ddb.send(new commands[op](operations[op](i)))
      : (i) => system.lean.send(op, operations[op](i));
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
          await call(i++);
          latencies.push(performance.now() - t);
        } catch (error) {
          errors++;
          const name = error?.name ?? 'Error';
          errorNames[name] = (errorNames[name] ?? 0) + 1;
        }
      }
    }),
  );
  return { latencies, errors, errorNames };
}

/**
 * One timed trial of `generator` (`replay`, `lean` or `sdk`) on `system`, with `width` calls in
 * flight for `seconds`; a replayed one is checked after its window (verifyReplay).
 */
async function trial(system, generator, op, width, seconds) {
  let signed;
  if (generator === 'replay') {
    signed = system.signed[op];
    if (Date.now() - signed.signedAt > RESIGN_AFTER_MS) {
      signed = presign(system, op, signed.requests.length);
      system.signed[op] = signed;
    }
  }
  const cpu0 = cpuMs(system.pid);
  const client0 = process.cpuUsage();
  const { latencies, errors, errorNames, failed } = signed
    ? await replay(system.url, signed.requests, width, forSeconds(signed.requests.length, seconds))
    : await callerTrial(system, generator, op, width, seconds);
  const client = process.cpuUsage(client0);
  const calls = Math.max(1, latencies.length + errors);
  const result = {
    ops: latencies.length / seconds,
    // The server's own CPU per call (user + system, 10 ms ticks): steadier than ops/s on a busy
    // machine, where other processes take turns on the cores.
    cpuUsPerOp: ((cpuMs(system.pid) - cpu0) * 1000) / calls,
    // The load generator's own CPU per call (this process, the whole of it).
    clientCpuUsPerOp: (client.user + client.system) / calls,
    p99: quantile(latencies, 0.99),
    errors,
    errorNames,
  };
  if (signed && !system.floor) {
    await verifyReplay(system, op, signed.requests, latencies.length + errors, failed);
  }
  return result;
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
      url: nimbus.url,
      signed: {},
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
      url: dynalite.url,
      signed: {},
      ddb: client(dynalite.url, dynalite.credentials),
      lean: leanDynamoClient(dynalite.url, dynalite.credentials, { sockets: cfg.dynamodbWidth }),
    });
  }
  for (const s of systems) await prepare(s.lean);
  // The floor: the same replayed requests answered by node:http with canned replies, no more.
  // It stores nothing, so it is neither prepared nor checked, and only the replaying generator
  // (whose requests are the same bytes for every system) runs against it.
  if (!cfg.dynamodbNimbusOnly) {
    const floor = await startFloor(work);
    ctx.onStop(floor);
    systems.push({
      name: FLOOR_SYSTEM,
      floor: true,
      pid: floor.pid,
      url: floor.url,
      signed: {},
      lean: leanDynamoClient(floor.url, { accessKeyId: 'floor', secretAccessKey: 'floor' }),
    });
  }
  const rows = [];
  const raw = {};
  // The replaying generator's rows carry the plain figure names (the ratios and the goal use
  // them); the lean client's and the SDK's say so in theirs. Those two are secondary: one trial
  // each unless `dynamodbSecondaryTrials` says otherwise, after a shorter warm-up (the server is
  // warm by then), which keeps the scenario's time.
  const secondary = cfg.dynamodbSecondaryTrials ?? 1;
  const generators = [
    ['replay', '', cfg.dynamodbTrials, 1],
    ['lean', ', lean client', secondary, 0.3],
    ['sdk', ', SDK v3 client', secondary, 0.3],
  ].filter(([generator]) => !cfg.dynamodbGenerators || cfg.dynamodbGenerators.includes(generator));
  for (const op of Object.keys(operations)) {
    for (const [generator, suffix, trialCount, warmUpSec] of generators) {
      const runs = generator === 'replay' ? systems : systems.filter((s) => !s.floor);
      const trials = Object.fromEntries(runs.map((s) => [s.name, []]));
      if (generator === 'replay') {
        const count = replayed(op, cfg.dynamodbSec);
        for (const s of runs) s.signed[op] = presign(s, op, count);
      }
      for (const s of runs) await trial(s, generator, op, cfg.dynamodbWidth, warmUpSec);
      for (let t = 0; t < trialCount; t++) {
        // Each trial starts with another system, so none always runs first (or last).
        const order = runs.map((_, j) => runs[(j + t) % runs.length]);
        for (const s of order) {
          // Every server idle first: the writes of a PutItem trial leave a WAL checkpoint (or a
          // LevelDB compaction) running after the last answer, on the same 2 cores.
          await waitForQuiet(runs.map((x) => x.pid));
          const r = await trial(s, generator, op, cfg.dynamodbWidth, cfg.dynamodbSec);
          trials[s.name].push(r);
          log(
            `dynamodb: ${op} (${generator}) trial ${t + 1}/${trialCount} ${s.name}: ${Math.round(r.ops)} ops/s, ` +
              `p99 ${r.p99.toFixed(2)} ms, server CPU ${Math.round(r.cpuUsPerOp)} µs/call, generator CPU ${Math.round(r.clientCpuUsPerOp)} µs/call${r.errors ? `, ${r.errors} errors ${JSON.stringify(r.errorNames)}` : ''}`,
          );
        }
      }
      raw[`${op}${suffix}`] = trials;
      // The operation's signed requests are not sent again: up to 30 MB per server.
      for (const s of runs) delete s.signed[op];
      for (const s of runs) {
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
        row(
          'generator CPU per call',
          'µs',
          'lower',
          list.map((r) => r.clientCpuUsPerOp),
        );
      }
    }
  }
  for (const s of systems) {
    s.ddb?.destroy();
    s.lean.destroy();
  }
  return {
    rows,
    raw,
    notes: [
      `DynamoDB: ${cfg.dynamodbWidth} calls in flight from the bench process. The plain rows replay ` +
        "the SDK's requests, SigV4-signed before the timed window (AWS accepts a signature for 15 " +
        'minutes, however often it is sent), over raw keep-alive sockets; a sample of each trial is ' +
        'read back or compared after it. The ", lean client" rows sign each call as it goes, the ' +
        '", SDK v3 client" rows are the SDK itself; "generator CPU per call" is what the bench ' +
        "process spent per call, on the server's 2 cores. " +
        'Equal durability: the "Nimbus" rows run `nimbus server --sqlite-synchronous normal` (SQLite WAL, ' +
        'no fsync per commit: an answered write survives a crash of the process, not a power loss), as ' +
        'dynalite writes LevelDB without fsync; the ratios and the goal use them. ' +
        `"${FULL_SYSTEM}" is Nimbus's default (fsync per commit group: it survives a power loss too). ` +
        `"${FLOOR_SYSTEM}" is the limit: node:http reading the same replayed requests and answering ` +
        'canned replies of the same size (no signature, parsing or storage), replayed rows only.',
    ],
  };
}
