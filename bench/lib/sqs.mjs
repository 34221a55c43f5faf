// SQS send -> function -> delete throughput (issue 14's goal: >= 3,000 messages/s on SQLite with
// `batchSize: 10`, none lost). A Nimbus server with one queue (a resource) and one function on its
// `sqs` event; the messages are sent with SendMessageBatch (10 per call, a few senders), and the
// drain is timed until the queue is empty: a message leaves the queue only when the function
// succeeded on its batch, so an empty queue with nothing in flight means none was lost.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuMs, descendants } from './proc.mjs';
import { summary } from './stats.mjs';
import { nimbusDeploy, ROOT, startNimbus } from './systems.mjs';

const log = (line) => process.stderr.write(`bench: ${line}\n`);

/** CPU ms of the server and of its live descendants (its function instances), apart. */
const splitCpuMs = (pid) => ({
  server: cpuMs(pid),
  instances: descendants(pid).reduce((a, p) => a + cpuMs(p), 0),
});

const yml = `service: bench
frameworkVersion: '3'
provider:
  name: aws
  runtime: nodejs20.x
functions:
  drain:
    handler: handler.handler
    events:
      - sqs:
          arn: { Fn::GetAtt: [Work, Arn] }
          batchSize: 10
resources:
  Resources:
    Work:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: bench-work
        VisibilityTimeout: 30
`;
const handler = `let seen = 0;
exports.handler = async (event) => {
  seen += event.Records.length;
  return { seen };
};
`;

async function sqsClient(nimbus) {
  const { SQSClient } = await import(`${ROOT}/node_modules/@aws-sdk/client-sqs/dist-cjs/index.js`);
  const res = await fetch(`${nimbus.url}/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${nimbus.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ description: 'sqs bench' }),
  });
  const { key } = await res.json();
  return new SQSClient({
    endpoint: nimbus.url,
    region: 'us-east-1',
    credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
  });
}

/** Sends `count` messages and waits for the queue to be empty; returns the rates. */
async function trial(sqs, queueUrl, { count, senders, timeoutMs }) {
  const { SendMessageBatchCommand, GetQueueAttributesCommand } = await import(
    `${ROOT}/node_modules/@aws-sdk/client-sqs/dist-cjs/index.js`
  );
  const t0 = performance.now();
  let next = 0;
  const send = async () => {
    while (next < count) {
      const from = next;
      next = Math.min(count, next + 10);
      const Entries = [];
      for (let i = from; i < next; i++)
        Entries.push({ Id: String(i - from), MessageBody: `m${i}` });
      const r = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries }));
      if (r.Failed?.length) throw new Error(`send failed: ${JSON.stringify(r.Failed[0])}`);
    }
  };
  await Promise.all(Array.from({ length: senders }, send));
  const sentMs = performance.now() - t0;
  for (;;) {
    const a = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
    );
    const left =
      Number(a.Attributes.ApproximateNumberOfMessages) +
      Number(a.Attributes.ApproximateNumberOfMessagesNotVisible);
    if (left === 0) break;
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`${left} messages left after ${timeoutMs} ms`);
    await sleep(20);
  }
  const doneMs = performance.now() - t0;
  return { count, sendPerSec: count / (sentMs / 1000), endToEndPerSec: count / (doneMs / 1000) };
}

export async function sqsScenario(ctx) {
  const { work, cfg } = ctx;
  const dir = join(work, 'svc-sqs');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'serverless.yml'), yml);
  await writeFile(join(dir, 'handler.js'), handler);
  const nimbus = await startNimbus(work, {
    name: 'nimbus-sqs',
    nodeArgs: ctx.profileArgs ?? [],
    // `normal`: the SQLite WAL without an fsync per commit (durable across a process crash, not
    // a power loss); the default is Nimbus's own (fsync per commit group).
    extraArgs: cfg.sqsSynchronous ? ['--sqlite-synchronous', cfg.sqsSynchronous] : [],
  });
  ctx.profiled?.set(nimbus.pid, 'Nimbus server, sqs scenario');
  ctx.onStop(nimbus);
  await nimbusDeploy(nimbus, dir);
  const sqs = await sqsClient(nimbus);
  const queueUrl = `${nimbus.url}/000000000000/bench-work`;
  const opts = { senders: cfg.sqsSenders ?? 4, timeoutMs: cfg.sqsTimeoutMs ?? 300_000 };
  log(`sqs: warm-up ${cfg.sqsWarmup} messages`);
  await trial(sqs, queueUrl, { ...opts, count: cfg.sqsWarmup });
  const trials = [];
  for (let t = 0; t < cfg.sqsTrials; t++) {
    const cpu0 = splitCpuMs(nimbus.pid);
    const r = await trial(sqs, queueUrl, { ...opts, count: cfg.sqsMessages });
    // CPU of the server and its function instances per message: steadier than the rates when
    // the machine is shared. Apart too, to tell the platform's share from the functions'.
    const cpu1 = splitCpuMs(nimbus.pid);
    const perMessage = (ms) => (ms * 1000) / r.count;
    r.serverCpuUsPerMessage = perMessage(cpu1.server - cpu0.server);
    r.instancesCpuUsPerMessage = perMessage(cpu1.instances - cpu0.instances);
    r.cpuUsPerMessage = r.serverCpuUsPerMessage + r.instancesCpuUsPerMessage;
    trials.push(r);
    log(
      `sqs: trial ${t + 1}/${cfg.sqsTrials}: ${r.count} messages, sent ${Math.round(r.sendPerSec)}/s, ` +
        `sent -> function -> deleted ${Math.round(r.endToEndPerSec)}/s, ` +
        `server + instances CPU ${Math.round(r.cpuUsPerMessage)} µs/message ` +
        `(server ${Math.round(r.serverCpuUsPerMessage)}, instances ${Math.round(r.instancesCpuUsPerMessage)})`,
    );
  }
  sqs.destroy();
  const row = (figure, values, extra = {}) => ({
    scenario: 'sqs',
    system: 'Nimbus',
    figure,
    unit: 'msg/s',
    better: 'higher',
    summary: summary(values),
    ...extra,
  });
  return {
    rows: [
      row(
        'SendMessageBatch',
        trials.map((r) => r.sendPerSec),
      ),
      row(
        'send -> function (batchSize 10) -> delete',
        trials.map((r) => r.endToEndPerSec),
        { target: '>= 3,000 msg/s on SQLite' },
      ),
    ],
    notes: [
      `SQS: ${cfg.sqsMessages} messages per trial, ${opts.senders} senders, SQLite store; every message deleted (none lost).`,
    ],
    raw: { trials },
  };
}
