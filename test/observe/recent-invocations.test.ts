import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type CliPlatform, startWithService } from '../helpers/cli-platform.js';

describe('recent invocations from REPORT lines', () => {
  let p: CliPlatform;
  const get = (path: string) =>
    fetch(`${p.platform.url}${path}`, {
      headers: { authorization: `Bearer ${p.platform.adminToken}` },
    });

  before(async () => {
    p = await startWithService({
      'serverless.yml':
        'service: recent\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n  fn:\n    handler: handler.fn\n',
      'handler.js':
        "exports.fn = async (e) => { if (e.fail) throw new Error('boom'); return 'ok'; };\n",
    });
    for (const event of [{}, {}, { fail: true }]) {
      await p.platform.invoker.invoke('recent-dev-fn', undefined, {
        payload: JSON.stringify(event),
      });
    }
  });
  after(() => p?.close());

  test('newest first, with duration, memory, cold start and failure', async () => {
    const res = await get('/v1/functions/recent-dev-fn/invocations/recent?limit=10');
    assert.equal(res.status, 200);
    const { invocations } = (await res.json()) as {
      invocations: {
        coldStart: boolean;
        failed: boolean;
        durationMs: number;
        memorySizeMb: number;
        version: string;
      }[];
    };
    assert.equal(invocations.length, 3);
    assert.deepEqual(
      invocations.map((i) => [i.coldStart, i.failed]),
      [
        [false, true],
        [false, false],
        [true, false],
      ],
    );
    for (const i of invocations) {
      assert.equal(i.memorySizeMb, 1024);
      assert.ok(i.durationMs >= 0);
      assert.equal(i.version, '1');
    }
    const one = await get('/v1/functions/recent-dev-fn/invocations/recent?limit=1');
    assert.equal(((await one.json()) as { invocations: unknown[] }).invocations.length, 1);
  });

  test('bad limits and unknown functions are refused', async () => {
    assert.equal((await get('/v1/functions/recent-dev-fn/invocations/recent?limit=0')).status, 400);
    assert.equal((await get('/v1/functions/recent-dev-fn/invocations/recent?limit=x')).status, 400);
    assert.equal((await get('/v1/functions/nope/invocations/recent')).status, 404);
    const anonymous = await fetch(
      `${p.platform.url}/v1/functions/recent-dev-fn/invocations/recent`,
    );
    assert.equal(anonymous.status, 401);
  });
});
