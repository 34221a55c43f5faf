import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type Instance,
  InvalidEntrypointError,
  startInstance,
} from '../../src/platform/pool/instance.js';
import {
  asRoot,
  errorOf,
  fixture,
  LogCollector,
  makeTarget,
  makeTmpRoot,
  nobody,
  ok,
  request,
} from './instance-helpers.js';

describe('a provided instance: a shell + curl bootstrap against the Runtime API', () => {
  let tmp: Awaited<ReturnType<typeof makeTmpRoot>>;
  let instance: Instance;
  const logs = new LogCollector();
  const target = makeTarget('provided', fixture('provided-shell'), 'function.handler');

  before(async () => {
    process.env.NIMBUS_TEST_SECRET = 'must-not-leak';
    tmp = await makeTmpRoot();
    instance = await startInstance({
      target,
      instanceId: 'sh1',
      tmpRoot: tmp.dir,
      onLog: logs.onLog,
      runAsUser: nobody,
    });
  });

  after(async () => {
    delete process.env.NIMBUS_TEST_SECRET;
    instance.kill();
    await instance.closed;
    await tmp.cleanup();
  });

  test('init ends at the first /next; /next carries the Lambda headers', async () => {
    assert.equal(instance.state, 'idle');
    const init = logs.events.find((e) => e.message.startsWith('init: '));
    assert.equal(
      init?.message,
      `init: handler=function.handler task root=${fixture('provided-shell')}`,
    );
    assert.equal(init?.requestId, undefined);

    const req = request({ hello: 'world' }, { tailLogs: true });
    const result = await instance.invoke(req);
    const body = ok(result) as Record<string, unknown>;
    assert.deepEqual(body.event, { hello: 'world' });
    assert.equal(body.requestId, req.requestId);
    assert.equal(body.deadline, req.deadlineMs);
    assert.equal(body.arn, 'arn:aws:lambda:eu-west-1:000000000000:function:svc-dev-fn:3');
    assert.match(
      String(body.trace),
      /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/,
    );
    assert.match(String(body.api), /^127\.0\.0\.1:\d+$/);
    assert.equal(body.secret, '');
    assert.equal(body.execEnv, '', 'no AWS_EXECUTION_ENV for custom runtimes');
    assert.ok(String(body.tmp).startsWith(tmp.dir));
    assert.equal(body.home, body.tmp);
    if (asRoot) assert.equal(body.uid, nobody.uid);
    assert.ok(result.initDurationMs !== undefined);

    const lines = logs.forRequest(req.requestId);
    assert.equal(lines[0], `START RequestId: ${req.requestId} Version: 3`);
    assert.ok(lines.includes(`echoing ${req.requestId}`));
    assert.ok(lines.includes('to stderr'));
    assert.match(lines.at(-1) ?? '', /^REPORT RequestId: .*\tInit Duration: \d+\.\d\d ms\t$/);
    assert.match(result.logTail ?? '', new RegExp(`echoing ${req.requestId}\\n`));
  });

  test('the environment is exactly the reserved set (the shell adds only PWD)', async () => {
    const names = String(ok(await instance.invoke(request({ action: 'env' }))))
      .trim()
      .split(' ');
    assert.deepEqual(
      names.filter((n) => n !== 'PWD'),
      [
        'AWS_DEFAULT_REGION',
        'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
        'AWS_LAMBDA_FUNCTION_NAME',
        'AWS_LAMBDA_FUNCTION_VERSION',
        'AWS_LAMBDA_INITIALIZATION_TYPE',
        'AWS_LAMBDA_LOG_GROUP_NAME',
        'AWS_LAMBDA_LOG_STREAM_NAME',
        'AWS_LAMBDA_RUNTIME_API',
        'AWS_REGION',
        'HOME',
        'LAMBDA_RUNTIME_DIR',
        'LAMBDA_TASK_ROOT',
        'LANG',
        'PATH',
        'TMPDIR',
        'TZ',
        '_HANDLER',
      ],
    );
  });

  test('POST /error: the caller gets the runtime’s error document', async () => {
    const error = errorOf(await instance.invoke(request({ action: 'error' })));
    assert.deepEqual(error, { errorType: 'InvalidEventDataException', errorMessage: 'bad thing' });
    assert.equal(instance.state, 'idle');
  });

  test('wrong id → 400, init/error after init → 403, second response → 403', async () => {
    const body = ok(await instance.invoke(request({ action: 'probe' })));
    assert.deepEqual(body, { wrongId: 400, lateInitError: 403 });
    const line = await logs.waitFor((e) => e.message.startsWith('first='));
    assert.equal(line.message, 'first=202 second=403');
  });

  test('a response over 6 MB → 413 to the runtime, Function.ResponseSizeTooLarge to the caller', async () => {
    const error = errorOf(await instance.invoke(request({ action: 'big' })));
    assert.equal(error.errorType, 'Function.ResponseSizeTooLarge');
    assert.equal(
      error.errorMessage,
      'Response payload size (6400002 bytes) exceeded maximum allowed payload size (6291556 bytes).',
    );
    await logs.waitFor((e) => e.message === 'big response status=413');
    assert.equal(instance.state, 'idle');
    ok(await instance.invoke(request({ again: true })));
  });

  test('the bootstrap exiting mid-request → Runtime.ExitError, instance dead', async () => {
    const error = errorOf(await instance.invoke(request({ action: 'exit' })));
    assert.deepEqual(error, {
      errorType: 'Runtime.ExitError',
      errorMessage: 'Runtime exited with error: exit status 7',
    });
    assert.equal(instance.state, 'dead');
  });
});

describe('provided init failures', () => {
  let tmp: Awaited<ReturnType<typeof makeTmpRoot>>;
  before(async () => {
    tmp = await makeTmpRoot();
  });
  after(() => tmp.cleanup());

  test('POST /init/error → the first invoke returns that error; instance dead', async () => {
    const instance = await startInstance({
      target: makeTarget('provided', fixture('provided-shell'), 'function.handler', {
        environment: { FAIL_INIT: '1' },
      }),
      instanceId: 'sh2',
      tmpRoot: tmp.dir,
      onLog: () => {},
      runAsUser: nobody,
    });
    assert.equal(instance.state, 'dead');
    const error = errorOf(await instance.invoke(request({})));
    assert.deepEqual(error, {
      errorType: 'Runtime.ConfigInvalid',
      errorMessage: 'FAIL_INIT is set',
    });
    await instance.closed;
  });

  test('no executable bootstrap → InvalidEntrypointError carrying Runtime.InvalidEntrypoint', async () => {
    await assert.rejects(
      startInstance({
        target: makeTarget('provided', fixture('node-cjs'), 'function.handler'),
        instanceId: 'sh3',
        tmpRoot: tmp.dir,
        onLog: () => {},
      }),
      (err: unknown) =>
        err instanceof InvalidEntrypointError &&
        err.functionError.errorType === 'Runtime.InvalidEntrypoint' &&
        err.functionError.errorMessage.includes('node-cjs/bootstrap'),
    );
  });
});
