import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { makeTestCluster, startClusterNodes, writeClusterService } from '../helpers/cluster.js';
import { connectTestNats } from '../helpers/nats.js';
import type { ServerProcess } from '../helpers/server-process.js';
import { waitUntil } from '../helpers/wait-for.js';

interface Record {
  status: string;
  attempts: number;
}

/**
 * Three real `nimbus server` nodes on one PostgreSQL schema and one NATS JetStream stream
 * (`--nats-url`, streams of their own per run): async events accepted through any node run
 * exactly once, and a node killed with events in flight loses none of them.
 */
describe('a cluster of three nodes with the async queue on NATS JetStream', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  test('events through every node run once; kill -9 of one mid-run loses none', async () => {
    const cluster = await makeTestCluster({ nats: true });
    cleanups.push(cluster.close);
    const prefix = cluster.natsPrefix!;
    const nc = await connectTestNats();
    const jsm = await nc.jetstreamManager();
    cleanups.push(() => nc.close());
    const nodes = await startClusterNodes(
      cluster,
      ['n1', 'n2', 'n3'],
      ['--async-lease', '2s', '--mqtt-port', 'off'],
    );
    const [n1, n2, n3] = nodes as [ServerProcess, ServerProcess, ServerProcess];
    // The startup lines after "listening on" may still be on their way.
    const queueLine = new RegExp(`Queue: NATS JetStream .*${prefix}_WORK`);
    await waitUntil(() => queueLine.test(n1.output()), 'the queue line of node 1');

    const svc = await writeClusterService(cluster, n1, [
      'service: cn',
      'provider: { name: aws, runtime: nodejs20.x }',
      'functions:',
      '  work:',
      '    handler: handler.work',
      '    maximumRetryAttempts: 2',
      '  limited:',
      '    handler: handler.limited',
      '    reservedConcurrency: 2',
    ]);
    await svc.write({
      'handler.js': [
        'exports.work = async (e) => {',
        '  await new Promise((r) => setTimeout(r, e.ms));',
        '  return { n: e.n };',
        '};',
        'exports.limited = async () => {',
        '  await new Promise((r) => setTimeout(r, 1500));',
        '  return "ran";',
        '};',
        '',
      ].join('\n'),
    });
    const auth = { authorization: `Bearer ${cluster.token}` };
    const deployed = await svc.deploy();
    assert.equal(deployed.code, 0, deployed.stderr);

    const send = async (node: ServerProcess, n: number, ms: number): Promise<string> => {
      let res: Response | undefined;
      // A node that has not seen the deploy yet answers 404 for a moment.
      await waitUntil(async () => {
        res = await fetch(`${node.url}/2015-03-31/functions/cn-dev-work/invocations`, {
          method: 'POST',
          headers: { ...auth, 'x-amz-invocation-type': 'Event' },
          body: JSON.stringify({ n, ms }),
        });
        if (res.status === 404) await res.body?.cancel();
        return res.status !== 404;
      }, `node ${node.url} to know the function`);
      assert.equal(res!.status, 202, await res!.text());
      return res!.headers.get('x-amzn-requestid')!;
    };
    const records = async (ids: string[]) =>
      Promise.all(
        ids.map(async (id) => {
          const res = await fetch(`${n1.url}/v1/invocations/${id}`, { headers: auth });
          return res.ok
            ? ((await res.json()) as Record)
            : { status: `HTTP ${res.status}`, attempts: 0 };
        }),
      );
    const counts = (rs: Record[]) => {
      const out: { [status: string]: number } = {};
      for (const r of rs) out[r.status] = (out[r.status] ?? 0) + 1;
      return out;
    };

    // Accepted through every node, each runs once: one delivery each, however many relays.
    const first: string[] = [];
    for (let n = 0; n < 60; n += 20) {
      const batch = Array.from({ length: 20 }, (_, i) => n + i);
      first.push(...(await Promise.all(batch.map((i) => send(nodes[i % 3]!, i, 50)))));
    }
    await waitUntil(
      async () => counts(await records(first)).Succeeded === first.length,
      'the first events to succeed',
      60_000,
    );
    assert.deepEqual(
      (await records(first)).filter((r) => r.attempts !== 1),
      [],
      'every event was delivered once',
    );

    // A reserved concurrency of 2 holds across the nodes: six calls at once, two per node.
    const calls = await Promise.all(
      [0, 1, 2, 3, 4, 5].map(async (i) => {
        const res = await fetch(
          `${nodes[i % 3]!.url}/2015-03-31/functions/cn-dev-limited/invocations`,
          { method: 'POST', headers: auth, body: '{}' },
        );
        return `${res.status} ${res.headers.get('x-amzn-errortype') ?? (await res.text())}`;
      }),
    );
    const ran = calls.filter((c) => c === '200 "ran"').length;
    assert.ok(ran >= 1 && ran <= 2, `at most 2 ran at once: ${JSON.stringify(calls)}`);
    assert.deepEqual(
      calls.filter((c) => !c.startsWith('200')),
      Array(6 - ran).fill('429 TooManyRequestsException'),
    );

    // More events, with node 3 killed while it runs some of them.
    const events = 200;
    const second: string[] = [];
    // Half-way, node 3 is killed with work in flight; the rest goes through node 2.
    let alive = [n2, n3];
    for (let n = 0; n < events; n += 50) {
      if (n === events / 2) {
        n3.child.kill('SIGKILL');
        await n3.exited;
        alive = [n2];
        const before = counts(await records(second));
        console.log(
          `cluster (nats): states right after kill -9 of node 3: ${JSON.stringify(before)}`,
        );
        assert.ok(
          (before.Succeeded ?? 0) < n,
          `work was still in flight: ${JSON.stringify(before)}`,
        );
      }
      const batch = Array.from({ length: Math.min(50, events - n) }, (_, i) => n + i);
      second.push(...(await Promise.all(batch.map((i) => send(alive[i % alive.length]!, i, 500)))));
    }

    await waitUntil(
      async () => counts(await records(second)).Succeeded === events,
      'every event to succeed on the surviving nodes',
      120_000,
    );
    const final = await records(second);
    assert.deepEqual(counts(final), { Succeeded: events });
    console.log(
      `cluster (nats): ${final.filter((r) => r.attempts > 1).length} events delivered again after the kill`,
    );

    // A kill with nothing else queued: the surviving node must fetch to get the lapsed
    // deliveries back (JetStream counts them as pending until then).
    const quiet = await Promise.all([0, 1, 2, 3].map((i) => send(n2, 1000 + i, 2000)));
    await waitUntil(
      async () => (await records(quiet)).some((r) => r.status === 'Running'),
      'a quiet event to run',
    );
    n2.child.kill('SIGKILL');
    await n2.exited;
    await waitUntil(
      async () => counts(await records(quiet)).Succeeded === quiet.length,
      'the quiet events to succeed on the last node',
      60_000,
    );

    // Nothing left behind: the stream holds no job, the outbox no row.
    await waitUntil(
      async () => (await jsm.streams.info(`${prefix}_WORK`)).state.messages === 0,
      'the work stream to be empty',
    );
    const client = new pg.Client({ connectionString: cluster.pgUrl });
    await client.connect();
    try {
      const { rows } = await client.query(
        `select count(*)::int as n from "${cluster.schema}".work_outbox`,
      );
      assert.equal(rows[0].n, 0);
      const jobs = await client.query(
        `select count(*)::int as n from "${cluster.schema}".work_jobs`,
      );
      assert.equal(jobs.rows[0].n, 0, 'the SQL queue is not used');
    } finally {
      await client.end();
    }
  });
});
