import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { makeTestSchema } from '../helpers/postgres.js';
import { childrenOf, stillRunning } from '../helpers/processes.js';
import { runCli } from '../helpers/run-cli.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait-for.js';

const events = 30;

/** A server with short retries and leases, so a restart picks up quickly. */
function startServer(
  dataDir: string,
  databaseUrl: string | undefined,
  home: string,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const args = ['--async-retry-delay', '100ms', '--async-lease', '1s'];
  if (databaseUrl) args.push('--database-url', databaseUrl);
  return startServerProcess({ dataDir, home, args, env });
}

/** A crashed platform's restart and catch-up take a while on a loaded machine. */
const until = (check: () => Promise<boolean> | boolean, what: string, ms = 30_000) =>
  waitUntil(check, what, ms);

const variants: {
  name: string;
  database: () => Promise<{ url?: string; drop: () => Promise<void> }>;
}[] = [
  { name: 'sqlite', database: async () => ({ drop: async () => {} }) },
  {
    name: 'postgres',
    database: async () => {
      const s = await makeTestSchema();
      return { url: `${s.url}?schema=${s.schema}`, drop: s.drop };
    },
  },
];

for (const variant of variants) {
  describe(`kill -9 with events queued, running and retrying (${variant.name})`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c().catch(() => {});
    });

    test('after a restart every accepted event reaches one final state; none is lost', async () => {
      const tmp = await makeTempDir();
      const db = await variant.database();
      cleanups.push(tmp.cleanup, db.drop);
      const dataDir = join(tmp.dir, 'data');
      const cwd = join(tmp.dir, 'svc');
      await mkdir(cwd);
      await writeFile(
        join(cwd, 'serverless.yml'),
        [
          'service: crash',
          'provider: { name: aws, runtime: nodejs20.x }',
          'functions:',
          '  work:',
          '    handler: handler.work',
          '    reservedConcurrency: 4',
          '    maximumRetryAttempts: 8',
          '',
        ].join('\n'),
      );
      // Every other event fails the first time an instance sees it, so some are retrying when
      // the platform dies; each run takes a while, so some are running and others queued.
      await writeFile(
        join(cwd, 'handler.js'),
        [
          'const seen = new Set();',
          'exports.work = async (e) => {',
          '  await new Promise((r) => setTimeout(r, 100));',
          "  if (e.failFirst && !seen.has(e.n)) { seen.add(e.n); throw new Error('first try ' + e.n); }",
          '  return { n: e.n };',
          '};',
          '',
        ].join('\n'),
      );
      let server = await startServer(dataDir, db.url, tmp.dir);
      cleanups.push(async () => {
        server.child.kill('SIGKILL');
      });
      const env = { HOME: tmp.dir, NIMBUS_ENDPOINT: server.url, NIMBUS_TOKEN: server.token };
      const deployed = await runCli(['deploy'], { cwd, env });
      assert.equal(deployed.code, 0, deployed.stderr);

      const ids: string[] = [];
      for (let n = 0; n < events; n++) {
        const res = await fetch(`${server.url}/2015-03-31/functions/crash-dev-work/invocations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.token}`, 'x-amz-invocation-type': 'Event' },
          body: JSON.stringify({ n, failFirst: n % 2 === 0 }),
        });
        assert.equal(res.status, 202);
        ids.push(res.headers.get('x-amzn-requestid')!);
      }
      const statuses = async (s: ServerProcess) => {
        const counts: Record<string, number> = {};
        for (const id of ids) {
          const res = await fetch(`${s.url}/v1/invocations/${id}`, {
            headers: { authorization: `Bearer ${s.token}` },
          });
          const status = res.ok
            ? ((await res.json()) as { status: string }).status
            : `HTTP ${res.status}`;
          counts[status] = (counts[status] ?? 0) + 1;
        }
        return counts;
      };
      // Wait until the platform is mid-flight: something done, something still to do.
      await until(async () => {
        const c = await statuses(server);
        return (c.Succeeded ?? 0) >= 2 && (c.Succeeded ?? 0) < events - 4;
      }, 'work in flight');

      const functionProcesses = childrenOf(server.child.pid!);
      assert.ok(functionProcesses.length > 0, 'function processes were running');
      server.child.kill('SIGKILL');
      await server.exited;
      // Function processes die with the platform (their pipe closes), so none can run on
      // unseen while the restarted platform runs the same event again.
      await until(
        () => stillRunning(functionProcesses).length === 0,
        'orphaned function processes to exit',
        5000,
      );

      server = await startServer(dataDir, db.url, tmp.dir);
      await until(
        async () => (await statuses(server)).Succeeded === events,
        'every event to succeed',
      );
      assert.deepEqual(await statuses(server), { Succeeded: events });
    });
  });
}

/**
 * kill -9 at the worst moments: inside the accept transaction (written, not committed) and
 * inside a settle transaction (the record says Succeeded and the job is acked, not committed),
 * through the platform's failpoints (src/platform/async/failpoint.ts). Whatever was answered 202
 * must run to Succeeded after a restart, and no record may be left without its job.
 */
for (const variant of variants)
  for (const point of ['accept', 'settle'] as const)
    describe(`kill -9 inside the ${point} transaction (${variant.name})`, () => {
      const cleanups: (() => Promise<void>)[] = [];
      after(async () => {
        for (const c of cleanups.reverse()) await c().catch(() => {});
      });

      test('every 202 reaches Succeeded after a restart, and every record has its job', async () => {
        const tmp = await makeTempDir();
        const db = await variant.database();
        cleanups.push(tmp.cleanup, db.drop);
        const dataDir = join(tmp.dir, 'data');
        const cwd = join(tmp.dir, 'svc');
        await mkdir(cwd);
        await writeFile(
          join(cwd, 'serverless.yml'),
          [
            'service: crash',
            'provider: { name: aws, runtime: nodejs20.x }',
            'functions:',
            '  work:',
            '    handler: handler.work',
            '    reservedConcurrency: 4',
            '',
          ].join('\n'),
        );
        await writeFile(join(cwd, 'handler.js'), 'exports.work = async (e) => ({ n: e.n });\n');
        // The 12th accept, or the 3rd settle, dies before its commit.
        let server = await startServer(dataDir, db.url, tmp.dir, {
          NIMBUS_FAILPOINT: point,
          NIMBUS_FAILPOINT_AFTER: point === 'accept' ? '12' : '3',
        });
        cleanups.push(async () => {
          server.child.kill('SIGKILL');
        });
        const env = { HOME: tmp.dir, NIMBUS_ENDPOINT: server.url, NIMBUS_TOKEN: server.token };
        const deployed = await runCli(['deploy'], { cwd, env });
        assert.equal(deployed.code, 0, deployed.stderr);

        const { exited } = server;
        const accepted: string[] = [];
        let refused = 0;
        let next = 0;
        const sender = async () => {
          while (next < events) {
            const n = next++;
            try {
              const res = await fetch(
                `${server.url}/2015-03-31/functions/crash-dev-work/invocations`,
                {
                  method: 'POST',
                  headers: {
                    authorization: `Bearer ${server.token}`,
                    'x-amz-invocation-type': 'Event',
                  },
                  body: JSON.stringify({ n }),
                },
              );
              if (res.status === 202) accepted.push(res.headers.get('x-amzn-requestid')!);
              else refused++;
            } catch {
              // The platform died with this request in flight: no 202, so nothing was promised.
              refused++;
            }
          }
        };
        await Promise.all(Array.from({ length: 4 }, sender));
        await exited;
        assert.ok(refused > 0 || point === 'settle', 'the accept failpoint cut requests off');

        server = await startServer(dataDir, db.url, tmp.dir);
        const auth = { authorization: `Bearer ${server.token}` };
        const list = async () => {
          const res = await fetch(
            `${server.url}/v1/functions/crash-dev-work/invocations?limit=1000`,
            { headers: auth },
          );
          return ((await res.json()) as { invocations: { id: string; status: string }[] })
            .invocations;
        };
        // Every record, not only the 202s: one whose job was lost would stay Enqueued.
        await until(
          async () => (await list()).every((r) => r.status === 'Succeeded'),
          'every record to succeed',
        );
        const records = await list();
        const ids = new Set(records.map((r) => r.id));
        for (const id of accepted) assert.ok(ids.has(id), `accepted ${id} has a record`);
        assert.ok(records.length >= accepted.length);
      });
    });
