import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InvokeResult } from '../../src/model/invocation.js';
import { InstanceError, startGenericRuntime } from '../../src/platform/pool/instance.js';
import { fixture, makeTarget, makeTmpRoot, nobody, request } from './instance-helpers.js';

function ok(result: InvokeResult): unknown {
  assert.equal(result.outcome.status, 'ok', JSON.stringify(result.outcome));
  return JSON.parse((result.outcome as { payload: string }).payload);
}

describe('prewarmed generic runtimes', () => {
  let tmp: Awaited<ReturnType<typeof makeTmpRoot>>;
  before(async () => {
    tmp = await makeTmpRoot();
  });
  after(() => tmp.cleanup());

  test('node: boots without user code, specialize() loads it, the first invoke answers', async () => {
    const generic = await startGenericRuntime('nodejs', {
      tmpRoot: tmp.dir,
      runAsUser: nobody,
      memorySize: 256,
    });
    assert.equal(generic.state, 'ready');
    const target = makeTarget('nodejs', fixture('node-cjs'), 'handler.route', {
      environment: { STAGE: 'prod' },
    });
    const instance = await generic.specialize(target, {
      instanceId: 'warm1',
      onLog: () => {},
      initializationType: 'provisioned-concurrency',
    });
    assert.equal(generic.state, 'specialized');
    assert.equal(instance.state, 'idle');
    assert.equal(instance.pid, generic.pid);
    const result = await instance.invoke(request({ use: 'env' }));
    const { env, cwd } = ok(result) as { env: Record<string, string>; cwd: string };
    assert.equal(env.STAGE, 'prod');
    assert.equal(env.AWS_LAMBDA_INITIALIZATION_TYPE, 'provisioned-concurrency');
    assert.equal(env.AWS_LAMBDA_FUNCTION_NAME, 'svc-dev-fn');
    assert.equal(cwd, fixture('node-cjs'));
    assert.ok(result.initDurationMs !== undefined && result.initDurationMs < 1000);

    await assert.rejects(
      generic.specialize(target, { instanceId: 'again', onLog: () => {} }),
      (err: unknown) => err instanceof InstanceError && err.code === 'NIMBUS_INSTANCE_NOT_READY',
    );
    await instance.stop();
    await generic.closed;
  });

  test('python: the same, and a runtime of the wrong family is refused', async () => {
    const generic = await startGenericRuntime('python', { tmpRoot: tmp.dir, runAsUser: nobody });
    await assert.rejects(
      generic.specialize(makeTarget('nodejs', fixture('node-cjs'), 'handler.route'), {
        instanceId: 'wrong',
        onLog: () => {},
      }),
      (err: unknown) => err instanceof InstanceError && err.code === 'NIMBUS_INSTANCE_CONFIG',
    );
    const instance = await generic.specialize(
      makeTarget('python', fixture('python'), 'handler.route'),
      { instanceId: 'warm2', onLog: () => {} },
    );
    assert.deepEqual(ok(await instance.invoke(request({ use: 'echo' }))), {
      event: { use: 'echo' },
      calls: 1,
    });
    await instance.stop();
  });

  test('a generic runtime that died cannot be specialized', async () => {
    const generic = await startGenericRuntime('nodejs', { tmpRoot: tmp.dir, runAsUser: nobody });
    generic.kill();
    assert.equal(generic.state, 'dead');
    await generic.closed;
    await assert.rejects(
      generic.specialize(makeTarget('nodejs', fixture('node-cjs'), 'handler.route'), {
        instanceId: 'gone',
        onLog: () => {},
      }),
      (err: unknown) => err instanceof InstanceError && err.code === 'NIMBUS_INSTANCE_NOT_READY',
    );
  });
});
