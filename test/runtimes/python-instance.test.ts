import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Instance, startInstance } from '../../src/platform/pool/instance.js';
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

describe('a Python instance, reused across tests', () => {
  let tmp: Awaited<ReturnType<typeof makeTmpRoot>>;
  let instance: Instance;
  const logs = new LogCollector();

  before(async () => {
    process.env.NIMBUS_TEST_SECRET = 'must-not-leak';
    tmp = await makeTmpRoot();
    instance = await startInstance({
      target: makeTarget('python', fixture('python'), 'handler.route', {
        environment: { GREETING: 'hi' },
      }),
      instanceId: 'py1',
      tmpRoot: tmp.dir,
      onLog: logs.onLog,
      runAsUser: nobody,
    });
  });

  after(async () => {
    delete process.env.NIMBUS_TEST_SECRET;
    await instance.stop();
    await tmp.cleanup();
  });

  test('module imported once, state kept across invocations', async () => {
    assert.equal(instance.state, 'idle', JSON.stringify(instance.initError));
    const first = await instance.invoke(request({ use: 'echo' }));
    const second = await instance.invoke(request({ use: 'echo' }));
    assert.deepEqual(ok(first), { event: { use: 'echo' }, calls: 1 });
    assert.deepEqual(ok(second), { event: { use: 'echo' }, calls: 2 });
    assert.ok(first.initDurationMs !== undefined);
    assert.equal(second.initDurationMs, undefined);
    const init = logs.events.find((e) => e.message === 'python init');
    assert.ok(init, 'print during import is captured');
    assert.equal(init.requestId, undefined);
  });

  test('context object fields', async () => {
    const clientContext = Buffer.from('{"env":{"x":"y"}}').toString('base64');
    const req = request({ use: 'context_fields' }, { clientContext });
    const ctx = ok(await instance.invoke(req)) as Record<string, unknown>;
    assert.equal(ctx.aws_request_id, req.requestId);
    assert.equal(ctx.function_name, 'svc-dev-fn');
    assert.equal(ctx.function_version, '3');
    assert.equal(
      ctx.invoked_function_arn,
      'arn:aws:lambda:eu-west-1:000000000000:function:svc-dev-fn:3',
    );
    assert.equal(ctx.memory_limit_in_mb, '256');
    assert.equal(ctx.log_group_name, '/aws/lambda/svc-dev-fn');
    assert.equal(ctx.log_stream_name, instance.logStream);
    assert.ok(Number(ctx.remaining) > 0 && Number(ctx.remaining) <= 1000);
    assert.deepEqual(ctx.client_context, { env: { x: 'y' } });
  });

  test('print and logging are captured; logging in Lambda’s [LEVEL] format', async () => {
    const req = request({ use: 'logs' }, { tailLogs: true });
    const result = await instance.invoke(req);
    assert.equal(ok(result), 'ok');
    const id = req.requestId;
    const at = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
    const lines = logs.forRequest(id);
    assert.equal(lines[0], `START RequestId: ${id} Version: 3`);
    assert.equal(lines[1], 'printed 1');
    assert.match(lines[2] as string, new RegExp(`^\\[INFO\\]\\t${at}\\t${id}\\tinfo line$`));
    assert.match(lines[3] as string, new RegExp(`^\\[WARNING\\]\\t${at}\\t${id}\\twarned$`));
    assert.equal(lines[4], 'err line');
    assert.equal(lines[5], 'no newline');
    assert.equal(lines[6], `END RequestId: ${id}`);
    assert.match(lines[7] as string, /^REPORT RequestId: /);
    assert.equal(result.logTail, `${lines.join('\n')}\n`);
  });

  test('environment: reserved set plus the function’s own; runs as nobody; own temp dir', async () => {
    const { env, uid, cwd, probe } = ok(await instance.invoke(request({ use: 'env' }))) as {
      env: Record<string, string>;
      uid: number;
      cwd: string;
      probe: string;
    };
    assert.deepEqual(Object.keys(env).sort(), [
      'AWS_DEFAULT_REGION',
      'AWS_EXECUTION_ENV',
      'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
      'AWS_LAMBDA_FUNCTION_NAME',
      'AWS_LAMBDA_FUNCTION_VERSION',
      'AWS_LAMBDA_INITIALIZATION_TYPE',
      'AWS_LAMBDA_LOG_GROUP_NAME',
      'AWS_LAMBDA_LOG_STREAM_NAME',
      'AWS_REGION',
      'GREETING',
      'HOME',
      'LAMBDA_RUNTIME_DIR',
      'LAMBDA_TASK_ROOT',
      'LANG',
      'PATH',
      'TMPDIR',
      'TZ',
      '_HANDLER',
    ]);
    assert.equal(env.AWS_EXECUTION_ENV, 'AWS_Lambda_python3.12');
    assert.equal(cwd, fixture('python'));
    assert.equal(probe, `${env.TMPDIR}/probe.txt`);
    assert.ok(env.TMPDIR?.startsWith(tmp.dir));
    if (asRoot) assert.equal(uid, nobody.uid);
  });

  test('an exception → class name, message, stack of the user’s frames; instance lives on', async () => {
    const error = errorOf(await instance.invoke(request({ use: 'fails' })));
    assert.equal(error.errorType, 'InvalidOrder');
    assert.equal(error.errorMessage, 'order 42 is invalid');
    assert.ok(Array.isArray(error.stackTrace) && error.stackTrace.length === 2);
    assert.match(error.stackTrace[0] as string, /handler\.py", line \d+, in route/);
    assert.match(error.stackTrace[1] as string, /raise InvalidOrder/);
    const marshal = errorOf(await instance.invoke(request({ use: 'unserializable' })));
    assert.equal(marshal.errorType, 'Runtime.MarshalError');
    assert.match(marshal.errorMessage, /^Unable to marshal response: .*not JSON serializable/);
    assert.equal(instance.state, 'idle');
  });

  test('sys.exit mid-request → Runtime.ExitError exit status 4', async () => {
    const error = errorOf(await instance.invoke(request({ use: 'exits' })));
    assert.deepEqual(error, {
      errorType: 'Runtime.ExitError',
      errorMessage: 'Runtime exited with error: exit status 4',
    });
    assert.equal(instance.state, 'dead');
  });
});

describe('Python handler resolution', () => {
  let tmp: Awaited<ReturnType<typeof makeTmpRoot>>;
  before(async () => {
    tmp = await makeTmpRoot();
  });
  after(() => tmp.cleanup());

  const cases: [string, { ok: unknown } | { errorType: string; message: string }][] = [
    ['pkg/mod.handler', { ok: 'from pkg/mod' }],
    ['pkg.mod.handler', { ok: 'from pkg/mod' }],
    [
      'nope.handler',
      {
        errorType: 'Runtime.ImportModuleError',
        message: "Unable to import module 'nope': No module named 'nope'",
      },
    ],
    [
      'missing_dep.handler',
      {
        errorType: 'Runtime.ImportModuleError',
        message: "Unable to import module 'missing_dep': No module named 'not_a_module_anywhere'",
      },
    ],
    [
      'handler.absent',
      {
        errorType: 'Runtime.HandlerNotFound',
        message: "Handler 'absent' missing on module 'handler'",
      },
    ],
  ];
  for (const [handler, expected] of cases) {
    test(handler, async () => {
      const instance = await startInstance({
        target: makeTarget('python', fixture('python'), handler),
        instanceId: 'py2',
        tmpRoot: tmp.dir,
        onLog: () => {},
        runAsUser: nobody,
      });
      try {
        const result = await instance.invoke(request({}));
        if ('ok' in expected) {
          assert.deepEqual(ok(result), expected.ok);
        } else {
          const error = errorOf(result);
          assert.equal(error.errorType, expected.errorType);
          assert.equal(error.errorMessage, expected.message);
          assert.equal(instance.state, 'dead');
        }
      } finally {
        await instance.stop();
      }
    });
  }
});
