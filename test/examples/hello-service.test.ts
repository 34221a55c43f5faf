import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import pino from 'pino';
import { type RunningPlatform, startPlatform } from '../../src/platform/server.js';
import { repoRoot } from '../helpers/repo-root.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** The shipped example, deployed for real: every runtime, behind both kinds of route. */
describe('examples/hello-service on a real platform', () => {
  let platform: RunningPlatform;
  let cleanup: () => Promise<void>;
  let base: string;
  let serviceDir: string;
  let env: Record<string, string>;

  before(async () => {
    const tmp = await makeTempDir();
    serviceDir = join(tmp.dir, 'hello-service');
    await cp(join(repoRoot, 'examples', 'hello-service'), serviceDir, { recursive: true });
    platform = await startPlatform({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(tmp.dir, 'data'),
      logger: pino({ level: 'silent' }),
    });
    env = { HOME: tmp.dir, NIMBUS_ENDPOINT: platform.url, NIMBUS_TOKEN: platform.adminToken };
    const deployed = await runCli(['deploy'], { cwd: serviceDir, env });
    assert.equal(deployed.code, 0, deployed.stderr);
    base = `${platform.url}/hello-dev`;
    cleanup = async () => {
      await platform.close();
      await tmp.cleanup();
    };
  });
  after(() => cleanup());

  // node/cjs.js is the file the README invites people to edit: only its shape is checked, so an
  // edited greeting does not fail the suite.
  const cases: [string, RegExp][] = [
    ['cjs', /^\{"message":".*","calls":\d+,"requestId":"[0-9a-f-]{36}"\}$/],
    ['esm', /Hello from an ES module/],
    ['users/42', /"name":"user-42"/],
    ['python', /Hello from Python/],
    ['shell', /Hello from a shell script/],
  ];
  for (const [path, expected] of cases) {
    test(`GET ${path} answers on the httpApi route and the http route`, async () => {
      for (const url of [`${base}/${path}`, `${base}/rest/${path}`]) {
        const res = await fetch(url);
        const text = await res.text();
        assert.equal(res.status, 200, `${url}: ${text}`);
        assert.match(text, expected, `${url} answered ${text}, expected ${expected}`);
      }
    });
  }

  test('module state is kept between invocations of a warm instance', async () => {
    const first = (await (await fetch(`${base}/cjs`)).json()) as { calls: number };
    const second = (await (await fetch(`${base}/cjs`)).json()) as { calls: number };
    assert.equal(second.calls, first.calls + 1);
  });

  test('query strings reach the function; unknown routes are 404', async () => {
    const res = (await (await fetch(`${base}/esm?a=1&a=2&b=x`)).json()) as {
      query: Record<string, string>;
    };
    assert.deepEqual(res.query, { a: '1,2', b: 'x' });
    const missing = await fetch(`${base}/nope`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { message: 'Not Found' });
  });

  test('nimbus invoke -l prints the payload and the log tail', async () => {
    const res = await runCli(['invoke', '-f', 'python', '-l', '-d', '{"a":1}'], {
      cwd: serviceDir,
      env,
    });
    assert.equal(res.code, 0, res.stderr);
    const [payload, log] = res.stdout.split(`${'-'.repeat(68)}\n`);
    assert.equal(JSON.parse(payload!).statusCode, 200);
    // Raw platform lines, as Lambda's LogResult holds them (docs/cli.md).
    assert.match(log!, /^START RequestId: [\w-]+ Version: \d+\n/);
    assert.match(log!, /\[INFO\]\tpython handler called/);
    assert.match(log!, /\nEND RequestId: [\w-]+\n/);
    assert.match(
      log!,
      /\nREPORT RequestId: [\w-]+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: \d+ MB\tMax Memory Used: \d+ MB/,
    );
  });

  test('the official AWS SDK invokes a function with an access key from nimbus keys create', async () => {
    const created = await runCli(['keys', 'create', '--json'], { cwd: serviceDir, env });
    assert.equal(created.code, 0, created.stderr);
    const { key } = JSON.parse(created.stdout) as { key: { id: string; secret: string } };
    const lambda = new LambdaClient({
      endpoint: platform.url,
      region: 'us-east-1',
      credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
    });
    try {
      const out = await lambda.send(
        new InvokeCommand({
          FunctionName: 'hello-dev-esm',
          Qualifier: 'dev',
          Payload: Buffer.from(JSON.stringify({ queryStringParameters: { via: 'sdk' } })),
          LogType: 'Tail',
        }),
      );
      assert.equal(out.StatusCode, 200);
      assert.equal(out.FunctionError, undefined);
      assert.equal(out.ExecutedVersion, '1');
      const payload = JSON.parse(Buffer.from(out.Payload!).toString());
      assert.deepEqual(JSON.parse(payload.body).query, { via: 'sdk' });
      assert.match(Buffer.from(out.LogResult!, 'base64').toString(), /REPORT RequestId: /);
      await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: 'hello-dev-nothing' })), {
        name: 'ResourceNotFoundException',
      });
    } finally {
      lambda.destroy();
    }
    const wrong = new LambdaClient({
      endpoint: platform.url,
      region: 'us-east-1',
      credentials: { accessKeyId: key.id, secretAccessKey: 'x'.repeat(40) },
    });
    try {
      await assert.rejects(wrong.send(new InvokeCommand({ FunctionName: 'hello-dev-esm' })), {
        name: 'InvalidSignatureException',
      });
    } finally {
      wrong.destroy();
    }
  });
});
