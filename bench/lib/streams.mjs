// Issue 15's event sources: `kinesis` (PutRecords -> consumer function throughput, records/s) and
// `mqtt` (an MQTT message to the embedded broker -> iot rule -> function start, latency p50/p99).
// One Nimbus server (SQLite) for both, started with an embedded MQTT broker on a free port. The
// functions report through their logs (read with the platform's logs API): the consumer logs
// how many records each batch had; the rule function logs the time from the device's publish to
// its own start (one machine, one clock).
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { summary } from './stats.mjs';
import { nimbusDeploy, ROOT, startNimbus } from './systems.mjs';

const log = (line) => process.stderr.write(`bench: ${line}\n`);

const yml = `service: bench
frameworkVersion: '3'
provider:
  name: aws
  runtime: nodejs20.x
functions:
  consume:
    handler: handler.consume
    events:
      - stream:
          type: kinesis
          arn: { Fn::GetAtt: [Feed, Arn] }
          batchSize: 100
          startingPosition: LATEST
  device:
    handler: handler.device
    events:
      - iot:
          sql: "SELECT * FROM 'bench/+/up'"
resources:
  Resources:
    Feed:
      Type: AWS::Kinesis::Stream
      Properties: { Name: bench-feed, ShardCount: 4 }
`;
const handler = `exports.consume = async (event) => {
  console.log('GOT ' + event.Records.length);
};
exports.device = async (event) => {
  console.log('LAT ' + (Date.now() - event.sentAt) + ' ' + event.n);
};
`;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function logLines(nimbus, fn, prefix) {
  const out = [];
  let after;
  // The logs API pages by id: `next` is the cursor for the following page (`after`), null at the end.
  for (;;) {
    const q = new URLSearchParams({
      limit: '10000',
      filter: prefix,
      ...(after === undefined ? {} : { after: String(after) }),
    });
    const res = await fetch(`${nimbus.url}/v1/functions/bench-dev-${fn}/logs?${q}`, {
      headers: { authorization: `Bearer ${nimbus.token}` },
    });
    const body = await res.json();
    for (const e of body.events ?? []) if (e.message.includes(prefix)) out.push(e.message);
    if (body.next === null || body.next === undefined || body.next === after) break;
    after = body.next;
  }
  return out;
}

const received = async (nimbus) =>
  (await logLines(nimbus, 'consume', 'GOT ')).reduce(
    (n, l) => n + Number(/GOT (\d+)/.exec(l)?.[1] ?? 0),
    0,
  );

async function accessKey(nimbus) {
  const res = await fetch(`${nimbus.url}/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${nimbus.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ description: 'streams bench' }),
  });
  return (await res.json()).key;
}

async function kinesisTrial(nimbus, kinesis, { count, timeoutMs }) {
  const { PutRecordsCommand } = await import(
    `${ROOT}/node_modules/@aws-sdk/client-kinesis/dist-cjs/index.js`
  );
  const before = await received(nimbus);
  const t0 = performance.now();
  for (let sent = 0; sent < count; ) {
    const n = Math.min(500, count - sent);
    let Records = Array.from({ length: n }, (_, i) => ({
      PartitionKey: `k${(sent + i) % 64}`,
      Data: Buffer.from(JSON.stringify({ i: sent + i })),
    }));
    // As a producer does: records refused by the per-shard write limit are sent again.
    for (let attempt = 0; Records.length > 0; attempt++) {
      if (attempt > 100) throw new Error('PutRecords kept refusing records');
      if (attempt > 0) await sleep(Math.min(50 * attempt, 500));
      const r = await kinesis.send(new PutRecordsCommand({ StreamName: 'bench-feed', Records }));
      Records = Records.filter((_, i) => r.Records[i]?.ErrorCode);
    }
    sent += n;
  }
  const putMs = performance.now() - t0;
  for (;;) {
    const got = (await received(nimbus)) - before;
    if (got >= count) break;
    if (performance.now() - t0 > timeoutMs) throw new Error(`${count - got} records not consumed`);
    await sleep(100);
  }
  const doneMs = performance.now() - t0;
  return { count, putPerSec: count / (putMs / 1000), endToEndPerSec: count / (doneMs / 1000) };
}

async function start(ctx, name) {
  const mqttPort = await freePort();
  const nimbus = await startNimbus(ctx.work, {
    name,
    nodeArgs: ctx.profileArgs ?? [],
    extraArgs: ['--mqtt-port', String(mqttPort)],
  });
  ctx.profiled?.set(nimbus.pid, `Nimbus server, ${name} scenario`);
  ctx.onStop(nimbus);
  const dir = join(ctx.work, `svc-${name}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'serverless.yml'), yml);
  await writeFile(join(dir, 'handler.js'), handler);
  await nimbusDeploy(nimbus, dir);
  return { nimbus, mqttPort, key: await accessKey(nimbus) };
}

export async function kinesisScenario(ctx) {
  const { cfg } = ctx;
  const { nimbus, key } = await start(ctx, 'kinesis');
  const { KinesisClient } = await import(
    `${ROOT}/node_modules/@aws-sdk/client-kinesis/dist-cjs/index.js`
  );
  const kinesis = new KinesisClient({
    endpoint: nimbus.url,
    region: 'us-east-1',
    credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
  });
  // LATEST is fixed when the mapping first runs: give it a moment before the warm-up.
  await sleep(1500);
  const opts = { timeoutMs: cfg.kinesisTimeoutMs ?? 300_000 };
  log(`kinesis: warm-up ${cfg.kinesisWarmup} records`);
  await kinesisTrial(nimbus, kinesis, { ...opts, count: cfg.kinesisWarmup });
  const trials = [];
  for (let t = 0; t < cfg.kinesisTrials; t++) {
    const r = await kinesisTrial(nimbus, kinesis, { ...opts, count: cfg.kinesisRecords });
    trials.push(r);
    log(
      `kinesis: trial ${t + 1}/${cfg.kinesisTrials}: ${r.count} records, put ${Math.round(r.putPerSec)}/s, ` +
        `put -> consumer ${Math.round(r.endToEndPerSec)}/s`,
    );
  }
  kinesis.destroy();
  const row = (figure, values) => ({
    scenario: 'kinesis',
    system: 'Nimbus',
    figure,
    unit: 'records/s',
    better: 'higher',
    summary: summary(values),
  });
  return {
    rows: [
      row(
        'PutRecords (500 per call, refused ones sent again)',
        trials.map((r) => r.putPerSec),
      ),
      row(
        'PutRecords -> consumer function (4 shards, batchSize 100)',
        trials.map((r) => r.endToEndPerSec),
      ),
    ],
    notes: [
      `Kinesis: ${cfg.kinesisRecords} records per trial, one sender, SQLite store; done when the consumer's logs count every record (includes the logs API's own delay).`,
    ],
    raw: { trials },
  };
}

export async function mqttScenario(ctx) {
  const { cfg } = ctx;
  const { nimbus, mqttPort, key } = await start(ctx, 'mqtt');
  const mqtt = (await import(`${ROOT}/node_modules/mqtt/build/index.js`)).default;
  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
    username: key.id,
    password: key.secret,
    clientId: 'bench-device',
  });
  // The rule subscribes once the deploy reaches it; a first message proves it listens.
  const seen = async () => (await logLines(nimbus, 'device', 'LAT ')).length;
  for (let i = 0; (await seen()) === 0; i++) {
    if (i > 300) throw new Error('the iot rule never invoked its function');
    await device.publishAsync('bench/d/up', JSON.stringify({ sentAt: Date.now(), n: -1 }), {
      qos: 1,
    });
    await sleep(100);
  }
  const total = cfg.mqttMessages;
  const before = await seen();
  log(`mqtt: ${total} messages, one every ${cfg.mqttGapMs} ms`);
  for (let n = 0; n < total; n++) {
    await device.publishAsync('bench/d/up', JSON.stringify({ sentAt: Date.now(), n }), { qos: 1 });
    await sleep(cfg.mqttGapMs);
  }
  await device.endAsync();
  const t0 = performance.now();
  while ((await seen()) - before < total) {
    if (performance.now() - t0 > 120_000) throw new Error('not every MQTT message arrived');
    await sleep(200);
  }
  const latencies = (await logLines(nimbus, 'device', 'LAT '))
    .map((l) => /LAT (\d+) (-?\d+)/.exec(l))
    .filter((m) => m && Number(m[2]) >= 0)
    .map((m) => Number(m[1]));
  const s = summary(latencies);
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  log(`mqtt: publish -> function start p50 ${pct(50)} ms, p99 ${pct(99)} ms`);
  const row = (figure, value) => ({
    scenario: 'mqtt',
    system: 'Nimbus',
    figure,
    unit: 'ms',
    better: 'lower',
    summary: { ...s, median: value },
  });
  return {
    rows: [
      row('MQTT publish -> iot rule -> function start, p50', pct(50)),
      row('MQTT publish -> iot rule -> function start, p99', pct(99)),
    ],
    notes: [
      `MQTT: ${total} QoS 1 messages to the embedded broker, one every ${cfg.mqttGapMs} ms (latency, not throughput); measured in the function against the device's send time.`,
    ],
    raw: { latencies },
  };
}
