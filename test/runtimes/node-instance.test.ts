import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FunctionTarget } from '../../src/model/invocation.js';
import {
  type Instance,
  MAX_RESPONSE_BYTES,
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

describe('a Node instance (CommonJS), reused across tests', () => {
  let tmp: Awaited<ReturnType<typeof makeTmpRoot>>;
  let instance: Instance;
  let target: FunctionTarget;
  const logs = new LogCollector();
  const secret = `platform-secret-${process.pid}`;

  before(async () => {
    // The platform's own environment must never reach a function.
    process.env.NIMBUS_TEST_SECRET = secret;
    tmp = await makeTmpRoot();
    target = makeTarget('nodejs', fixture('node-cjs'), 'handler.route', {
      environment: { GREETING: 'hi', TZ: 'Europe/Paris' },
    });
    instance = await startInstance({
      target,
      instanceId: 'a1b2c3',
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

  test('loads the module once and keeps its state; Init Duration on the first call only', async () => {
    assert.equal(instance.state, 'idle');
    const first = await instance.invoke(request({ use: 'echo', n: 1 }, { tailLogs: true }));
    const second = await instance.invoke(request({ use: 'echo', n: 2 }, { tailLogs: true }));
    const a = ok(first) as { calls: number; loadedAt: number; event: unknown };
    const b = ok(second) as { calls: number; loadedAt: number };
    assert.deepEqual(a.event, { use: 'echo', n: 1 });
    assert.equal(b.calls, a.calls + 1);
    assert.equal(b.loadedAt, a.loadedAt);
    assert.ok(first.initDurationMs !== undefined && first.initDurationMs > 0);
    assert.equal(second.initDurationMs, undefined);
    assert.match(first.logTail ?? '', /\tInit Duration: \d+\.\d\d ms\t\n$/);
    assert.doesNotMatch(second.logTail ?? '', /Init Duration/);
    assert.equal(first.executedVersion, '3');
    assert.ok(first.maxMemoryUsedMb > 10, `measured ${first.maxMemoryUsedMb} MB`);
  });

  test('context carries the Lambda fields', async () => {
    const clientContext = Buffer.from(JSON.stringify({ custom: { k: 'v' } })).toString('base64');
    const req = request({ use: 'context' }, { clientContext });
    const ctx = ok(await instance.invoke(req)) as Record<string, unknown>;
    assert.equal(ctx.awsRequestId, req.requestId);
    assert.equal(ctx.functionName, 'svc-dev-fn');
    assert.equal(ctx.functionVersion, '3');
    assert.equal(
      ctx.invokedFunctionArn,
      'arn:aws:lambda:eu-west-1:000000000000:function:svc-dev-fn:3',
    );
    assert.equal(ctx.memoryLimitInMB, '256');
    assert.equal(ctx.logGroupName, '/aws/lambda/svc-dev-fn');
    assert.match(String(ctx.logStreamName), /^\d{4}\/\d\d\/\d\d\/\[3\]a1b2c3$/);
    assert.equal(ctx.logStreamName, instance.logStream);
    assert.ok(Number(ctx.remaining) > 0 && Number(ctx.remaining) <= 1000);
    assert.equal(ctx.callbackWaitsForEmptyEventLoop, true);
    assert.deepEqual(ctx.clientContext, { custom: { k: 'v' } });
  });

  test('console and stdout/stderr become Lambda-format lines tagged with the request id', async () => {
    const req = request({ use: 'logs' }, { tailLogs: true });
    const result = await instance.invoke(req);
    ok(result);
    const lines = logs.forRequest(req.requestId);
    const id = req.requestId;
    const at = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
    assert.equal(lines[0], `START RequestId: ${id} Version: 3`);
    assert.match(
      lines[1] as string,
      new RegExp(`^${at}\\t${id}\\tINFO\\thello world \\{ n: 1 \\}$`),
    );
    assert.match(lines[2] as string, new RegExp(`^${at}\\t${id}\\tINFO\\tinfo line$`));
    assert.match(lines[3] as string, new RegExp(`^${at}\\t${id}\\tWARN\\twarn line$`));
    assert.match(lines[4] as string, new RegExp(`^${at}\\t${id}\\tERROR\\terror line$`));
    assert.deepEqual(lines.slice(5, 8), ['raw out', 'partial done', 'raw err']);
    assert.equal(lines[8], `END RequestId: ${id}`);
    assert.match(
      lines[9] as string,
      new RegExp(
        `^REPORT RequestId: ${id}\\tDuration: \\d+\\.\\d\\d ms\\tBilled Duration: \\d+ ms\\t` +
          'Memory Size: 256 MB\\tMax Memory Used: \\d+ MB\\t$',
      ),
    );
    assert.equal(lines.length, 10);
    assert.equal(result.logTail, `${lines.join('\n')}\n`);
    const event = logs.events.find((e) => e.requestId === id);
    assert.equal(event?.functionName, 'svc-dev-fn');
    assert.equal(event?.version, '3');
    assert.equal(event?.logStream, instance.logStream);
  });

  test('the environment is Lambda’s reserved set plus the function’s own, nothing inherited', async () => {
    const { env, uid, cwd, tmpWritable } = ok(await instance.invoke(request({ use: 'env' }))) as {
      env: Record<string, string>;
      uid: number;
      cwd: string;
      tmpWritable: string | false;
    };
    assert.equal(env.NIMBUS_TEST_SECRET, undefined);
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
    assert.equal(env.AWS_EXECUTION_ENV, 'AWS_Lambda_nodejs20.x');
    assert.equal(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '256');
    assert.equal(env.AWS_LAMBDA_INITIALIZATION_TYPE, 'on-demand');
    assert.equal(env.AWS_LAMBDA_LOG_STREAM_NAME, instance.logStream);
    assert.equal(env.AWS_REGION, 'eu-west-1');
    assert.equal(env._HANDLER, 'handler.route');
    assert.equal(env.LAMBDA_TASK_ROOT, fixture('node-cjs'));
    assert.equal(env.GREETING, 'hi');
    assert.equal(env.TZ, 'Europe/Paris', 'TZ is unreserved: the function may set it');
    assert.equal(cwd, fixture('node-cjs'));
    assert.equal(env.HOME, env.TMPDIR);
    assert.ok(env.TMPDIR?.startsWith(tmp.dir));
    assert.equal(tmpWritable, `${env.TMPDIR}/probe.txt`);
    if (asRoot) {
      assert.equal(uid, nobody.uid);
      assert.equal(statSync(env.TMPDIR as string).uid, nobody.uid);
    }
  });

  test('a handler error gives errorType, errorMessage and the user’s stack; the instance lives on', async () => {
    const error = errorOf(await instance.invoke(request({ use: 'throws' })));
    assert.equal(error.errorType, 'TypeError');
    assert.equal(error.errorMessage, 'bad input');
    assert.equal(error.stackTrace?.[0], 'TypeError: bad input');
    assert.match(error.stackTrace?.[1] ?? '', /node-cjs\/handler\.js:\d+:\d+\)$/);
    assert.ok(!error.stackTrace?.some((l) => l.includes('/src/runtimes/')), 'no bootstrap frames');
    const sync = errorOf(await instance.invoke(request({ use: 'throwsSync' })));
    assert.deepEqual([sync.errorType, sync.errorMessage], ['RangeError', 'sync boom']);
    assert.equal(instance.state, 'idle');
    ok(await instance.invoke(request({ use: 'echo' })));
  });

  test('callback handlers: callback(err, result), context.succeed, the empty-event-loop rule', async () => {
    const call = async (use: string) => instance.invoke(request({ use: `cb.${use}` }));
    assert.deepEqual(ok(await call('ok')), { got: { use: 'cb.ok' } });
    assert.deepEqual(errorOf(await call('fail')).errorMessage, 'callback failure');
    const str = errorOf(await call('failString'));
    assert.deepEqual([str.errorType, str.errorMessage], ['string', 'plain string failure']);
    assert.deepEqual(ok(await call('waits')), ['timer ran']);
    assert.deepEqual(ok(await call('noWait')), []);
    assert.equal(ok(await call('succeed')), 'via succeed');
    assert.equal(ok(await call('neverCalls')), null);
  });

  test('a response over 6 MB, or one that cannot be serialized, fails; the instance lives on', async () => {
    const error = errorOf(
      await instance.invoke(request({ use: 'big', bytes: MAX_RESPONSE_BYTES })),
    );
    assert.equal(error.errorType, 'Function.ResponseSizeTooLarge');
    assert.equal(
      error.errorMessage,
      `Response payload size (${MAX_RESPONSE_BYTES + 2} bytes) exceeded maximum allowed payload size (6291556 bytes).`,
    );
    const cycle = errorOf(await instance.invoke(request({ use: 'cycle' })));
    assert.equal(cycle.errorType, 'Runtime.MarshalError');
    assert.match(cycle.errorMessage, /^Unable to stringify response body: .*circular/);
    assert.equal(instance.state, 'idle');
  });

  test('stop() removes the instance’s temp dir', async () => {
    const { env } = ok(await instance.invoke(request({ use: 'env' }))) as {
      env: Record<string, string>;
    };
    const dir = env.TMPDIR as string;
    assert.ok(existsSync(dir));
    await instance.stop();
    assert.equal(instance.state, 'dead');
    assert.equal(existsSync(dir), false);
    assert.ok(existsSync(dirname(dir)));
  });
});

describe('Node handler resolution', () => {
  let tmp: Awaited<ReturnType<typeof makeTmpRoot>>;
  before(async () => {
    tmp = await makeTmpRoot();
  });
  after(() => tmp.cleanup());

  const cases: [string, string, string, unknown][] = [
    [
      'ESM by extension (.mjs)',
      'node-esm',
      'handler.handler',
      { kind: 'mjs', calls: 1, event: { x: 1 } },
    ],
    [
      'ESM by "type": "module"',
      'node-esm-type',
      'app.main',
      { kind: 'type-module', platform: 'linux', event: { x: 1 } },
    ],
    ['a file in a sub directory', 'node-cjs', 'sub/deep.handler', 'from sub/deep'],
    ['a nested export path', 'node-cjs', 'handler.nested.deeper.handler', 'nested ok'],
  ];
  for (const [name, dir, handler, expected] of cases) {
    test(name, async () => {
      const logs = new LogCollector();
      const instance = await startInstance({
        target: makeTarget('nodejs', fixture(dir), handler),
        instanceId: 'res',
        tmpRoot: tmp.dir,
        onLog: logs.onLog,
        runAsUser: nobody,
      });
      try {
        assert.deepEqual(ok(await instance.invoke(request({ x: 1 }))), expected);
      } finally {
        await instance.stop();
      }
      if (dir === 'node-esm') {
        // A line logged while the module loads has no request id yet, as on Lambda.
        const init = logs.events.find((e) => e.message.endsWith('\tINFO\tesm init'));
        assert.equal(init?.requestId, undefined);
        assert.match(init?.message ?? '', /\tundefined\tINFO\tesm init$/);
      }
    });
  }
});
