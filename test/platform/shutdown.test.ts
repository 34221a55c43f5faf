import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { childrenOf, stillRunning } from '../helpers/processes.js';
import { runCli } from '../helpers/run-cli.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait-for.js';

/** A server whose temp dir (TMPDIR) is `runTmp`, so what it leaves there can be checked. */
function startServer(
  dataDir: string,
  home: string,
  runTmp: string,
  args: string[] = ['--shutdown-grace', '5s'],
): Promise<ServerProcess> {
  return startServerProcess({ dataDir, home, args, env: { TMPDIR: runTmp } });
}

describe('SIGTERM on nimbus server', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  test('finishes requests in flight, stops every function process, leaves no temp dir, exits 0', async () => {
    const tmp = await makeTempDir();
    cleanups.push(tmp.cleanup);
    const dataDir = join(tmp.dir, 'data');
    // Outside tmp.dir (0700): function processes may run as an unprivileged user, and must reach
    // the run root the server makes in here.
    const run = await makeTempDir('nimbus-shutdown-run-');
    cleanups.push(run.cleanup);
    const runTmp = run.dir;
    await chmod(runTmp, 0o755);
    const cwd = join(tmp.dir, 'svc');
    await mkdir(cwd);
    await writeFile(
      join(cwd, 'serverless.yml'),
      [
        'service: stopping',
        'provider: { name: aws, runtime: nodejs20.x }',
        'functions:',
        '  slow:',
        '    handler: handler.slow',
        '    events: [{ httpApi: { method: GET, path: /slow } }]',
        '  fast:',
        '    handler: handler.fast',
        '    events: [{ httpApi: { method: GET, path: /fast } }]',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(cwd, 'handler.js'),
      [
        'exports.slow = async () => {',
        '  await new Promise((r) => setTimeout(r, 1500));',
        "  return { statusCode: 200, body: 'slow done' };",
        '};',
        'exports.fast = async () => {',
        '  await new Promise((r) => setTimeout(r, 100));',
        "  return { statusCode: 200, body: 'fast' };",
        '};',
        '',
      ].join('\n'),
    );
    const server = await startServer(dataDir, tmp.dir, runTmp);
    cleanups.push(async () => {
      server.child.kill('SIGKILL');
    });
    const env = { HOME: tmp.dir, NIMBUS_ENDPOINT: server.url, NIMBUS_TOKEN: server.token };
    const deployed = await runCli(['deploy'], { cwd, env });
    assert.equal(deployed.code, 0, deployed.stderr);

    // Several warm instances, then a request that is still running when the signal comes.
    const fast = await Promise.all(
      [1, 2, 3].map(() => fetch(`${server.url}/stopping-dev/fast`).then((r) => r.text())),
    );
    assert.deepEqual(fast, ['fast', 'fast', 'fast']);
    const pid = server.child.pid!;
    const before = childrenOf(pid);
    assert.ok(before.length >= 3, `3+ function processes, saw ${before.length}`);
    const slow = fetch(`${server.url}/stopping-dev/slow`).then(async (r) => ({
      status: r.status,
      body: await r.text(),
    }));
    await waitUntil(() => childrenOf(pid).length > before.length, 'the slow instance', 10_000);
    const functionProcesses = childrenOf(pid);
    const signalled = Date.now();
    server.child.kill('SIGTERM');

    // New work is refused at once while the request in flight runs to its end.
    await waitUntil(
      async () => {
        try {
          await fetch(`${server.url}/stopping-dev/fast`);
          return false;
        } catch {
          return true;
        }
      },
      'new connections to be refused',
      5_000,
    );
    assert.deepEqual(await slow, { status: 200, body: 'slow done' });
    const exit = await server.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, server.output());
    assert.ok(Date.now() - signalled < 15_000, 'stopped within the grace period and then some');
    await waitUntil(
      () => stillRunning(functionProcesses).length === 0,
      'no function process left',
      5_000,
    );
    assert.deepEqual(await readdir(runTmp), [], 'no temp dir left behind');
    assert.match(server.output(), /Shutting down/);
  });

  test('async runs cut by the grace period are handed back and run at once after a restart', async () => {
    const tmp = await makeTempDir();
    cleanups.push(tmp.cleanup);
    const run = await makeTempDir('nimbus-shutdown-run-');
    cleanups.push(run.cleanup);
    await chmod(run.dir, 0o755);
    const dataDir = join(tmp.dir, 'data');
    const cwd = join(tmp.dir, 'svc');
    await mkdir(cwd);
    await writeFile(
      join(cwd, 'serverless.yml'),
      [
        'service: handback',
        'provider: { name: aws, runtime: nodejs20.x }',
        'functions:',
        '  slow:',
        '    handler: handler.slow',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(cwd, 'handler.js'),
      [
        'exports.slow = async () => {',
        '  await new Promise((r) => setTimeout(r, 2000));',
        "  return 'done';",
        '};',
        '',
      ].join('\n'),
    );
    // A lease far longer than the test: only a handed-back lease lets the event run again soon.
    const flags = ['--shutdown-grace', '200ms', '--async-lease', '10m'];
    let server = await startServer(dataDir, tmp.dir, run.dir, flags);
    cleanups.push(async () => {
      server.child.kill('SIGKILL');
    });
    const env = { HOME: tmp.dir, NIMBUS_ENDPOINT: server.url, NIMBUS_TOKEN: server.token };
    assert.equal((await runCli(['deploy'], { cwd, env })).code, 0);
    const accepted = await fetch(
      `${server.url}/2015-03-31/functions/handback-dev-slow/invocations`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${server.token}`, 'x-amz-invocation-type': 'Event' },
        body: '{}',
      },
    );
    assert.equal(accepted.status, 202);
    const id = accepted.headers.get('x-amzn-requestid')!;
    const status = async (s: ServerProcess) => {
      const res = await fetch(`${s.url}/v1/invocations/${id}`, {
        headers: { authorization: `Bearer ${s.token}` },
      });
      return ((await res.json()) as { status: string }).status;
    };
    await waitUntil(async () => (await status(server)) === 'Running', 'the run to start', 10_000);
    server.child.kill('SIGTERM');
    assert.deepEqual(await server.exited, { code: 0, signal: null }, server.output());
    assert.match(server.output(), /leases released/);

    server = await startServer(dataDir, tmp.dir, run.dir, flags);
    await waitUntil(async () => (await status(server)) === 'Succeeded', 'the event to run', 20_000);
    server.child.kill('SIGTERM');
    await server.exited;
  });
});
