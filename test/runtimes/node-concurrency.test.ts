import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InvokeResult } from '../../src/model/invocation.js';
import { type Instance, startInstance } from '../../src/platform/pool/instance.js';
import { InstancePool } from '../../src/platform/pool/instance-pool.js';
import {
  fixture,
  LogCollector,
  makeTarget,
  makeTmpRoot,
  nobody,
  request,
} from './instance-helpers.js';

function ok(result: InvokeResult): Record<string, number> {
  assert.equal(result.outcome.status, 'ok', JSON.stringify(result.outcome));
  return JSON.parse((result.outcome as { payload: string }).payload);
}

function errorOf(result: InvokeResult) {
  assert.equal(result.outcome.status, 'error', JSON.stringify(result.outcome));
  return (result.outcome as Extract<InvokeResult['outcome'], { status: 'error' }>).error;
}

const code = () => fixture('node-concurrent');
const concurrentTarget = (handler: string, extra = {}) =>
  makeTarget('nodejs', code(), `handler.${handler}`, { concurrency: 4, timeout: 5, ...extra });
const later = (ms = 5000) => ({ deadlineMs: Date.now() + ms });

describe('a Node instance with concurrency 4', () => {
  let tmp: Awaited<ReturnType<typeof makeTmpRoot>>;
  const started: Instance[] = [];
  const logs = new LogCollector();
  const start = async (handler: string, extra = {}) => {
    const instance = await startInstance({
      target: concurrentTarget(handler, extra),
      instanceId: `c${started.length}`,
      tmpRoot: tmp.dir,
      onLog: logs.onLog,
      runAsUser: nobody,
    });
    started.push(instance);
    return instance;
  };

  before(async () => {
    tmp = await makeTmpRoot();
  });
  after(async () => {
    for (const instance of started) instance.kill();
    await Promise.all(started.map((i) => i.closed));
    await tmp.cleanup();
  });

  test('serves 4 at once in one process, module state shared, each log line under its own request id', async () => {
    const instance = await start('barrier');
    assert.equal(instance.capacity, 4);
    // The barrier opens only once 4 invocations are in flight together: one at a time would hang.
    const reqs = [0, 1, 2, 3].map((i) => request({ i, n: 4 }, later()));
    const results = await Promise.all(reqs.map((r) => instance.invoke(r)));
    const bodies = results.map(ok);
    assert.deepEqual(new Set(bodies.map((b) => b.pid)), new Set([instance.pid]));
    assert.deepEqual(
      bodies.map((b) => b.maxInflight),
      [4, 4, 4, 4],
    );
    assert.equal(Math.max(...bodies.map((b) => b.served as number)), 4);
    for (const [i, r] of reqs.entries()) {
      const lines = logs.forRequest(r.requestId);
      assert.ok(lines[0]?.startsWith(`START RequestId: ${r.requestId}`), lines.join('\n'));
      assert.ok(lines.some((l) => l.endsWith(`\tINFO\tbegin ${i}`) && l.includes(r.requestId)));
      assert.ok(lines.some((l) => l.endsWith(`\tINFO\tend ${i}`) && l.includes(r.requestId)));
      assert.ok(lines.some((l) => l.startsWith(`REPORT RequestId: ${r.requestId}`)));
      // No other invocation's lines under this id.
      assert.equal(lines.filter((l) => /\tINFO\t(begin|end) /.test(l)).length, 2);
    }
    assert.equal(instance.state, 'idle');
  });

  test('a fifth request while 4 are in flight is refused by the instance (the pool queues it)', async () => {
    const instance = await start('sleep');
    const running = [0, 1, 2, 3].map((i) => instance.invoke(request({ i, ms: 200 }, later())));
    await assert.rejects(instance.invoke(request({ i: 4, ms: 1 }, later())), {
      code: 'NIMBUS_INSTANCE_NOT_IDLE',
    });
    for (const r of await Promise.all(running)) ok(r);
  });

  test('a callback handler answers on its callback (the event loop is never empty while others run)', async () => {
    const instance = await start('callback');
    const results = await Promise.all(
      [0, 1].map((i) => instance.invoke(request({ i, ms: 20 }, later()))),
    );
    assert.deepEqual(results.map(ok), [{ i: 0 }, { i: 1 }]);
  });

  test('a crash fails every invocation in flight on that instance', async () => {
    const instance = await start('crashLater');
    const results = await Promise.all([
      instance.invoke(request({ i: 0, ms: 3000 }, later())),
      instance.invoke(request({ i: 1, ms: 3000 }, later())),
      instance.invoke(request({ i: 2, crash: true, after: 50, ms: 3000 }, later())),
    ]);
    for (const r of results) {
      assert.equal(errorOf(r).errorType, 'Error');
      assert.equal(errorOf(r).errorMessage, 'boom');
    }
    await instance.closed;
    assert.equal(instance.state, 'dead');
  });

  test('one timing out ends the process, so the others in flight end too (as Cloud Run)', async () => {
    const instance = await start('sleep');
    const [short, long] = await Promise.all([
      instance.invoke(request({ i: 0, ms: 3000 }, later(200))),
      instance.invoke(request({ i: 1, ms: 3000 }, later())),
    ]);
    assert.equal(errorOf(short).errorType, 'Sandbox.Timedout');
    assert.equal(errorOf(long).errorType, 'Runtime.ExitError');
    assert.equal(instance.state, 'dead');
  });
});

describe('the pool with concurrency 4', () => {
  let tmp: Awaited<ReturnType<typeof makeTmpRoot>>;
  let pool: InstancePool;
  let starts = 0;

  before(async () => {
    tmp = await makeTmpRoot();
    pool = new InstancePool({
      clock: { now: () => Date.now() },
      idleTimeoutMs: 60_000,
      maxInstances: 10,
      factory: (target) => {
        starts++;
        return startInstance({
          target,
          instanceId: `p${starts}`,
          tmpRoot: tmp.dir,
          onLog: () => {},
          runAsUser: nobody,
        });
      },
    });
  });
  after(async () => {
    await pool.close();
    await tmp.cleanup();
  });

  test('hands one instance up to 4 requests: 8 concurrent requests need 2 processes', async () => {
    const target = concurrentTarget('barrier');
    // First a proven init (one start while unproven), then a burst of 8 in two barriers of 4.
    ok(await pool.invoke(target, request({ i: -1, n: 1 }, later())));
    const results = await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => pool.invoke(target, request({ i, n: 4 }, later()))),
    );
    const pids = new Set(results.map((r) => ok(r).pid));
    assert.ok(pids.size <= 2, `8 requests used ${pids.size} processes`);
    assert.ok(starts <= 2, `${starts} instances started`);
    assert.equal(pool.countFor(target.functionName, target.version), starts);
  });

  test('without concurrency each instance serves one request at a time (Lambda)', async () => {
    const target = makeTarget('nodejs', code(), 'handler.barrier', { version: '4', timeout: 5 });
    const results = await Promise.all(
      [0, 1, 2, 3].map((i) => pool.invoke(target, request({ i, n: 1 }, later()))),
    );
    // Module state counts the invocations in flight together: never more than one.
    assert.deepEqual(
      results.map((r) => ok(r).maxInflight),
      [1, 1, 1, 1],
    );
  });
});
