/**
 * The real @aws-sdk/client-lambda against a real HTTP server running the Invoke API, with real
 * access keys and SigV4, and a fake invoker behind it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvokeCommand, type InvokeCommandInput, LambdaClient } from '@aws-sdk/client-lambda';
import type { Kysely } from 'kysely';
import type { CreatedAccessKey } from '../../src/platform/auth/access-key-store.js';
import { KyselyAccessKeyStore } from '../../src/platform/auth/kysely-access-key-store.js';
import { createRequestVerifier } from '../../src/platform/auth/request-verifier.js';
import { MiB } from '../../src/platform/config.js';
import { createLambdaApi } from '../../src/platform/lambda-api/lambda-api.js';
import { InstanceStartError, TooManyRequestsError } from '../../src/platform/pool/pool-errors.js';
import type { Database } from '../../src/store/schema.js';
import { openSqliteDatabase } from '../../src/store/sqlite.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { wrongSecret } from '../helpers/wrong-secret.js';
import { FakeInvoker } from './fake-invoker.js';

const adminToken = `nimbus_${randomBytes(16).toString('hex')}`;
const longLog = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(30)}`).join('\n');

const invoker = new FakeInvoker({
  echo: () => ({}),
  logs: () => ({ logTail: longLog }),
  fails: () => ({
    outcome: {
      status: 'error',
      error: { errorType: 'Error', errorMessage: 'boom', stackTrace: ['at handler'] },
    },
  }),
  busy: () => {
    throw new TooManyRequestsError('ReservedFunctionConcurrentInvocationLimitExceeded', 7);
  },
  broken: () => {
    throw new InstanceStartError('spawn ENOENT');
  },
});

describe('Invoke API through the AWS SDK for JavaScript v3', () => {
  let server: Server;
  let endpoint: string;
  let db: Kysely<Database>;
  let key: CreatedAccessKey;
  let cleanup: () => Promise<void>;
  const unexpected: unknown[] = [];

  const client = (credentials = { accessKeyId: key.id, secretAccessKey: key.secret }) =>
    new LambdaClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  const invoke = (input: InvokeCommandInput, c = client()) => c.send(new InvokeCommand(input));
  const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
  /** The rejection of `run`, which must reject. */
  const failure = async (run: () => Promise<unknown>) => {
    try {
      await run();
    } catch (error) {
      return error as Error & Record<string, unknown> & { $metadata: { httpStatusCode?: number } };
    }
    assert.fail('expected the call to fail');
  };

  before(async () => {
    const tmp = await makeTempDir();
    db = await openSqliteDatabase({ file: join(tmp.dir, 'nimbus.db') });
    const keys = new KyselyAccessKeyStore(db, randomBytes(32), { now: () => Date.now() });
    key = await keys.create({ description: 'sdk test' });
    const api = createLambdaApi({
      invoker,
      verify: createRequestVerifier({ keys, adminToken, clock: { now: () => Date.now() } }),
      maxSyncPayloadBytes: 6 * MiB,
      onError: (e) => unexpected.push(e),
    });
    server = createServer((req, res) => {
      void api(req, res, (req.url ?? '/').split('?')[0]!);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    cleanup = async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await db.destroy();
      await tmp.cleanup();
    };
  });
  after(() => cleanup());

  test('payload round trip: 200, the function payload, ExecutedVersion', async () => {
    const out = await invoke({ FunctionName: 'echo', Payload: payload({ hello: 'world' }) });
    assert.equal(out.StatusCode, 200);
    assert.deepEqual(JSON.parse(text(out.Payload)), { hello: 'world' });
    assert.equal(out.ExecutedVersion, '$LATEST');
    assert.equal(out.FunctionError, undefined);
    assert.match(out.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
    const call = invoker.calls.at(-1)!;
    assert.deepEqual([call.functionRef, call.qualifier], ['echo', undefined]);
    assert.equal(call.opts.requestId, out.$metadata.requestId);
  });

  test('the qualifier reaches the invoker, from Qualifier, name:alias or an ARN', async () => {
    const forms: [InvokeCommandInput, string][] = [
      [{ FunctionName: 'echo', Qualifier: 'prod' }, 'prod'],
      [{ FunctionName: 'echo:7' }, '7'],
      [{ FunctionName: 'echo', Qualifier: '$LATEST' }, '$LATEST'],
      [{ FunctionName: 'arn:aws:lambda:eu-west-1:000000000000:function:echo:live' }, 'live'],
      [{ FunctionName: '000000000000:function:echo', Qualifier: 'dev' }, 'dev'],
    ];
    for (const [input, qualifier] of forms) {
      const out = await invoke({ ...input, Payload: payload({}) });
      assert.equal(out.StatusCode, 200, JSON.stringify(input));
      const call = invoker.calls.at(-1)!;
      assert.deepEqual([call.functionRef, call.qualifier], ['echo', qualifier]);
    }
    const out = await invoke({ FunctionName: 'echo', Qualifier: '4' });
    assert.equal(out.ExecutedVersion, '3');
  });

  test('no payload is an empty object; ClientContext passes through', async () => {
    const context = Buffer.from(JSON.stringify({ custom: { a: 1 } })).toString('base64');
    const out = await invoke({ FunctionName: 'echo', ClientContext: context });
    assert.equal(text(out.Payload), '{}');
    assert.equal(invoker.calls.at(-1)!.opts.clientContext, context);
  });

  test('LogType Tail: LogResult is base64 of the last 4 KB of the log', async () => {
    const out = await invoke({ FunctionName: 'logs', LogType: 'Tail' });
    assert.equal(invoker.calls.at(-1)!.opts.tailLogs, true);
    const log = Buffer.from(out.LogResult!, 'base64').toString('utf8');
    assert.equal(Buffer.byteLength(log), 4096);
    assert.ok(longLog.endsWith(log));
    const none = await invoke({ FunctionName: 'logs' });
    assert.equal(none.LogResult, undefined);
    assert.equal(invoker.calls.at(-1)!.opts.tailLogs, false);
  });

  test('a function error: 200, FunctionError Unhandled, the error JSON as payload', async () => {
    const out = await invoke({ FunctionName: 'fails' });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.deepEqual(JSON.parse(text(out.Payload)), {
      errorType: 'Error',
      errorMessage: 'boom',
      stackTrace: ['at handler'],
    });
  });

  test('an unknown function is ResourceNotFoundException (404) with its ARN', async () => {
    const err = await failure(() => invoke({ FunctionName: 'nope' }));
    assert.equal(err.name, 'ResourceNotFoundException');
    assert.equal(err.$metadata.httpStatusCode, 404);
    assert.equal(
      err.message,
      'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope',
    );
    assert.equal(err.Type, 'User');
    const qualified = await failure(() => invoke({ FunctionName: 'nope', Qualifier: 'prod' }));
    assert.match(qualified.message, /function:nope:prod$/);
  });

  test('over the concurrency limit: TooManyRequestsException (429) with Reason and Retry-After', async () => {
    const err = await failure(() => invoke({ FunctionName: 'busy' }));
    assert.equal(err.name, 'TooManyRequestsException');
    assert.equal(err.$metadata.httpStatusCode, 429);
    assert.equal(err.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
    assert.equal(err.retryAfterSeconds, '7');
  });

  test('an instance that cannot start is a ServiceException', async () => {
    const err = await failure(() => invoke({ FunctionName: 'broken' }));
    assert.equal(err.name, 'ServiceException');
    assert.equal(err.$metadata.httpStatusCode, 502);
    assert.ok(unexpected.some((e) => e instanceof InstanceStartError));
  });

  test('DryRun: 204 when the function exists, 404 when not; nothing runs', async () => {
    const before = invoker.calls.length;
    const out = await invoke({ FunctionName: 'echo', InvocationType: 'DryRun', Qualifier: '2' });
    assert.equal(out.StatusCode, 204);
    assert.deepEqual(invoker.resolved.at(-1), { functionRef: 'echo', qualifier: '2' });
    const err = await failure(() => invoke({ FunctionName: 'nope', InvocationType: 'DryRun' }));
    assert.equal(err.name, 'ResourceNotFoundException');
    assert.equal(invoker.calls.length, before);
  });

  test('Event is refused clearly where the API has no async layer', async () => {
    const err = await failure(() => invoke({ FunctionName: 'echo', InvocationType: 'Event' }));
    assert.equal(err.name, 'InvalidParameterValueException');
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.match(err.message, /asynchronous invocation \(Event\) is not enabled/);
  });

  test('a payload that is not JSON is InvalidRequestContentException', async () => {
    const err = await failure(() =>
      invoke({ FunctionName: 'echo', Payload: new TextEncoder().encode('{not json') }),
    );
    assert.equal(err.name, 'InvalidRequestContentException');
    assert.equal(err.$metadata.httpStatusCode, 400);
  });

  test('a payload over 6 MB is RequestTooLargeException (413)', async () => {
    const big = new Uint8Array(6 * MiB + 1).fill(0x20);
    const before = invoker.calls.length;
    const err = await failure(() => invoke({ FunctionName: 'echo', Payload: big }));
    assert.equal(err.name, 'RequestTooLargeException');
    assert.equal(err.$metadata.httpStatusCode, 413);
    assert.equal(invoker.calls.length, before);
    // Exactly 6 MiB is still allowed.
    const edge = new Uint8Array(6 * MiB).fill(0x20);
    edge.set(new TextEncoder().encode('{}'));
    const out = await invoke({ FunctionName: 'echo', Payload: edge });
    assert.equal(out.StatusCode, 200);
  });

  test('a wrong secret is 403 InvalidSignatureException; nothing is invoked', async () => {
    const before = invoker.calls.length;
    const wrong = client({ accessKeyId: key.id, secretAccessKey: wrongSecret(key.secret) });
    const err = await failure(() => invoke({ FunctionName: 'echo' }, wrong));
    assert.equal(err.name, 'InvalidSignatureException');
    assert.equal(err.$metadata.httpStatusCode, 403);
    assert.equal(invoker.calls.length, before);
  });

  test('an unknown access key is 403 UnrecognizedClientException', async () => {
    const stranger = client({ accessKeyId: 'NIMBAAAAAAAAAAAAAAAA', secretAccessKey: key.secret });
    const err = await failure(() => invoke({ FunctionName: 'echo' }, stranger));
    assert.equal(err.name, 'UnrecognizedClientException');
    assert.equal(err.$metadata.httpStatusCode, 403);
  });

  test('no credentials at all is 403 MissingAuthenticationTokenException', async () => {
    // A signer that signs nothing: the SDK sends the request without an Authorization header.
    const unsigned = new LambdaClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      signer: { sign: async (request) => request },
      maxAttempts: 1,
    });
    const before = invoker.calls.length;
    const err = await failure(() => invoke({ FunctionName: 'echo' }, unsigned));
    assert.equal(err.name, 'MissingAuthenticationTokenException');
    assert.equal(err.$metadata.httpStatusCode, 403);
    assert.equal(invoker.calls.length, before);
  });

  test('the admin token is accepted as a bearer token', async () => {
    const url = `${endpoint}/2015-03-31/functions/echo/invocations`;
    const ok = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
      body: '{"via":"bearer"}',
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { via: 'bearer' });
    const bad = await fetch(url, {
      method: 'POST',
      headers: { authorization: 'Bearer nope' },
      body: '{}',
    });
    assert.equal(bad.status, 403);
    assert.equal(bad.headers.get('x-amzn-errortype'), 'UnrecognizedClientException');
    assert.deepEqual(Object.keys((await bad.json()) as object), ['message']);
  });
});
