// Cluster scenario (issue 18): 1, 2 and 3 `nimbus server` nodes on one PostgreSQL schema and one
// NATS JetStream prefix, behind a round-robin TCP balancer (fixtures/tcp-balancer.mjs), all on
// this one machine. Nodes are added one at a time to the same cluster, as an operator would:
// per node count, warm HTTP throughput of the hello route and async throughput (Event
// invocations accepted through the balancer, run by whichever node pulls them) with every event
// checked to be Succeeded once. Also the CPU the whole cluster (nodes + function processes)
// spends per request and per event: on one machine the cores bound the throughput, so the
// question this answers is what a node costs, not how far it scales.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fireEvents } from './async.mjs';
import { load, timedGet } from './load.mjs';
import { cpuMs, descendants, start, stop, waitForText } from './proc.mjs';
import { summary } from './stats.mjs';
import { BENCH, NIMBUS_ROOT, nimbusDeploy, startNimbus, writeService } from './systems.mjs';

const log = (line) => process.stderr.write(`bench: ${line}\n`);
const require = createRequire(join(NIMBUS_ROOT, 'package.json'));
const finals = ['Succeeded', 'Failed', 'Expired', 'Stopped'];

async function startBalancer(work, nodes, n) {
  const logFile = join(work, `balancer-${n}.log`);
  const backends = nodes.map((node) => new URL(node.url).host);
  const child = start(
    process.execPath,
    [join(BENCH, 'fixtures', 'tcp-balancer.mjs'), ...backends],
    {
      cwd: work,
      env: { PATH: process.env.PATH },
      logFile,
    },
  );
  const m = await waitForText(logFile, /balancer listening on (\d+)/, 10_000, child);
  return { url: `http://127.0.0.1:${m[1]}`, child, stop: () => stop(child) };
}

/** CPU ms of every node and of all their descendants (function processes). */
function clusterCpuMs(nodes) {
  let total = 0;
  for (const node of nodes) {
    total += cpuMs(node.pid);
    for (const p of descendants(node.pid)) total += cpuMs(p);
  }
  return total;
}

export async function clusterScenario(ctx) {
  const { work, cfg } = ctx;
  const pg = require('pg');
  const { connect } = require('nats');
  const pgUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const natsUrl = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
  const tag = randomBytes(4).toString('hex');
  const schema = `bench_cluster_${tag}`;
  const prefix = `bench${tag}`;
  const db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA "${schema}"`);
  const nodes = [];
  const rows = [];
  const raw = {};
  const connections = cfg.clusterConnections;
  try {
    const env = {
      NIMBUS_ADMIN_TOKEN: randomBytes(24).toString('hex'),
      NIMBUS_MASTER_KEY: randomBytes(32).toString('base64'),
      NIMBUS_DATABASE_URL: `${pgUrl}?schema=${schema}`,
      NIMBUS_NATS_URL: natsUrl,
      NIMBUS_NATS_PREFIX: prefix,
    };
    const svc = await writeService(join(work, 'svc-cluster'), {});
    const fnName = 'bench-dev-hello';
    for (let n = 1; n <= cfg.clusterNodes; n++) {
      const node = await startNimbus(work, {
        name: `cluster-n${n}`,
        nodeArgs: ctx.profileArgs ?? [],
        env: { ...env, NIMBUS_NODE_NAME: `n${n}` },
        extraArgs: ['--async-retry-delay', '1s', '--mqtt-port', 'off'],
      });
      ctx.onStop(node);
      nodes.push(node);
      if (n === 1) await nimbusDeploy(node, svc);
      // The new node serves what node 1 deployed (it reconciled from PostgreSQL on start).
      for (let tries = 0; ; tries++) {
        const r = await timedGet(node.route());
        if (r.status === 200) break;
        if (tries > 200) throw new Error(`node ${n} does not serve the route: ${r.status}`);
        await sleep(50);
      }
      const balancer = await startBalancer(work, nodes, n);
      const system = `Nimbus, ${n} node${n > 1 ? 's' : ''}`;
      const url = `${balancer.url}/bench-dev/hello`;

      // At least 3 s: a node that just joined starts its function instances here.
      const warmupSec = Math.max(3, cfg.warmupSec);
      log(`cluster: ${n} node(s), warm-up at ${connections} connections (${warmupSec}s)`);
      await load({ url, connections, durationSec: warmupSec });
      const warm = [];
      for (let t = 0; t < cfg.clusterTrials; t++) {
        const cpu0 = clusterCpuMs(nodes);
        const r = await load({ url, connections, durationSec: cfg.warmSec });
        r.cpuMsPerKReq = ((clusterCpuMs(nodes) - cpu0) / Math.max(1, r.ok)) * 1000;
        warm.push(r);
        log(
          `cluster: ${n} node(s) warm trial ${t + 1}/${cfg.clusterTrials}: ${Math.round(r.rps)} req/s, ` +
            `p99 ${r.p99.toFixed(2)} ms, ${Math.round(r.cpuMsPerKReq)} CPU ms per 1k requests` +
            (r.non2xx || r.errors ? `, non-2xx ${r.non2xx}, errors ${r.errors}` : ''),
        );
      }

      const asyncTrial = async (count, label) => {
        const since = Date.now() - 1;
        const cpu0 = clusterCpuMs(nodes);
        const f = await fireEvents({ url: balancer.url, token: env.NIMBUS_ADMIN_TOKEN }, fnName, {
          count,
          senders: cfg.asyncSenders,
          tag: label,
        });
        const deadline = Date.now() + cfg.asyncTimeoutMs;
        let state;
        for (;;) {
          const { rows: rs } = await db.query(
            `SELECT status, count(*)::int AS n, max(updated_at) AS last FROM "${schema}".async_invocations ` +
              'WHERE function_name = $1 AND created_at >= $2 GROUP BY status',
            [fnName, since],
          );
          state = Object.fromEntries(rs.map((r) => [r.status, { n: r.n, last: Number(r.last) }]));
          const done = finals.reduce((a, s) => a + (state[s]?.n ?? 0), 0);
          if (done >= f.ids.length || Date.now() > deadline) break;
          await sleep(25);
        }
        const cpu = clusterCpuMs(nodes) - cpu0;
        // Every accepted id, read back: one record each, Succeeded.
        const { rows: byId } = await db.query(
          `SELECT status, count(*)::int AS n FROM "${schema}".async_invocations WHERE id = any($1) GROUP BY status`,
          [f.ids],
        );
        const statuses = Object.fromEntries(byId.map((r) => [r.status, r.n]));
        const succeeded = statuses.Succeeded ?? 0;
        const endWall = state.Succeeded?.last ?? Date.now();
        return {
          count,
          accepted: f.ids.length,
          refused: f.refused.length,
          acceptedPerSec: f.ids.length / (f.acceptMs / 1000),
          completedPerSec: f.ids.length / ((endWall - f.wallStart) / 1000),
          lost: f.ids.length - succeeded,
          statuses,
          cpuMsPerEvent: cpu / Math.max(1, f.ids.length),
        };
      };
      await asyncTrial(cfg.asyncWarmup, `warm-up-${n}`);
      const asyncRuns = [];
      for (let t = 0; t < cfg.clusterTrials; t++) {
        const r = await asyncTrial(cfg.asyncEvents, `trial-${n}-${t}`);
        asyncRuns.push(r);
        log(
          `cluster: ${n} node(s) async trial ${t + 1}/${cfg.clusterTrials}: ${r.accepted} accepted ` +
            `(${Math.round(r.acceptedPerSec)}/s), ${Math.round(r.completedPerSec)} ev/s completed, ` +
            `lost ${r.lost}, ${r.cpuMsPerEvent.toFixed(2)} CPU ms per event`,
        );
      }
      await balancer.stop();
      raw[`${n}`] = { warm, async: asyncRuns };

      const row = (figure, unit, better, values, extra = {}) => ({
        scenario: 'cluster',
        system,
        figure,
        unit,
        better,
        summary: summary(values),
        ...extra,
      });
      const failures = warm.reduce((a, r) => a + r.non2xx + r.errors, 0);
      const lost = asyncRuns.reduce((a, r) => a + r.lost + r.refused, 0);
      rows.push(
        row(
          `warm throughput @${connections}c`,
          'req/s',
          'higher',
          warm.map((r) => r.rps),
          failures ? { note: `${failures} non-2xx/errors` } : {},
        ),
        row(
          `p99 @${connections}c`,
          'ms',
          'lower',
          warm.map((r) => r.p99),
        ),
        row(
          'CPU per 1k warm requests (all processes)',
          'ms',
          'lower',
          warm.map((r) => r.cpuMsPerKReq),
        ),
        row(
          'async events/s completed',
          'ev/s',
          'higher',
          asyncRuns.map((r) => r.completedPerSec),
          { note: lost ? `${lost} LOST or refused` : 'none lost' },
        ),
        row(
          'CPU per async event (all processes)',
          'ms',
          'lower',
          asyncRuns.map((r) => r.cpuMsPerEvent),
        ),
      );
    }
  } finally {
    for (const node of nodes.reverse()) await node.stop().catch(() => {});
    const nc = await connect({ servers: natsUrl }).catch(() => undefined);
    if (nc) {
      const jsm = await nc.jetstreamManager();
      for (const s of [`${prefix}_WORK`, `${prefix}_DEAD`]) {
        await jsm.streams.delete(s).catch(() => undefined);
      }
      await nc.close();
    }
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await db.end();
  }
  return {
    rows,
    notes: [
      `Cluster: 1 to ${cfg.clusterNodes} nodes on one PostgreSQL schema and one NATS JetStream prefix, added one at a time, ` +
        'behind a round-robin TCP balancer (bench/fixtures/tcp-balancer.mjs, a child process) on this one machine: nodes, ' +
        'their function processes, PostgreSQL, NATS, the balancer and the load generator share its cores, so more nodes ' +
        'cannot mean more throughput here; the figures show what a node costs (CPU per request/event) and that none is lost. ' +
        `Warm: GET /hello at ${connections} connections; async: ${cfg.asyncEvents} Event invocations per trial from ` +
        `${cfg.asyncSenders} senders through the balancer, each id read back from PostgreSQL (lost = accepted - Succeeded).`,
    ],
    raw,
  };
}
