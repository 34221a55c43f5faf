// WebSocket message round trip (issue 20): a Nimbus server with one WebSocket API whose `$default`
// route echoes each message back through PostToConnection, as users write it (the endpoint built
// from the event). Latency: one `ws` client, one message at a time, send -> echo received.
// Throughput: several clients, each with a window of messages in flight, for a fixed count.
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { quantile, summary } from './stats.mjs';
import { nimbusDeploy, ROOT, startNimbus } from './systems.mjs';

const log = (line) => process.stderr.write(`bench: ${line}\n`);
const WebSocket = createRequire(join(ROOT, 'package.json'))('ws');

const yml = `service: bench
frameworkVersion: '3'
provider:
  name: aws
  runtime: nodejs20.x
functions:
  echo:
    handler: handler.echo
    events:
      - websocket: $default
`;
const handler = `const { ApiGatewayManagementApiClient, PostToConnectionCommand } = require('@aws-sdk/client-apigatewaymanagementapi');
let client;
exports.echo = async (event) => {
  const { domainName, stage, connectionId } = event.requestContext;
  client ??= new ApiGatewayManagementApiClient({ endpoint: 'http://' + domainName + '/' + stage });
  await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: event.body }));
  return { statusCode: 200 };
};
`;

async function open(url) {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** Sequential round trips on one connection: the latency of each, in ms. */
async function latencyTrial(url, count) {
  const socket = await open(url);
  const latencies = [];
  let failed;
  socket.on('error', (error) => {
    failed = error;
  });
  for (let i = 0; i < count; i++) {
    if (failed) throw failed;
    const t0 = performance.now();
    const body = `m${i}`;
    await new Promise((resolve, reject) => {
      const onMessage = (data) => {
        if (String(data) !== body) return;
        socket.off('message', onMessage);
        socket.off('close', onClose);
        resolve();
      };
      const onClose = () => reject(failed ?? new Error('the connection closed'));
      socket.on('message', onMessage);
      socket.once('close', onClose);
      socket.send(body);
    });
    latencies.push(performance.now() - t0);
  }
  socket.close();
  return latencies;
}

/** `clients` connections, `window` messages in flight on each, `count` echoes in all. */
async function throughputTrial(url, { clients, window, count }) {
  const sockets = await Promise.all(Array.from({ length: clients }, () => open(url)));
  const per = Math.ceil(count / clients);
  const t0 = performance.now();
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise((resolve, reject) => {
          let sent = 0;
          let received = 0;
          const sendOne = () => socket.send(`t${sent++}`);
          socket.on('message', () => {
            received += 1;
            if (received === per) resolve();
            else if (sent < per) sendOne();
          });
          socket.once('error', reject);
          for (let i = 0; i < Math.min(window, per); i++) sendOne();
        }),
    ),
  );
  const ms = performance.now() - t0;
  for (const s of sockets) s.close();
  return (per * clients) / (ms / 1000);
}

export async function websocketScenario(ctx) {
  const { work, cfg } = ctx;
  const dir = join(work, 'svc-ws');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'serverless.yml'), yml);
  await writeFile(join(dir, 'handler.js'), handler);
  const nimbus = await startNimbus(work, { name: 'nimbus-ws', nodeArgs: ctx.profileArgs ?? [] });
  ctx.profiled?.set(nimbus.pid, 'Nimbus server, websocket scenario');
  ctx.onStop(nimbus);
  await nimbusDeploy(nimbus, dir);
  const url = `${nimbus.url.replace(/^http/, 'ws')}/bench-dev`;
  log(`websocket: warm-up ${cfg.wsWarmup} round trips`);
  await latencyTrial(url, cfg.wsWarmup);
  // Concurrent messages start more function instances: started before the timed trials.
  await throughputTrial(url, {
    clients: cfg.wsClients,
    window: cfg.wsWindow,
    count: cfg.wsClients * cfg.wsWindow * 4,
  });
  const trials = [];
  for (let t = 0; t < cfg.wsTrials; t++) {
    const latencies = await latencyTrial(url, cfg.wsRoundTrips);
    const perSec = await throughputTrial(url, {
      clients: cfg.wsClients,
      window: cfg.wsWindow,
      count: cfg.wsMessages,
    });
    const r = { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), perSec };
    trials.push(r);
    log(
      `websocket: trial ${t + 1}/${cfg.wsTrials}: round trip p50 ${r.p50.toFixed(2)} ms, ` +
        `p99 ${r.p99.toFixed(2)} ms; ${Math.round(perSec)} echoes/s`,
    );
  }
  const row = (figure, unit, better, values) => ({
    scenario: 'websocket',
    system: 'Nimbus',
    figure,
    unit,
    better,
    summary: summary(values),
  });
  return {
    rows: [
      row(
        'message -> $default -> PostToConnection -> client, p50',
        'ms',
        'lower',
        trials.map((r) => r.p50),
      ),
      row(
        'message -> $default -> PostToConnection -> client, p99',
        'ms',
        'lower',
        trials.map((r) => r.p99),
      ),
      row(
        `echoes/s (${cfg.wsClients} clients, ${cfg.wsWindow} in flight each)`,
        'msg/s',
        'higher',
        trials.map((r) => r.perSec),
      ),
    ],
    notes: [
      `WebSocket: ${cfg.wsRoundTrips} sequential round trips per trial for latency, then ${cfg.wsMessages} echoes over ${cfg.wsClients} connections; SQLite store; the function echoes with PostToConnection.`,
    ],
    raw: { trials },
  };
}
