import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FunctionTarget, InvokeResult } from '../../src/model/invocation.js';
import { InstanceError, startInstance } from '../../src/platform/pool/instance.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import {
  fixture,
  LogCollector,
  makeTarget,
  makeTmpRoot,
  nobody,
  request,
} from './instance-helpers.js';

function errorOf(result: InvokeResult) {
  assert.equal(result.outcome.status, 'error', JSON.stringify(result.outcome));
  return (result.outcome as Extract<InvokeResult['outcome'], { status: 'error' }>).error;
}

describe('Node failure modes (each on a fresh instance)', () => {
  let tmp: Awaited<ReturnType<typeof makeTmpRoot>>;
  before(async () => {
    tmp = await makeTmpRoot();
  });
  after(() => tmp.cleanup());

  async function start(overrides: Partial<FunctionTarget> = {}, handler = 'handler.route') {
    const logs = new LogCollector();
    const instance = await startInstance({
      target: makeTarget('nodejs', fixture('node-cjs'), handler, overrides),
      instanceId: 'fail',
      tmpRoot: tmp.dir,
      onLog: logs.onLog,
      runAsUser: nobody,
    });
    return { instance, logs };
  }

  async function assertNotReusable(instance: { invoke: (r: never) => Promise<unknown> }) {
    await assert.rejects(
      instance.invoke(request({ use: 'echo' }) as never),
      (err: unknown) => err instanceof InstanceError && err.code === 'NIMBUS_INSTANCE_NOT_IDLE',
    );
  }

  test('timeout: the process is killed, Sandbox.Timedout with Lambda’s message', async () => {
    const { instance, logs } = await start({ timeout: 1 });
    const req = request({ use: 'spin' });
    const started = Date.now();
    const result = await instance.invoke(req);
    const error = errorOf(result);
    assert.equal(error.errorType, 'Sandbox.Timedout');
    assert.match(
      error.errorMessage,
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z ${req.requestId} Task timed out after 1\\.00 seconds$`,
      ),
    );
    assert.ok(Date.now() - started < 1500);
    assert.equal(instance.state, 'dead');
    const lines = logs.forRequest(req.requestId);
    assert.ok(lines.includes(error.errorMessage), 'the timeout is logged before END');
    assert.match(lines.at(-1) ?? '', /^REPORT /);
    await instance.closed;
    await assertNotReusable(instance);
  });

  test('memory over memorySize: killed, Runtime.OutOfMemory', async () => {
    const { instance } = await start({ memorySize: 128 });
    const result = await instance.invoke(request({ use: 'grow' }));
    const error = errorOf(result);
    assert.equal(error.errorType, 'Runtime.OutOfMemory');
    assert.match(
      error.errorMessage,
      /out of memory: used \d+ MB, over the function's memory size of 128 MB/,
    );
    assert.ok(result.maxMemoryUsedMb > 128, `peak ${result.maxMemoryUsedMb} MB`);
    assert.equal(instance.state, 'dead');
  });

  test('process.exit mid-request: Runtime.ExitError with the exit status', async () => {
    const { instance } = await start();
    const error = errorOf(await instance.invoke(request({ use: 'exit', code: 3 })));
    assert.deepEqual(error, {
      errorType: 'Runtime.ExitError',
      errorMessage: 'Runtime exited with error: exit status 3',
    });
    assert.equal(instance.state, 'dead');
    await assertNotReusable(instance);
  });

  test('killed by a signal mid-request: Runtime.ExitError signal: killed', async () => {
    const { instance } = await start();
    const error = errorOf(await instance.invoke(request({ use: 'killSelf' })));
    assert.deepEqual(error, {
      errorType: 'Runtime.ExitError',
      errorMessage: 'Runtime exited with error: signal: killed',
    });
    assert.equal(instance.state, 'dead');
  });

  test('an uncaught exception fails the request and ends the instance', async () => {
    const { instance } = await start();
    const error = errorOf(await instance.invoke(request({ use: 'uncaught' })));
    assert.equal(error.errorType, 'Error');
    assert.equal(error.errorMessage, 'from a timer');
    assert.equal(instance.state, 'dead');
  });

  test('kill() mid-request ends it with signal: killed; stop() waits for the one in flight', async () => {
    const { instance } = await start();
    const pending = instance.invoke(request({ use: 'sleep', ms: 5000 }));
    instance.kill();
    assert.equal(errorOf(await pending).errorMessage, 'Runtime exited with error: signal: killed');

    const graceful = await start();
    const inFlight = graceful.instance.invoke(request({ use: 'sleep', ms: 100 }));
    await graceful.instance.stop();
    const result = await inFlight;
    assert.equal(result.outcome.status, 'ok');
    assert.equal(graceful.instance.state, 'dead');
  });

  const initCases: [string, string, RegExp][] = [
    ['nope.handler', 'Runtime.ImportModuleError', /^Error: Cannot find module 'nope'/],
    [
      'handler.missing',
      'Runtime.HandlerNotFound',
      /^handler\.missing is undefined or not exported$/,
    ],
    [
      'handler.notAFunction',
      'Runtime.HandlerNotFound',
      /^handler\.notAFunction is not a function$/,
    ],
    [
      'missing-dep.handler',
      'Runtime.ImportModuleError',
      /Cannot find module 'left-pad-that-is-not-installed'/,
    ],
    ['throws-at-init.handler', 'Error', /^init went wrong$/],
    ['nodot', 'Runtime.MalformedHandlerName', /^Bad handler nodot/],
  ];
  for (const [handler, errorType, message] of initCases) {
    test(`init failure ${handler} → ${errorType}, instance dead, not reused`, async () => {
      const { instance, logs } = await start({}, handler);
      assert.equal(instance.state, 'dead');
      assert.equal(instance.initError?.errorType, errorType);
      const req = request({});
      const result = await instance.invoke(req);
      const error = errorOf(result);
      assert.equal(error.errorType, errorType);
      assert.match(error.errorMessage, message);
      assert.ok(result.initDurationMs !== undefined);
      const lines = logs.forRequest(req.requestId);
      assert.equal(lines[0], `START RequestId: ${req.requestId} Version: 3`);
      assert.match(lines.at(-1) ?? '', /\tInit Duration: /);
      await assertNotReusable(instance);
      await instance.closed;
    });
  }

  test('a syntax error in the handler file → Runtime.UserCodeSyntaxError', async () => {
    // Written here rather than kept as a fixture: the linter cannot parse it.
    const code = await makeTempDir('nimbus-rt-code-');
    try {
      await chmod(code.dir, 0o755);
      await writeFile(join(code.dir, 'package.json'), '{}');
      await writeFile(join(code.dir, 'broken.js'), 'exports.handler = async () => {\n');
      const instance = await startInstance({
        target: makeTarget('nodejs', code.dir, 'broken.handler'),
        instanceId: 'syntax',
        tmpRoot: tmp.dir,
        onLog: () => {},
        runAsUser: nobody,
      });
      const error = errorOf(await instance.invoke(request({})));
      assert.equal(error.errorType, 'Runtime.UserCodeSyntaxError');
      assert.match(error.errorMessage, /^SyntaxError: Unexpected end of input/);
      assert.equal(instance.state, 'dead');
    } finally {
      await code.cleanup();
    }
  });
});
