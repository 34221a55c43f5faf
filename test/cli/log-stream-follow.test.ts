import assert from 'node:assert/strict';
import { test } from 'node:test';
import { followLogStream } from '../../src/cli/log-stream-follow.js';
import { ApiError } from '../../src/client/control-client.js';
import type { LogLine, LogsClient } from '../../src/client/logs-client.js';

const line = (timestamp: number, message: string) => ({ timestamp, message }) as LogLine;

/** A tail endpoint that serves one scripted stream per connection and records each startTime. */
function scriptedClient(streams: Array<LogLine[] | Error>) {
  const startTimes: number[] = [];
  const client = {
    endpoint: 'http://test',
    async *tail(_name: string, params: { startTime?: number }) {
      startTimes.push(params.startTime ?? -1);
      const next = streams.shift();
      if (next === undefined) throw new Error('no more streams');
      if (next instanceof Error) throw next;
      for (const l of next) yield l;
    },
  } as unknown as LogsClient;
  return { client, startTimes };
}

test('a lost stream is picked up from the last line + 1 ms, each line once', async () => {
  const { client, startTimes } = scriptedClient([
    [line(100, 'a'), line(105, 'b')],
    new Error('socket hang up'),
    [line(106, 'c')],
    new ApiError(404, 'NIMBUS_NOT_FOUND', 'gone'),
  ]);
  const seen: string[] = [];
  const lost: Array<[string, boolean]> = [];
  await followLogStream(
    client,
    'svc-dev-hello',
    {
      startTime: 50,
      retryMs: 1,
      onLine: (l) => seen.push(l.message),
      onLost: (error, connected) => {
        lost.push([error instanceof Error ? error.message : 'ended', connected]);
        return error instanceof ApiError ? 'stop' : undefined;
      },
    },
    new AbortController().signal,
  );
  assert.deepEqual(seen, ['a', 'b', 'c']);
  assert.deepEqual(startTimes, [50, 106, 106, 107]);
  assert.deepEqual(lost, [
    ['ended', true],
    ['socket hang up', true],
    ['ended', true],
    ['gone', true],
  ]);
});

test('onLost may end the follow with an error; a platform never reached is not "connected"', async () => {
  const { client } = scriptedClient([new Error('connect ECONNREFUSED')]);
  await assert.rejects(
    followLogStream(
      client,
      'f',
      {
        startTime: 0,
        retryMs: 1,
        onLine: () => {},
        onLost: (error, connected) => {
          assert.equal(connected, false);
          throw error;
        },
      },
      new AbortController().signal,
    ),
    /ECONNREFUSED/,
  );
});

test('an abort during the wait before reconnecting ends the follow at once', async () => {
  const { client, startTimes } = scriptedClient([[line(1, 'x')], [line(2, 'y')]]);
  const controller = new AbortController();
  const done = followLogStream(
    client,
    'f',
    {
      startTime: 0,
      retryMs: 60_000,
      onLine: () => {},
      onLost: () => {
        setImmediate(() => controller.abort());
        return undefined;
      },
    },
    controller.signal,
  );
  await done;
  assert.deepEqual(startTimes, [0]);
});
