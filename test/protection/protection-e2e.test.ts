import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type CliPlatform, startCliPlatform } from '../helpers/cli-platform.js';
import { runCli } from '../helpers/run-cli.js';
import { waitUntil } from '../helpers/wait-for.js';

const yml = `service: guarded
provider:
  name: aws
  runtime: nodejs20.x
functions:
  limited:
    handler: handler.ok
    events:
      - httpApi: GET /limited
  perKey:
    handler: handler.ok
    events:
      - httpApi: GET /per-ip
  degraded:
    handler: handler.ok
    events:
      - httpApi: GET /degraded
  flaky:
    handler: handler.flaky
    events:
      - httpApi: GET /flaky
  backup:
    handler: handler.backup
custom:
  nimbus:
    rateLimits:
      - name: limited-global
        function: limited
        per: all
        rate: 3/minute
      - name: per-ip
        route: GET /per-ip
        per: ip
        rate: 2/minute
      - name: degraded
        function: degraded
        per: all
        quota: { limit: 1, period: day }
      - name: invoke
        function: backup
        per: accessKey
        rate: 2/minute
    breakers:
      flaky:
        errorRate: 50
        minimumRequests: 2
        window: 30s
        cooldown: 400ms
    fallbacks:
      flaky:
        function: backup
      degraded:
        statusCode: 200
        headers: { x-served-by: fallback }
        body: cached answer
`;

const handler = `
let broken = true;
exports.ok = async () => ({ statusCode: 200, body: 'fresh' });
exports.backup = async () => ({ statusCode: 200, body: 'from backup' });
exports.flaky = async (event) => {
  if (event.queryStringParameters && event.queryStringParameters.heal) broken = false;
  if (broken) throw new Error('downstream is down');
  return { statusCode: 200, body: 'recovered' };
};
`;

describe('rate limits, breakers and fallbacks from custom.nimbus', () => {
  let p: CliPlatform;
  let base: string;

  before(async () => {
    p = await startCliPlatform();
    const dir = join(p.root, 'svc');
    await mkdir(dir);
    await writeFile(join(dir, 'serverless.yml'), yml);
    await writeFile(join(dir, 'handler.js'), handler);
    const res = await runCli(['deploy'], { cwd: dir, env: p.env });
    assert.equal(res.code, 0, res.stderr);
    base = `${p.platform.url}/guarded-dev`;
  });
  after(() => p?.close());

  test('a limit answers 429 with Retry-After in API Gateway shape once spent', async () => {
    for (let i = 0; i < 3; i++) {
      const ok = await fetch(`${base}/limited`);
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), 'fresh');
    }
    const refused = await fetch(`${base}/limited`);
    assert.equal(refused.status, 429);
    assert.deepEqual(await refused.json(), { message: 'Too Many Requests' });
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
  });

  test('per-ip limits believe X-Forwarded-For only from trusted proxies', async () => {
    // No proxy is trusted: a forged header does not buy a fresh bucket.
    for (let i = 0; i < 2; i++) {
      const ok = await fetch(`${base}/per-ip`, { headers: { 'x-forwarded-for': `10.0.0.${i}` } });
      assert.equal(ok.status, 200);
    }
    const refused = await fetch(`${base}/per-ip`, { headers: { 'x-forwarded-for': '10.9.9.9' } });
    assert.equal(refused.status, 429);
  });

  test('a static fallback answers while the quota is spent', async () => {
    const first = await fetch(`${base}/degraded`);
    assert.equal(await first.text(), 'fresh');
    const second = await fetch(`${base}/degraded`);
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('x-served-by'), 'fallback');
    assert.equal(await second.text(), 'cached answer');
  });

  test('a failing function opens its breaker, the fallback answers, a recovered one closes it', async () => {
    for (let i = 0; i < 2; i++) {
      const failed = await fetch(`${base}/flaky`);
      assert.equal(failed.status, 500);
      await failed.arrayBuffer();
    }
    // Open: the function is not called; its fallback function answers.
    const open = await fetch(`${base}/flaky?heal=1`);
    assert.equal(open.status, 200);
    assert.equal(await open.text(), 'from backup');
    const metrics = await (
      await fetch(`${p.platform.url}/metrics`, {
        headers: { authorization: `Bearer ${p.platform.adminToken}` },
      })
    ).text();
    assert.match(metrics, /nimbus_breaker_open\{function="guarded-dev-flaky"\} 1/);
    assert.match(
      metrics,
      /nimbus_throttles_total\{function="guarded-dev-limited",reason="RateLimitExceeded"\} 1/,
    );
    // After the cool-down one probe goes through; it heals the function and closes the breaker.
    await waitUntil(async () => {
      const res = await fetch(`${base}/flaky?heal=1`);
      return (await res.text()) === 'recovered';
    }, 'the breaker to let a probe through');
    const closed = await fetch(`${base}/flaky`);
    assert.equal(await closed.text(), 'recovered');
  });

  test('the Invoke API counts per access key and answers TooManyRequestsException', async () => {
    const created = await fetch(`${p.platform.url}/v1/keys`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${p.platform.adminToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ description: 'protection test' }),
    });
    const { key } = (await created.json()) as { key: { id: string; secret: string } };
    const lambda = new LambdaClient({
      endpoint: p.platform.url,
      region: 'us-east-1',
      credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
      maxAttempts: 1,
    });
    try {
      for (let i = 0; i < 2; i++) {
        const ok = await lambda.send(new InvokeCommand({ FunctionName: 'guarded-dev-backup' }));
        assert.equal(ok.StatusCode, 200);
      }
      await assert.rejects(
        lambda.send(new InvokeCommand({ FunctionName: 'guarded-dev-backup' })),
        (error: Error & { Reason?: string; $metadata?: { httpStatusCode?: number } }) => {
          assert.equal(error.name, 'TooManyRequestsException');
          assert.equal(error.Reason, 'CallerRateLimitExceeded');
          assert.equal(error.$metadata?.httpStatusCode, 429);
          return true;
        },
      );
    } finally {
      lambda.destroy();
    }
  });

  test('bad settings are refused at load with file:line and nothing is deployed', async () => {
    const dir = join(p.root, 'bad');
    await mkdir(dir);
    await writeFile(
      join(dir, 'serverless.yml'),
      `service: badguard
provider:
  name: aws
  runtime: nodejs20.x
functions:
  one:
    handler: handler.ok
custom:
  nimbus:
    rateLimits:
      - function: two
        rate: 5
    breakers:
      one:
        errorRate: 500
`,
    );
    await writeFile(join(dir, 'handler.js'), handler);
    const res = await runCli(['deploy'], { cwd: dir, env: p.env });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /serverless\.yml:\d+:\d+ custom\.nimbus\./);
    const stages = await fetch(`${p.platform.url}/v1/services`, {
      headers: { authorization: `Bearer ${p.platform.adminToken}` },
    });
    assert.doesNotMatch(await stages.text(), /badguard/);
  });
});
