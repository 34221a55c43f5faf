import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InvocationRecord } from '../../src/platform/async/invocation-records.js';
import type { RunningPlatform } from '../../src/platform/server.js';
import { type DeployedService, startWithService } from '../helpers/cli-platform.js';
import { waitForValue as until } from '../helpers/wait-for.js';

/** Function-error retries wait this long: long enough to stop a task while it waits. */
const retryDelayMs = 300;

describe('task status of asynchronous invocations (API and CLI)', () => {
  let svc: DeployedService;
  let platform: RunningPlatform;

  const cli = (...args: string[]) => svc.cli(...args);
  const api = (method: string, path: string, body?: unknown, token = platform.adminToken) =>
    fetch(`${platform.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const invokeEvent = async (name: string, payload: unknown): Promise<string> => {
    const res = await fetch(`${platform.url}/2015-03-31/functions/${name}/invocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.adminToken}`, 'x-amz-invocation-type': 'Event' },
      body: JSON.stringify(payload),
    });
    assert.equal(res.status, 202);
    return res.headers.get('x-amzn-requestid')!;
  };
  const reaches = (id: string, status: string, ms?: number) =>
    until(
      async () => {
        const r = await platform.records.get(id);
        return r?.status === status ? r : undefined;
      },
      `${id} ${status}`,
      ms,
    );

  before(async () => {
    svc = await startWithService(
      {
        'serverless.yml': [
          'service: tasks',
          'provider: { name: aws, runtime: nodejs20.x }',
          'functions:',
          '  ok:',
          '    handler: handler.ok',
          '  bad:',
          '    handler: handler.bad',
          '    maximumRetryAttempts: 0',
          '  retried:',
          '    handler: handler.bad',
          '    maximumRetryAttempts: 2',
          // One instance, so the module state below counts every call.
          '  once:',
          '    handler: handler.once',
          '    maximumRetryAttempts: 0',
          '    reservedConcurrency: 1',
          '  twice:',
          '    handler: handler.twice',
          '    maximumRetryAttempts: 0',
          '    reservedConcurrency: 1',
          '',
        ].join('\n'),
        'handler.js': [
          'let onceCalls = 0;',
          'let twiceCalls = 0;',
          'exports.ok = async (e) => ({ echoed: e });',
          "exports.bad = async () => { throw new RangeError('always'); };",
          "exports.once = async () => { onceCalls += 1; if (onceCalls === 1) throw new TypeError('first'); return { calls: onceCalls }; };",
          "exports.twice = async () => { twiceCalls += 1; if (twiceCalls <= 2) throw new TypeError('early'); return { calls: twiceCalls }; };",
          '',
        ].join('\n'),
      },
      { options: { asyncRetryDelayMs: retryDelayMs } },
    );
    platform = svc.platform;
  });
  after(() => svc?.close());

  test('list (newest first) and show through the CLI', async () => {
    const first = await invokeEvent('tasks-dev-ok', { n: 1 });
    const second = await invokeEvent('tasks-dev-ok', { n: 2 });
    await reaches(first, 'Succeeded');
    await reaches(second, 'Succeeded');

    const listed = await cli('invocations', '-f', 'ok', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const { invocations } = JSON.parse(listed.stdout) as { invocations: InvocationRecord[] };
    assert.deepEqual(
      invocations.map((r) => r.id),
      [second, first],
    );
    assert.equal(invocations[0]!.status, 'Succeeded');

    const table = await cli('invocations', '-f', 'ok');
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0]!, /^ID\s+STATUS\s+ATTEMPTS\s+CREATED\s+LAST ERROR$/);
    assert.match(lines[1]!, new RegExp(`^${second}\\s+Succeeded\\s+1\\s+\\d{4}-`));

    const limited = await cli('invocations', '-f', 'ok', '--limit', '1', '--json');
    assert.equal(JSON.parse(limited.stdout).invocations.length, 1);

    const shown = await cli('invocations', 'show', first, '--json');
    assert.equal(shown.code, 0, shown.stderr);
    const record = JSON.parse(shown.stdout) as InvocationRecord;
    assert.equal(record.id, first);
    assert.equal(record.functionName, 'tasks-dev-ok');
    assert.deepEqual(JSON.parse(record.result!), { echoed: { n: 1 } });

    const pretty = await cli('invocations', 'show', first);
    assert.equal(pretty.code, 0, pretty.stderr);
    assert.match(pretty.stdout, /^status:\s+Succeeded$/m);
    assert.match(pretty.stdout, /^result:\n {2}\{\n {4}"echoed"/m);
  });

  test('--status failed lists only failed ones; the table shows the error type', async () => {
    const failed = await invokeEvent('tasks-dev-bad', {});
    await reaches(failed, 'Failed');
    const res = await cli('invocations', '-f', 'bad', '--status', 'failed', '--json');
    assert.equal(res.code, 0, res.stderr);
    const { invocations } = JSON.parse(res.stdout) as { invocations: InvocationRecord[] };
    assert.ok(invocations.some((r) => r.id === failed));
    assert.ok(invocations.every((r) => r.status === 'Failed'));
    const none = await cli('invocations', '-f', 'bad', '--status', 'SUCCEEDED', '--json');
    assert.deepEqual(JSON.parse(none.stdout).invocations, []);
    const table = await cli('invocations', '-f', 'bad', '--status', 'failed');
    assert.match(table.stdout, new RegExp(`^${failed}\\s+Failed\\s+1\\s+\\S+\\s+RangeError$`, 'm'));
  });

  test('stop a retrying task: it never runs again', async () => {
    const id = await invokeEvent('tasks-dev-retried', {});
    await reaches(id, 'Retrying');
    const stopped = await cli('invocations', 'stop', id, '--json');
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal((JSON.parse(stopped.stdout) as InvocationRecord).status, 'Stopped');
    // Well past the retry it would have had.
    await new Promise((r) => setTimeout(r, retryDelayMs * 3));
    const record = (await platform.records.get(id))!;
    assert.equal(record.status, 'Stopped');
    assert.equal(record.attempts, 1);
    const stats = await platform.queue.stats('tasks-dev-retried');
    assert.deepEqual(
      { ready: stats.ready, delayed: stats.delayed, leased: stats.leased },
      { ready: 0, delayed: 0, leased: 0 },
    );
  });

  test('stop of a finished task: 409, and the CLI exits 1', async () => {
    const id = await invokeEvent('tasks-dev-ok', { stop: 'late' });
    await reaches(id, 'Succeeded');
    const res = await api('POST', `/v1/invocations/${id}/stop`);
    assert.equal(res.status, 409);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'NIMBUS_ASYNC_FINISHED');
    assert.match(body.error.message, /already Succeeded/);
    const cliRes = await cli('invocations', 'stop', id);
    assert.equal(cliRes.code, 1);
    assert.match(cliRes.stderr, /already Succeeded/);
    assert.equal((await platform.records.get(id))!.status, 'Succeeded');
  });

  test('dead letters: listed, redriven by id, and the record reaches Succeeded', async () => {
    const id = await invokeEvent('tasks-dev-once', { order: 7 });
    const failed = await reaches(id, 'Failed');
    assert.deepEqual(failed.destination, { type: 'dead-letter', status: 'Stored' });

    const listed = await cli('invocations', 'dead', '-f', 'once', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const { deadLetters } = JSON.parse(listed.stdout) as {
      deadLetters: { id: string; payload: { requestId: string } }[];
    };
    assert.equal(deadLetters.length, 1);
    assert.equal(deadLetters[0]!.payload.requestId, id);
    const table = await cli('invocations', 'dead', '-f', 'once');
    assert.match(table.stdout, /RetriesExhausted: TypeError/);

    const redriven = await cli('invocations', 'redrive', '-f', 'once', '--id', deadLetters[0]!.id);
    assert.equal(redriven.code, 0, redriven.stderr);
    assert.match(redriven.stderr, /Redriven 1 dead letter of once \(tasks-dev-once\)/);
    const done = await reaches(id, 'Succeeded');
    assert.deepEqual(JSON.parse(done.result!), { calls: 2 });
    assert.deepEqual(done.destination, { type: 'dead-letter', status: 'Redriven' });
    assert.deepEqual(await platform.queue.listDead('tasks-dev-once', { limit: 10 }), []);

    const again = await cli('invocations', 'redrive', '-f', 'once', '--json');
    assert.deepEqual(JSON.parse(again.stdout), { redriven: 0 });
  });

  test('redrive of all dead letters through the API', async () => {
    const ids = [await invokeEvent('tasks-dev-twice', { k: 1 })];
    await reaches(ids[0]!, 'Failed');
    ids.push(await invokeEvent('tasks-dev-twice', { k: 2 }));
    await reaches(ids[1]!, 'Failed');
    const res = await api('POST', '/v1/functions/tasks-dev-twice/dead-letters/redrive');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { redriven: 2 });
    for (const id of ids) await reaches(id, 'Succeeded');
  });

  test('bad parameters: 400 with a clear message', async () => {
    const cases: [string, RegExp][] = [
      ['?limit=0', /limit must be an integer from 1 to 1000/],
      ['?limit=1001', /limit must be an integer from 1 to 1000/],
      ['?limit=abc', /limit must be/],
      ['?status=done', /status must be one of Enqueued, Running/],
      ['?statuz=failed', /unknown parameter "statuz"/],
      ['?limit=1&limit=2', /more than once/],
    ];
    for (const [query, message] of cases) {
      const res = await api('GET', `/v1/functions/tasks-dev-ok/invocations${query}`);
      assert.equal(res.status, 400, query);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'NIMBUS_ASYNC_BAD_PARAM');
      assert.match(body.error.message, message);
    }
    const dead = await api('GET', '/v1/functions/tasks-dev-ok/dead-letters?limit=-1');
    assert.equal(dead.status, 400);
    for (const body of [{ ids: 'x' }, { ids: [1] }, [], { other: 1 }]) {
      const res = await api('POST', '/v1/functions/tasks-dev-ok/dead-letters/redrive', body);
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    const cliRes = await cli('invocations', '-f', 'ok', '--status', 'done');
    assert.equal(cliRes.code, 1);
    assert.match(cliRes.stderr, /status must be one of/);
  });

  test('unknown ids, functions and keys: 404 and clear CLI errors', async () => {
    for (const [method, path] of [
      ['GET', '/v1/invocations/nope'],
      ['POST', '/v1/invocations/nope/stop'],
      ['GET', '/v1/functions/tasks-dev-nope/invocations'],
      ['GET', '/v1/functions/tasks-dev-nope/dead-letters'],
      ['POST', '/v1/functions/tasks-dev-nope/dead-letters/redrive'],
    ] as const) {
      const res = await api(method, path);
      assert.equal(res.status, 404, path);
      assert.equal(
        ((await res.json()) as { error: { code: string } }).error.code,
        'NIMBUS_NOT_FOUND',
      );
    }
    const show = await cli('invocations', 'show', 'nope');
    assert.equal(show.code, 1);
    assert.match(show.stderr, /invocation "nope" does not exist/);
    const key = await cli('invocations', '-f', 'nope');
    assert.equal(key.code, 1);
    assert.match(key.stderr, /Function "nope" is not defined.*ok, bad, retried, once, twice/);
    const missing = await cli('invocations', 'dead');
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /Missing -f <function>; the functions of service "tasks" are: ok, bad/,
    );
  });

  test('missing token: 401', async () => {
    for (const [method, path] of [
      ['GET', '/v1/functions/tasks-dev-ok/invocations'],
      ['GET', '/v1/invocations/nope'],
      ['POST', '/v1/invocations/nope/stop'],
      ['POST', '/v1/functions/tasks-dev-ok/dead-letters/redrive'],
    ] as const) {
      const res = await api(method, path, undefined, '');
      assert.equal(res.status, 401, path);
    }
  });
});
