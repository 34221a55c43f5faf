// SQS send -> function -> delete throughput (issue 14's goal: >= 3,000 messages/s on SQLite with
// `batchSize: 10`, none lost). A Nimbus server with one queue (a resource) and one function on its
// `sqs` event; the messages are sent with SendMessageBatch (10 per call, a few senders), and the
// drain is timed until the queue is empty: a message leaves the queue only when the function
// succeeded on its batch, so an empty queue with nothing in flight means none was lost.
// The requests are the SDK v3 client's own (AWS JSON, each SigV4-signed), sent by the lean
// generator (aws-json-lean-client.mjs): the SDK itself cost the bench process 200-400 µs of CPU
// per message on the same 2 cores as the server. `sqsClient: 'sdk'` sends them with the SDK.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { leanAwsJsonClient } from './aws-json-lean-client.mjs';
import { cpuMs, descendants } from './proc.mjs';
import { summary } from './stats.mjs';
import { nimbusDeploy, nimbusKey, ROOT, startNimbus } from './systems.mjs';

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

/** `send(operation, input)` answering the operation's output; `destroy()`. */
async function sqsClient(nimbus, kind) {
  const credentials = await nimbusKey(nimbus, 'sqs bench');
  if (kind !== 'sdk') {
    return leanAwsJsonClient(nimbus.url, credentials, {
      service: 'sqs',
      targetPrefix: 'AmazonSQS',
      api: 'sqs',
      extraHeaders: [['x-amzn-query-mode', 'true']],
      maxAttempts: 3,
      sockets: 16,
    });
  }
  const sdk = await import(`${ROOT}/node_modules/@aws-sdk/client-sqs/dist-cjs/index.js`);
  const client = new sdk.SQSClient({ endpoint: nimbus.url, region: 'us-east-1', credentials });
  return {
    send: (operation, input) => client.send(new sdk[`${operation}Command`](input)),
    destroy: () => client.destroy(),
  };
}

/** Sends `count` messages and waits for the queue to be empty; returns the rates. */
async function trial(sqs, queueUrl, { count, senders, timeoutMs }) {
  const t0 = performance.now();
  let next = 0;
  const send = async () => {
    while (next < count) {
      const from = next;
      next = Math.min(count, next + 10);
      const Entries = [];
      for (let i = from; i < next; i++)
        Entries.push({ Id: String(i - from), MessageBody: `m${i}` });
      const r = await sqs.send('SendMessageBatch', { QueueUrl: queueUrl, Entries });
      if (r.Failed?.length) throw new Error(`send failed: ${JSON.stringify(r.Failed[0])}`);
      if (r.Successful?.length !== Entries.length) throw new Error('send answered no ids');
    }
  };
  await Promise.all(Array.from({ length: senders }, send));
  const sentMs = performance.now() - t0;
  for (;;) {
    const a = await sqs.send('GetQueueAttributes', { QueueUrl: queueUrl, AttributeNames: ['All'] });
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
  const sqs = await sqsClient(nimbus, cfg.sqsClient);
  const queueUrl = `${nimbus.url}/000000000000/bench-work`;
  const opts = { senders: cfg.sqsSenders ?? 4, timeoutMs: cfg.sqsTimeoutMs ?? 300_000 };
  log(`sqs: warm-up ${cfg.sqsWarmup} messages`);
  await trial(sqs, queueUrl, { ...opts, count: cfg.sqsWarmup });
  const trials = [];
  for (let t = 0; t < cfg.sqsTrials; t++) {
    const cpu0 = splitCpuMs(nimbus.pid);
    const own0 = process.cpuUsage();
    const r = await trial(sqs, queueUrl, { ...opts, count: cfg.sqsMessages });
    const own = process.cpuUsage(own0);
    // CPU of the server and its function instances per message: steadier than the rates when
    // the machine is shared. Apart too, to tell the platform's share from the functions'.
    const cpu1 = splitCpuMs(nimbus.pid);
    const perMessage = (ms) => (ms * 1000) / r.count;
    r.serverCpuUsPerMessage = perMessage(cpu1.server - cpu0.server);
    r.instancesCpuUsPerMessage = perMessage(cpu1.instances - cpu0.instances);
    r.cpuUsPerMessage = r.serverCpuUsPerMessage + r.instancesCpuUsPerMessage;
    // The load generator shares the machine's cores: its own CPU, to tell when it sets the pace.
    r.clientCpuUsPerMessage = (own.user + own.system) / r.count;
    trials.push(r);
    log(
      `sqs: trial ${t + 1}/${cfg.sqsTrials}: ${r.count} messages, sent ${Math.round(r.sendPerSec)}/s, ` +
        `sent -> function -> deleted ${Math.round(r.endToEndPerSec)}/s, ` +
        `server + instances CPU ${Math.round(r.cpuUsPerMessage)} µs/message ` +
        `(server ${Math.round(r.serverCpuUsPerMessage)}, instances ${Math.round(r.instancesCpuUsPerMessage)}); ` +
        `load generator ${Math.round(r.clientCpuUsPerMessage)} µs/message`,
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
      `SQS: ${cfg.sqsMessages} messages per trial, ${opts.senders} senders (${cfg.sqsClient === 'sdk' ? 'the SDK v3 client' : "the SDK's requests from the lean generator"}), SQLite store; every message deleted (none lost).`,
    ],
    raw: { trials },
  };
}
