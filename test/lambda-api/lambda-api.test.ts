/** The Invoke API's edges over plain HTTP: what the SDK would not send, or hides. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { AuthOutcome } from '../../src/platform/auth/request-verifier.js';
import { parseFunctionAddress } from '../../src/platform/lambda-api/function-name.js';
import { createLambdaApi, logResult } from '../../src/platform/lambda-api/lambda-api.js';
import { LambdaApiError } from '../../src/platform/lambda-api/lambda-error.js';
import { FakeInvoker } from './fake-invoker.js';

describe('Invoke API over plain HTTP', () => {
  let server: Server;
  let base: string;
  let auth: AuthOutcome = { ok: true, principal: 'test', region: 'eu-central-1' };
  const errors: unknown[] = [];
  const invoker = new FakeInvoker({
    echo: () => ({}),
    huge: () => ({ outcome: { status: 'ok', payload: `"${'x'.repeat(2000)}"` } }),
    crash: () => {
      throw new Error('database password is hunter2');
    },
  });

  before(async () => {
    const api = createLambdaApi({
      invoker,
      verify: async () => auth,
      maxSyncPayloadBytes: 1024,
      onError: (e) => errors.push(e),
    });
    server = createServer((req, res) => {
      void api(req, res, (req.url ?? '/').split('?')[0]!);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );

  const post = (path: string, body = '{}', headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', body, headers });
  const fn = (name: string, query = '') => `/2015-03-31/functions/${name}/invocations${query}`;
  const expectError = async (res: Response, status: number, type: string) => {
    assert.equal(res.status, status);
    assert.equal(res.headers.get('x-amzn-errortype'), type);
    assert.match(res.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/);
    return (await res.json()) as Record<string, string>;
  };

  test('a refused caller learns nothing and runs nothing, whatever the path', async () => {
    auth = { ok: false, type: 'InvalidSignatureException', message: 'no' };
    try {
      const before = invoker.calls.length;
      assert.deepEqual(
        await expectError(await post(fn('echo')), 403, 'InvalidSignatureException'),
        {
          message: 'no',
        },
      );
      await expectError(await post('/2015-03-31/nothing'), 403, 'InvalidSignatureException');
      assert.equal(invoker.calls.length, before);
    } finally {
      auth = { ok: true, principal: 'test', region: 'eu-central-1' };
    }
  });

  test('unknown operations are 404 UnknownOperationException', async () => {
    await expectError(await post('/2015-03-31/functions/echo'), 404, 'UnknownOperationException');
    const get = await fetch(`${base}${fn('echo')}`);
    await expectError(get, 404, 'UnknownOperationException');
  });

  test('the 404 ARN uses the caller region, or the region of the ARN that was sent', async () => {
    const body = await expectError(await post(fn('ghost')), 404, 'ResourceNotFoundException');
    assert.deepEqual(body, {
      Type: 'User',
      Message: 'Function not found: arn:aws:lambda:eu-central-1:000000000000:function:ghost',
    });
    const arn = encodeURIComponent('arn:aws:lambda:ap-south-1:123456789012:function:ghost:v2');
    const viaArn = await expectError(await post(fn(arn)), 404, 'ResourceNotFoundException');
    assert.match(viaArn.Message!, /arn:aws:lambda:ap-south-1:000000000000:function:ghost:v2$/);
  });

  test('parameters Lambda refuses', async () => {
    const cases: [Response, string][] = [
      [await post(fn('echo'), '{}', { 'x-amz-invocation-type': 'Later' }), 'ValidationException'],
      [await post(fn('echo'), '{}', { 'x-amz-log-type': 'All' }), 'ValidationException'],
      [await post(fn('echo', '?Qualifier=a.b')), 'ValidationException'],
      [await post(fn('echo%3Aprod', '?Qualifier=dev')), 'InvalidParameterValueException'],
      [await post(fn('x'.repeat(65))), 'ValidationException'],
      [await post(fn('bad%ZZname')), 'ValidationException'],
      [
        await post(fn('echo'), '{}', { 'x-amz-client-context': 'not base64!' }),
        'InvalidParameterValueException',
      ],
      [
        await post(fn('echo'), '{}', {
          'x-amz-client-context': Buffer.from('[1]').toString('base64'),
        }),
        'InvalidParameterValueException',
      ],
      [
        await post(fn('echo'), '{}', { 'x-amz-invocation-type': 'Event' }),
        'InvalidParameterValueException',
      ],
      [await post(fn('echo'), 'nope'), 'InvalidRequestContentException'],
    ];
    for (const [res, type] of cases) {
      const body = await expectError(res, 400, type);
      assert.equal(body.Type, 'User');
      assert.ok(body.message);
    }
  });

  test('a body over the cap is 413 before it is read; a response over it becomes a function error', async () => {
    const big = await post(fn('echo'), JSON.stringify('y'.repeat(2000)));
    const body = await expectError(big, 413, 'RequestTooLargeException');
    assert.match(body.message!, /smaller than 1024 bytes/);

    const res = await post(fn('huge'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-amz-function-error'), 'Unhandled');
    const error = (await res.json()) as { errorType: string };
    assert.equal(error.errorType, 'Function.ResponseSizeTooLarge');
  });

  test('an unexpected failure is a 500 ServiceException that keeps its details to the log', async () => {
    const body = await expectError(await post(fn('crash')), 500, 'ServiceException');
    assert.equal(body.Type, 'Service');
    assert.ok(!JSON.stringify(body).includes('hunter2'));
    assert.ok(errors.some((e) => (e as Error).message.includes('hunter2')));
  });

  test('success headers: request id, executed version, JSON content type', async () => {
    const res = await post(fn('echo', '?Qualifier=7'), '{"a":1}');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('x-amz-executed-version'), '3');
    assert.equal(res.headers.get('x-amzn-requestid'), invoker.calls.at(-1)!.opts.requestId);
    assert.equal(res.headers.get('x-amz-function-error'), null);
    assert.equal(res.headers.get('x-amz-log-result'), null);
    assert.deepEqual(await res.json(), { a: 1 });
  });
});

describe('FunctionName forms', () => {
  test('names, name:qualifier, full and partial ARNs', () => {
    assert.deepEqual(parseFunctionAddress('svc-dev-hello', null), { name: 'svc-dev-hello' });
    assert.deepEqual(parseFunctionAddress('svc-dev-hello', ''), { name: 'svc-dev-hello' });
    assert.deepEqual(parseFunctionAddress('svc-dev-hello%3Aprod', null), {
      name: 'svc-dev-hello',
      qualifier: 'prod',
    });
    assert.deepEqual(parseFunctionAddress('fn', '$LATEST'), { name: 'fn', qualifier: '$LATEST' });
    assert.deepEqual(parseFunctionAddress('fn:$LATEST', '$LATEST'), {
      name: 'fn',
      qualifier: '$LATEST',
    });
    assert.deepEqual(
      parseFunctionAddress('arn:aws:lambda:us-west-2:123456789012:function:fn:3', null),
      { name: 'fn', qualifier: '3', region: 'us-west-2' },
    );
    assert.deepEqual(parseFunctionAddress('123456789012:function:fn', 'live'), {
      name: 'fn',
      qualifier: 'live',
    });
    // A function whose name looks like a region stays a name.
    assert.deepEqual(parseFunctionAddress('ab-cd-1:prod', null), {
      name: 'ab-cd-1',
      qualifier: 'prod',
    });
  });

  test('refusals are Lambda errors', () => {
    for (const [name, qualifier] of [
      ['', null],
      ['a/b', null],
      ['fn:a:b', null],
      ['arn:aws:lambda:us-east-1:1:function:fn', null],
      ['fn', 'x'.repeat(129)],
      ['fn:one', 'two'],
    ] as const) {
      assert.throws(
        () => parseFunctionAddress(name, qualifier),
        LambdaApiError,
        `${name} ${qualifier}`,
      );
    }
  });
});

describe('X-Amz-Log-Result', () => {
  test('the last 4096 bytes, never starting inside a character', () => {
    assert.equal(Buffer.from(logResult('short'), 'base64').toString(), 'short');
    const ascii = 'a'.repeat(5000);
    assert.equal(Buffer.from(logResult(ascii), 'base64').length, 4096);
    // '€' is 3 bytes: 4096 is not a multiple of 3, so the cut falls inside one and skips it.
    const euros = '€'.repeat(2000);
    const tail = Buffer.from(logResult(euros), 'base64').toString('utf8');
    assert.ok(!tail.includes('\uFFFD'));
    assert.equal(tail, '€'.repeat(1365));
  });
});
