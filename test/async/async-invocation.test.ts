import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { type RunningPlatform, startPlatform } from '../../src/platform/server.js';
import { connectTestNats, testNatsUrl, uniqueNatsPrefix } from '../helpers/nats.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { waitForValue as until } from '../helpers/wait-for.js';

interface DeliveredRecord {
  requestContext: { requestId: string; condition: string; approximateInvokeCount: number };
  requestPayload: unknown;
  responsePayload: unknown;
  responseContext: { executedVersion: string };
}

/** The SQL queue in the store (the default), and NATS JetStream through the outbox (--nats-url). */
const queues: { name: string; nats?: { url: string; prefix: string } }[] = [
  { name: 'the SQL queue' },
  { name: 'NATS JetStream', nats: { url: testNatsUrl, prefix: uniqueNatsPrefix() } },
];

for (const variant of queues)
  describe(`asynchronous invocation on a real platform (${variant.name})`, () => {
    let platform: RunningPlatform;
    let cleanup: () => Promise<void>;
    let hook: Server;
    const received: unknown[] = [];

    const invokeEvent = (name: string, payload: unknown, headers: Record<string, string> = {}) =>
      fetch(`${platform.url}/2015-03-31/functions/${name}/invocations`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${platform.adminToken}`,
          'x-amz-invocation-type': 'Event',
          ...headers,
        },
        body: JSON.stringify(payload),
      });

    before(async () => {
      hook = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          received.push(JSON.parse(body));
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
      const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
      const tmp = await makeTempDir();
      const cwd = join(tmp.dir, 'svc');
      await mkdir(cwd);
      await writeFile(
        join(cwd, 'serverless.yml'),
        [
          'service: later',
          'provider: { name: aws, runtime: nodejs20.x }',
          'functions:',
          '  ok:',
          '    handler: handler.ok',
          '    events: [{ http: { path: fire, method: post, async: true } }]',
          `    destinations: { onSuccess: '${hookUrl}' }`,
          '  flaky:',
          '    handler: handler.flaky',
          '    maximumRetryAttempts: 2',
          '  bad:',
          '    handler: handler.bad',
          '    maximumRetryAttempts: 1',
          '    destinations: { onFailure: sink }',
          '  dead:',
          '    handler: handler.bad',
          '    maximumRetryAttempts: 0',
          '  sink:',
          '    handler: handler.sink',
          '',
        ].join('\n'),
      );
      await writeFile(
        join(cwd, 'handler.js'),
        [
          'let calls = 0;',
          'exports.ok = async (e) => ({ echoed: e });',
          "exports.flaky = async () => { calls += 1; if (calls < 3) throw new Error('flaky ' + calls); return { calls }; };",
          "exports.bad = async () => { throw new RangeError('always'); };",
          'exports.sink = async (record) => record;',
          '',
        ].join('\n'),
      );
      platform = await startPlatform({
        host: '127.0.0.1',
        port: 0,
        dataDir: join(tmp.dir, 'data'),
        logger: pino({ level: 'silent' }),
        asyncRetryDelayMs: 50,
        ...(variant.nats ? { natsUrl: variant.nats.url, natsPrefix: variant.nats.prefix } : {}),
      });
      const env = {
        HOME: tmp.dir,
        NIMBUS_ENDPOINT: platform.url,
        NIMBUS_TOKEN: platform.adminToken,
      };
      const res = await runCli(['deploy'], { cwd, env });
      assert.equal(res.code, 0, res.stderr);
      cleanup = async () => {
        await platform.close();
        hook.close();
        await tmp.cleanup();
        if (variant.nats) {
          const nc = await connectTestNats();
          const jsm = await nc.jetstreamManager();
          for (const s of ['WORK', 'DEAD']) {
            await jsm.streams.delete(`${variant.nats.prefix}_${s}`).catch(() => undefined);
          }
          await nc.close();
        }
      };
    });
    after(() => cleanup());

    test('Event: 202 with a request id, the function runs, onSuccess gets the invocation record', async () => {
      const res = await invokeEvent('later-dev-ok', { n: 1 });
      assert.equal(res.status, 202);
      const id = res.headers.get('x-amzn-requestid')!;
      const record = await until(async () => {
        const r = await platform.records.get(id);
        return r?.status === 'Succeeded' ? r : undefined;
      }, 'success');
      assert.deepEqual(JSON.parse(record.result!), { echoed: { n: 1 } });
      const delivered = (await until(
        async () => received[0],
        'the destination',
      )) as DeliveredRecord;
      assert.equal(delivered.requestContext.requestId, id);
      assert.equal(delivered.requestContext.condition, 'Success');
      assert.equal(delivered.requestContext.approximateInvokeCount, 1);
      assert.deepEqual(delivered.requestPayload, { n: 1 });
      assert.deepEqual(delivered.responsePayload, { echoed: { n: 1 } });
      assert.equal(delivered.responseContext.executedVersion, '1');
    });

    test('an http route with async: true answers at once and runs the event in the background', async () => {
      const res = await fetch(`${platform.url}/later-dev/fire`, {
        method: 'POST',
        body: '{"via":"http"}',
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {});
      const record = await until(async () => {
        const [r] = await platform.records
          .list('later-dev-ok', { status: 'Succeeded', limit: 50 })
          .then((all) => all.filter((x) => x.result?.includes('via')));
        return r;
      }, 'the background run');
      assert.equal(JSON.parse(JSON.parse(record.result!).echoed.body).via, 'http');
    });

    test('function errors are retried maximumRetryAttempts times', async () => {
      const res = await invokeEvent('later-dev-flaky', {});
      const id = res.headers.get('x-amzn-requestid')!;
      const record = await until(async () => {
        const r = await platform.records.get(id);
        return r?.status === 'Succeeded' ? r : undefined;
      }, 'the third attempt');
      assert.equal(record.attempts, 3);
      assert.deepEqual(JSON.parse(record.result!), { calls: 3 });
    });

    test('exhausted retries go to onFailure with RetriesExhausted', async () => {
      const res = await invokeEvent('later-dev-bad', { why: 'test' });
      const id = res.headers.get('x-amzn-requestid')!;
      const record = await until(async () => {
        const r = await platform.records.get(id);
        return r?.status === 'Failed' ? r : undefined;
      }, 'failure');
      assert.equal(record.attempts, 2);
      assert.equal((record.lastError as { errorType: string }).errorType, 'RangeError');
      const dest = record.destination as { type: string; status: string; requestId: string };
      assert.equal(dest.type, 'function');
      const sink = await until(async () => {
        const r = await platform.records.get(dest.requestId);
        return r?.status === 'Succeeded' ? r : undefined;
      }, 'the sink');
      const got = JSON.parse(sink.result!);
      assert.equal(got.requestContext.condition, 'RetriesExhausted');
      assert.equal(got.requestContext.approximateInvokeCount, 2);
      assert.equal(got.responseContext.functionError, 'Unhandled');
      assert.equal(got.responsePayload.errorType, 'RangeError');
    });

    test('no onFailure: the event lands in the dead-letter list', async () => {
      const res = await invokeEvent('later-dev-dead', {});
      const id = res.headers.get('x-amzn-requestid')!;
      await until(async () => {
        const r = await platform.records.get(id);
        return r?.status === 'Failed' ? r : undefined;
      }, 'failure');
      // Through the outbox the dead letter reaches NATS after the settle's commit (and its sync):
      // the record can read Failed a moment before it is listed.
      const dead = await until(async () => {
        const d = await platform.queue.listDead('later-dev-dead', { limit: 10 });
        return d.length > 0 ? d : undefined;
      }, 'the dead letter');
      assert.equal(dead.length, 1);
    });

    test('idempotency key: the second event is not run again and gets the first id', async () => {
      const headers = { 'x-nimbus-idempotency-key': 'order-42' };
      const first = await invokeEvent('later-dev-ok', { k: 1 }, headers);
      const second = await invokeEvent('later-dev-ok', { k: 2 }, headers);
      assert.equal(second.status, 202);
      assert.equal(second.headers.get('x-amzn-requestid'), first.headers.get('x-amzn-requestid'));
    });

    test('bad input: oversized async payload 413, unknown function 404; nothing stored', async () => {
      const before = await platform.records.countByStatus();
      const big = await invokeEvent('later-dev-ok', { big: 'x'.repeat(1024 * 1024) });
      assert.equal(big.status, 413);
      const missing = await invokeEvent('later-dev-nope', {});
      assert.equal(missing.status, 404);
      const afterCounts = await platform.records.countByStatus();
      const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
      assert.equal(total(afterCounts), total(before));
    });
  });
