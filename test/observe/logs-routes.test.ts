import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LogEvent } from '../../src/model/invocation.js';
import { type LogsServer, startLogsServer, until } from './logs-server.js';

const fn = 'svc-dev-hello';
const line = (message: string, timestamp: number, functionName = fn): LogEvent => ({
  functionName,
  version: '1',
  logStream: '2024/01/02/[1]i1',
  requestId: 'r1',
  timestamp,
  message,
});

describe('log routes', () => {
  let server: LogsServer;
  const get = (path: string, token: string | null = server.token, signal?: AbortSignal) =>
    fetch(`${server.url}${path}`, {
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
      ...(signal ? { signal } : {}),
    });

  before(async () => {
    server = await startLogsServer({ functions: [fn, 'svc-dev-quiet'], keepAliveMs: 50 });
    for (let i = 0; i < 5; i++) server.pipeline.write(line(`line ${i}`, 1000 + i));
    server.pipeline.write(line('ERROR failed', 2000));
    server.pipeline.write(line('someone else', 2000, 'svc-dev-other'));
  });
  after(() => server.close());

  test('a page: buffered lines are visible at once, with ids and the next cursor', async () => {
    const res = await get(`/v1/functions/${fn}/logs?limit=4`);
    assert.equal(res.status, 200);
    const page = (await res.json()) as { events: (LogEvent & { id: number })[]; next: number };
    assert.deepEqual(
      page.events.map((e) => e.message),
      ['line 0', 'line 1', 'line 2', 'line 3'],
    );
    assert.deepEqual(page.events[0], { id: page.events[0]!.id, ...line('line 0', 1000) });
    assert.equal(page.next, page.events[3]!.id);
    const rest = (await (await get(`/v1/functions/${fn}/logs?after=${page.next}`)).json()) as {
      events: LogEvent[];
      next: number | null;
    };
    assert.deepEqual(
      rest.events.map((e) => e.message),
      ['line 4', 'ERROR failed'],
    );
    assert.equal(rest.next, null, 'no cursor once the last page is read');
  });

  test('time range and filter', async () => {
    const res = await get(`/v1/functions/${fn}/logs?startTime=1003&endTime=2000&filter=ERROR`);
    const page = (await res.json()) as { events: LogEvent[] };
    assert.deepEqual(
      page.events.map((e) => e.message),
      ['ERROR failed'],
    );
  });

  test('bad parameters: 400 with a message naming the parameter', async () => {
    for (const [query, pattern] of [
      ['limit=0', /limit must be an integer from 1 to 10000/],
      ['limit=abc', /limit/],
      ['startTime=10m', /startTime must be epoch milliseconds/],
      ['startTime=5&endTime=4', /endTime is before startTime/],
      ['after=-1', /after/],
      ['start_time=1', /unknown parameter "start_time"/],
      ['limit=1&limit=2', /more than once/],
    ] as const) {
      const res = await get(`/v1/functions/${fn}/logs?${query}`);
      assert.equal(res.status, 400, query);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'NIMBUS_LOGS_BAD_PARAM');
      assert.match(body.error.message, pattern);
    }
    const tail = await get(`/v1/functions/${fn}/logs/tail?limit=5`);
    assert.equal(tail.status, 400, 'the tail takes no limit');
  });

  test('unknown function: 404 NIMBUS_NOT_FOUND; no token: 401', async () => {
    for (const path of ['/v1/functions/nope/logs', '/v1/functions/nope/logs/tail']) {
      const res = await get(path);
      assert.equal(res.status, 404);
      assert.equal(
        ((await res.json()) as { error: { code: string } }).error.code,
        'NIMBUS_NOT_FOUND',
      );
    }
    assert.equal((await get(`/v1/functions/${fn}/logs`, null)).status, 401);
  });

  test('tail: stored history, then unstored lines, then live ones; none twice', async () => {
    const quiet = 'svc-dev-quiet';
    server.pipeline.write(line('stored', 10, quiet));
    await server.pipeline.flush();
    server.pipeline.write(line('unstored', 11, quiet));

    const controller = new AbortController();
    const res = await get(`/v1/functions/${quiet}/logs/tail`, server.token, controller.signal);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /application\/x-ndjson/);
    const received: (LogEvent & { id?: number })[] = [];
    let blankLines = 0;
    const reading = (async () => {
      const decoder = new TextDecoder();
      let partial = '';
      try {
        for await (const chunk of res.body!) {
          partial += decoder.decode(chunk as Uint8Array, { stream: true });
          const lines = partial.split('\n');
          partial = lines.pop()!;
          for (const l of lines) {
            if (l === '') blankLines++;
            else received.push(JSON.parse(l));
          }
        }
      } catch {
        // Aborted at the end of the test.
      }
    })();

    await until(() => received.length === 2);
    server.pipeline.write(line('live', 12, quiet));
    server.pipeline.write(line('live, filtered out elsewhere', 13, 'svc-dev-other'));
    await until(() => received.length === 3);
    await server.pipeline.flush();
    await until(() => blankLines >= 1);
    controller.abort();
    await reading;

    assert.deepEqual(
      received.map((e) => e.message),
      ['stored', 'unstored', 'live'],
    );
    assert.equal(typeof received[0]!.id, 'number', 'a stored line carries its id');
    assert.equal(received[2]!.id, undefined, 'a live line is sent before it has one');
    await until(() => server.followers.get(quiet) === 0);
  });

  test('tail honours startTime and filter for history and live lines alike', async () => {
    const controller = new AbortController();
    const res = await get(
      `/v1/functions/${fn}/logs/tail?startTime=1002&filter=line`,
      server.token,
      controller.signal,
    );
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (count: number) => {
      while (text.split('\n').filter((l) => l !== '').length < count) {
        const { value } = await reader.read();
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil(3);
    server.pipeline.write(line('no match', 3000));
    server.pipeline.write(line('line live', 999));
    server.pipeline.write(line('line live 2', 3001));
    await readUntil(4);
    controller.abort();
    const messages = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as LogEvent).message);
    assert.deepEqual(messages, ['line 2', 'line 3', 'line 4', 'line live 2']);
  });
});
