import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { makeTestCluster, startClusterNodes, writeClusterService } from '../helpers/cluster.js';
import { runCli } from '../helpers/run-cli.js';
import type { ServerProcess } from '../helpers/server-process.js';
import { waitUntil } from '../helpers/wait-for.js';

const events = 300;

/**
 * Three real `nimbus server` nodes on one PostgreSQL schema, each with a data dir of its own:
 * what one node is told (deploys, artifacts, events) every node serves.
 */
describe('a cluster of three nodes on one PostgreSQL schema', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  test('deploy through one, serve through all; kill -9 one mid-run and lose no event', async () => {
    const cluster = await makeTestCluster();
    cleanups.push(cluster.close);
    const nodes = await startClusterNodes(
      cluster,
      ['n1', 'n2', 'n3'],
      ['--async-retry-delay', '100ms', '--async-lease', '2s'],
    );
    const [n1, n2, n3] = nodes as [ServerProcess, ServerProcess, ServerProcess];

    const svc = await writeClusterService(cluster, n1, [
      'service: cl',
      'provider: { name: aws, runtime: nodejs20.x }',
      'functions:',
      '  hello:',
      '    handler: handler.hello',
      '    events: [{ httpApi: { path: /hello, method: get } }]',
      '  work:',
      '    handler: handler.work',
      '    maximumRetryAttempts: 2',
    ]);
    const handler = (version: string) =>
      [
        `exports.hello = async () => ({ statusCode: 200, body: '${version}' });`,
        'exports.work = async (e) => {',
        '  await new Promise((r) => setTimeout(r, 500));',
        '  return { n: e.n };',
        '};',
        '',
      ].join('\n');
    await svc.write({ 'handler.js': handler('v1') });
    const auth = { authorization: `Bearer ${cluster.token}` };

    const answers = () =>
      Promise.all(
        [n2, n3].map(async (n) => {
          const res = await fetch(`${n.url}/cl-dev/hello`);
          return `${res.status} ${await res.text()}`;
        }),
      );
    const deployed = await svc.deploy();
    assert.equal(deployed.code, 0, deployed.stderr);
    let t0 = Date.now();
    await waitUntil(
      async () => (await answers()).every((a) => a === '200 v1'),
      'nodes 2 and 3 to serve v1',
    );
    const firstMs = Date.now() - t0;

    // The artifact came from the shared store: node 2 never received an upload.
    const cached = await readdir(join(cluster.dir, 'n2', 'blobs', 'sha256'), { recursive: true });
    assert.ok(
      cached.some((f) => /[0-9a-f]{64}$/.test(f)),
      'node 2 cached the artifact by content hash',
    );

    await svc.write({ 'handler.js': handler('v2') });
    const redeployed = await svc.deploy();
    assert.equal(redeployed.code, 0, redeployed.stderr);
    t0 = Date.now();
    await waitUntil(
      async () => (await answers()).every((a) => a === '200 v2'),
      'nodes 2 and 3 to serve v2',
    );
    const redeployMs = Date.now() - t0;
    console.log(`cluster: v1 on nodes 2+3 ${firstMs} ms after deploy, v2 ${redeployMs} ms after`);

    const status = await runCli(['cluster', 'status', '--json'], svc);
    assert.equal(status.code, 0, status.stderr);
    const view = JSON.parse(status.stdout) as { nodes: { name: string; health: string }[] };
    assert.deepEqual(
      view.nodes.map((n) => `${n.name} ${n.health}`),
      ['n1 up', 'n2 up', 'n3 up'],
    );

    // 300 async events through nodes 2 and 3.
    const ids: string[] = [];
    const send = async (node: ServerProcess, n: number) => {
      const res = await fetch(`${node.url}/2015-03-31/functions/cl-dev-work/invocations`, {
        method: 'POST',
        headers: { ...auth, 'x-amz-invocation-type': 'Event' },
        body: JSON.stringify({ n }),
      });
      assert.equal(res.status, 202);
      ids.push(res.headers.get('x-amzn-requestid')!);
    };
    const statuses = async () => {
      const counts: Record<string, number> = {};
      // Newest first: right after the kill, the last ones sent are the ones still running.
      for (const id of [...ids].reverse()) {
        const res = await fetch(`${n1.url}/v1/invocations/${id}`, { headers: auth });
        const s = res.ok ? ((await res.json()) as { status: string }).status : `HTTP ${res.status}`;
        counts[s] = (counts[s] ?? 0) + 1;
      }
      return counts;
    };
    // Half-way, node 3 is killed with work in flight; the rest goes through node 2.
    let alive = [n2, n3];
    for (let n = 0; n < events; n += 50) {
      if (n === events / 2) {
        n3.child.kill('SIGKILL');
        await n3.exited;
        alive = [n2];
        const before = await statuses();
        console.log(`cluster: states right after kill -9 of node 3: ${JSON.stringify(before)}`);
        assert.ok(
          (before.Succeeded ?? 0) < n,
          `work was still in flight: ${JSON.stringify(before)}`,
        );
      }
      const batch = Array.from({ length: Math.min(50, events - n) }, (_, i) => n + i);
      await Promise.all(batch.map((i) => send(alive[i % alive.length]!, i)));
    }

    await waitUntil(
      async () => (await statuses()).Succeeded === events,
      'every event to succeed on the surviving nodes',
      120_000,
    );
    assert.deepEqual(await statuses(), { Succeeded: events });
  });
});
