import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LogEvent } from '../../src/model/invocation.js';
import { LogPipeline } from '../../src/platform/observe/log-pipeline.js';
import { type LogsServer, startLogsServer, until } from './logs-server.js';

const fn = 'svc-dev-multi';
const line = (message: string, timestamp: number): LogEvent => ({
  functionName: fn,
  version: '1',
  logStream: '2024/01/02/[1]i1',
  requestId: 'r1',
  timestamp,
  message,
});

/**
 * A live tail in cluster mode (docs/cluster.md): lines this node writes arrive live, lines
 * another node stores (a second pipeline on the same store) arrive through the store; none twice.
 */
describe('a live tail shows every node’s lines', () => {
  let server: LogsServer;
  let otherNode: LogPipeline;
  before(async () => {
    server = await startLogsServer({ functions: [fn], keepAliveMs: 50, otherNodesEveryMs: 25 });
    otherNode = new LogPipeline({ store: server.store, pruneEveryMs: 0 });
  });
  after(async () => {
    await otherNode.stop();
    await server.close();
  });

  test('history, this node’s live lines and another node’s stored ones, each once', async () => {
    server.pipeline.write(line('history here', 1));
    otherNode.write(line('history there', 2));
    await server.pipeline.flush();
    await otherNode.flush();

    const controller = new AbortController();
    const res = await fetch(`${server.url}/v1/functions/${fn}/logs/tail`, {
      headers: { authorization: `Bearer ${server.token}` },
      signal: controller.signal,
    });
    assert.equal(res.status, 200);
    const received: string[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      let partial = '';
      try {
        for await (const chunk of res.body!) {
          partial += decoder.decode(chunk as Uint8Array, { stream: true });
          const lines = partial.split('\n');
          partial = lines.pop()!;
          for (const l of lines) if (l !== '') received.push((JSON.parse(l) as LogEvent).message);
        }
      } catch {
        // Aborted at the end of the test.
      }
    })();
    await until(() => received.length === 2);

    otherNode.write(line('live there 1', 3));
    await otherNode.flush();
    await until(() => received.includes('live there 1'));
    server.pipeline.write(line('live here', 4));
    await server.pipeline.flush();
    await until(() => received.includes('live here'));
    // Stored after "live here": a read that finds it has read past "live here" too.
    otherNode.write(line('live there 2', 5));
    await otherNode.flush();
    await until(() => received.includes('live there 2'));
    controller.abort();
    await reading;
    assert.deepEqual(received, [
      'history here',
      'history there',
      'live there 1',
      'live here',
      'live there 2',
    ]);
  });
});
