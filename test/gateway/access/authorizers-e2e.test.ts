import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import pino from 'pino';
import { type RunningPlatform, startPlatform } from '../../../src/platform/server.js';
import { signRequest } from '../../auth/aws-signer.js';
import { runCli } from '../../helpers/run-cli.js';
import { makeTempDir } from '../../helpers/temp-dir.js';
import { startIssuer, type TestIssuer, token } from './jwks-server.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Record<string, unknown>;
}

/** node:http, so signed headers (content-length included) go out exactly as signed. */
function send(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          text,
          json: () => JSON.parse(text),
        });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const handler = [
  'exports.hello = async (event) => ({ statusCode: 200, body: JSON.stringify({',
  '  authorizer: event.requestContext.authorizer ?? null,',
  '  identity: event.requestContext.identity ?? null }) });',
  'let calls = 0;',
  'exports.tokenAuth = async (event) => {',
  '  calls += 1;',
  '  const t = event.authorizationToken;',
  "  const base = event.methodArn.split('/').slice(0, 2).join('/');",
  "  const policy = (effect, resource) => ({ Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }] });",
  "  if (t === 'allow') return { principalId: 'user-1', policyDocument: policy('Allow', base + '/GET/*'), context: { tier: 'gold', calls } };",
  "  if (t === 'deny') return { principalId: 'user-2', policyDocument: policy('Deny', event.methodArn) };",
  "  if (t === 'elsewhere') return { principalId: 'user-3', policyDocument: policy('Allow', base + '/POST/*') };",
  "  if (t === 'unauthorized') throw new Error('Unauthorized');",
  "  if (t === 'garbage') return { hello: 'world' };",
  "  if (t === 'slow') await new Promise((r) => setTimeout(r, 5000));",
  "  throw new TypeError('boom');",
  '};',
  'exports.simpleAuth = async (event) => ({',
  "  isAuthorized: event.headers['x-token'] === 'yes',",
  "  context: { who: 'simple', source: event.identitySource } });",
  '',
].join('\n');

function yml(issuer: string): string {
  return [
    'service: guard',
    'provider:',
    '  name: aws',
    '  runtime: nodejs20.x',
    '  httpApi:',
    '    authorizers:',
    '      jwtAuth:',
    '        type: jwt',
    '        identitySource: $request.header.Authorization',
    `        issuerUrl: ${issuer}`,
    '        audience: [my-client]',
    '      jwtDown:',
    '        type: jwt',
    '        issuerUrl: http://127.0.0.1:9',
    '        audience: my-client',
    '      simple:',
    '        type: request',
    '        functionName: simpleAuth',
    '        identitySource: [$request.header.X-Token]',
    '        enableSimpleResponses: true',
    '  apiGateway:',
    '    apiKeys:',
    '      - free: [freeKey]',
    '      - tight: [{ name: tightKey, value: tight-key-value-0123456789, description: for throttling }]',
    '    usagePlan:',
    '      - free: { quota: { limit: 3, period: DAY } }',
    '      - tight: { throttle: { rateLimit: 1, burstLimit: 2 } }',
    'functions:',
    '  hello:',
    '    handler: handler.hello',
    '    events:',
    '      - httpApi: { path: /open, method: get }',
    '      - httpApi: { path: /jwt, method: get, authorizer: { name: jwtAuth } }',
    '      - httpApi: { path: /scoped, method: get, authorizer: { name: jwtAuth, scopes: [admin] } }',
    '      - httpApi: { path: /down, method: get, authorizer: { name: jwtDown } }',
    '      - httpApi: { path: /simple, method: get, authorizer: { name: simple } }',
    '      - httpApi: { path: /iam, method: post, authorizer: { type: aws_iam } }',
    '      - http: { path: rest/lambda, method: get, authorizer: { name: tokenAuth } }',
    '      - http: { path: rest/private, method: get, private: true }',
    '      - http: { path: rest/iam, method: get, authorizer: aws_iam }',
    '  tokenAuth:',
    '    handler: handler.tokenAuth',
    '    timeout: 1',
    '  simpleAuth:',
    '    handler: handler.simpleAuth',
    '',
  ].join('\n');
}

describe('route access control on a real platform', () => {
  let platform: RunningPlatform;
  let issuer: TestIssuer;
  let cleanup: () => Promise<void>;
  let base: string;
  let env: Record<string, string>;
  let cwd: string;
  let dataDir: string;
  let offsetMs = 0;
  const clock = { now: () => Date.now() + offsetMs };
  const logLines: string[] = [];
  const secrets: string[] = [];

  const start = async () => {
    platform = await startPlatform({
      host: '127.0.0.1',
      port: 0,
      dataDir,
      clock,
      logger: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }),
    });
    base = `${platform.url}/guard-dev`;
    env = {
      HOME: join(dataDir, '..'),
      NIMBUS_ENDPOINT: platform.url,
      NIMBUS_TOKEN: platform.adminToken,
    };
  };
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const jwt = (
    claims: Record<string, unknown> = {},
    over: Partial<Parameters<typeof token>[1]> = {},
  ) =>
    token(issuer.rsa, {
      alg: 'RS256',
      kid: 'rsa1',
      iss: issuer.url,
      aud: 'my-client',
      nowMs: clock.now(),
      claims,
      ...over,
    });
  const helloInstances = () => platform.pool.countFor('guard-dev-hello', '1');
  const lastRefusal = () => {
    const line = [...logLines].reverse().find((l) => l.includes('request refused'));
    return line ? (JSON.parse(line) as { reason: string }).reason : undefined;
  };

  before(async () => {
    issuer = await startIssuer();
    const tmp = await makeTempDir();
    cwd = join(tmp.dir, 'svc');
    dataDir = join(tmp.dir, 'data');
    await mkdir(cwd);
    await writeFile(join(cwd, 'serverless.yml'), yml(issuer.url));
    await writeFile(join(cwd, 'handler.js'), handler);
    await start();
    const deployed = await runCli(['deploy'], { cwd, env });
    assert.equal(deployed.code, 0, deployed.stderr);
    cleanup = async () => {
      await platform.close();
      await issuer.close();
      await tmp.cleanup();
    };
  });
  after(() => cleanup());

  test('every bad credential is refused in API Gateway shape, the function never runs, the reason is logged', async () => {
    const cases: [string, string, Record<string, string>, number, string][] = [
      ['jwt: none', '/jwt', {}, 401, '{"message":"Unauthorized"}'],
      ['jwt: malformed', '/jwt', bearer('not.a.jwt'), 401, '{"message":"Unauthorized"}'],
    ];
    const expired = await jwt({}, { expInS: -600 });
    const wrongAudience = await jwt({}, { aud: 'someone-else' });
    const wrongIssuer = await jwt({}, { iss: 'https://evil.example' });
    const other = await (await import('jose')).generateKeyPair('RS256');
    const wrongSignature = await token(other.privateKey, {
      alg: 'RS256',
      kid: 'rsa1',
      iss: issuer.url,
      aud: 'my-client',
      nowMs: clock.now(),
    });
    const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(clock.now() / 1000);
    const payload = { iss: issuer.url, aud: 'my-client', exp: now + 300, sub: 'x' };
    const algNone = `${part({ alg: 'none', kid: 'rsa1' })}.${part(payload)}.`;
    const hmacInput = `${part({ alg: 'HS256', kid: 'rsa1' })}.${part(payload)}`;
    const hmacWithRsaKey = `${hmacInput}.${createHmac('sha256', issuer.rsaPublicPem).update(hmacInput).digest('base64url')}`;
    const noScope = await jwt({ scope: 'read' });
    secrets.push(
      expired,
      wrongAudience,
      wrongIssuer,
      wrongSignature,
      algNone,
      hmacWithRsaKey,
      noScope,
    );
    cases.push(
      ['jwt: expired', '/jwt', bearer(expired), 401, '{"message":"Unauthorized"}'],
      ['jwt: wrong audience', '/jwt', bearer(wrongAudience), 401, '{"message":"Unauthorized"}'],
      ['jwt: wrong issuer', '/jwt', bearer(wrongIssuer), 401, '{"message":"Unauthorized"}'],
      ['jwt: wrong signature', '/jwt', bearer(wrongSignature), 401, '{"message":"Unauthorized"}'],
      ['jwt: alg none', '/jwt', bearer(algNone), 401, '{"message":"Unauthorized"}'],
      [
        'jwt: HMAC with the RSA key',
        '/jwt',
        bearer(hmacWithRsaKey),
        401,
        '{"message":"Unauthorized"}',
      ],
      ['jwt: scopes missing', '/scoped', bearer(noScope), 403, '{"message":"Forbidden"}'],
      ['jwt: JWKS unreachable', '/down', bearer(noScope), 401, '{"message":"Unauthorized"}'],
      ['simple: no identity', '/simple', {}, 401, '{"message":"Unauthorized"}'],
      [
        'simple: isAuthorized false',
        '/simple',
        { 'x-token': 'no' },
        403,
        '{"message":"Forbidden"}',
      ],
      ['rest lambda: no token', '/rest/lambda', {}, 401, '{"message":"Unauthorized"}'],
      [
        'rest lambda: Unauthorized',
        '/rest/lambda',
        { authorization: 'unauthorized' },
        401,
        '{"message":"Unauthorized"}',
      ],
      [
        'rest lambda: explicit deny',
        '/rest/lambda',
        { authorization: 'deny' },
        403,
        '{"Message":"User is not authorized to access this resource with an explicit deny"}',
      ],
      [
        'rest lambda: policy for other methods',
        '/rest/lambda',
        { authorization: 'elsewhere' },
        403,
        '{"Message":"User is not authorized to access this resource"}',
      ],
      ['rest lambda: throws', '/rest/lambda', { authorization: 'throw' }, 500, '{"message": null}'],
      [
        'rest lambda: garbage',
        '/rest/lambda',
        { authorization: 'garbage' },
        500,
        '{"message": null}',
      ],
      [
        'rest lambda: times out',
        '/rest/lambda',
        { authorization: 'slow' },
        500,
        '{"message": null}',
      ],
      ['private: no key', '/rest/private', {}, 403, '{"message":"Forbidden"}'],
      [
        'private: unknown key',
        '/rest/private',
        { 'x-api-key': 'not-a-key-of-this-stage-000' },
        403,
        '{"message":"Forbidden"}',
      ],
      ['iam: unsigned', '/rest/iam', {}, 403, '{"message":"Missing Authentication Token"}'],
    );
    for (const [what, path, headers, status, body] of cases) {
      const before = logLines.length;
      const res = await send(`${base}${path}`, { headers });
      assert.equal(res.status, status, `${what}: ${res.text}`);
      assert.equal(res.text, body, what);
      assert.ok(logLines.length > before && lastRefusal(), `${what}: a reason is logged`);
    }
    assert.equal(helloInstances(), 0, 'the protected function never ran');
    const refusals = logLines.filter((l) => l.includes('request refused'));
    assert.ok(refusals.length >= cases.length);
    for (const line of logLines) {
      for (const secret of [...secrets, 'not.a.jwt']) {
        assert.ok(!line.includes(secret), `no token in the log: ${line}`);
      }
    }
    assert.ok(
      refusals.some((l) => l.includes('ERR_JWT_EXPIRED')),
      'expiry is named',
    );
    assert.ok(
      refusals.some((l) => l.includes('ERR_JOSE_ALG_NOT_ALLOWED')),
      'the algorithm is named',
    );
  });

  test('a public route does not touch access control, and answers as before', async () => {
    const res = await send(`${base}/open`);
    assert.equal(res.status, 200);
    assert.equal(res.json().authorizer, null);
  });

  test('JWT: RS256 and ES256 tokens pass, claims and scopes reach the function', async () => {
    const rs = await jwt({ scope: 'read admin' });
    const res = await send(`${base}/scoped`, { headers: bearer(rs) });
    assert.equal(res.status, 200, res.text);
    const auth = res.json().authorizer as {
      jwt: { claims: Record<string, string>; scopes: string[] };
    };
    assert.deepEqual(auth.jwt.scopes, ['read', 'admin']);
    assert.equal(auth.jwt.claims.sub, 'user-42');
    assert.equal(auth.jwt.claims.aud, 'my-client');
    const es = await token(issuer.ec, {
      alg: 'ES256',
      kid: 'ec1',
      iss: issuer.url,
      aud: 'my-client',
      nowMs: clock.now(),
    });
    assert.equal((await send(`${base}/jwt`, { headers: bearer(es) })).status, 200);
    // client_id stands in for a missing aud (Cognito access tokens carry no aud).
    const clientId = await jwt({ client_id: 'my-client' }, { aud: undefined });
    assert.equal((await send(`${base}/jwt`, { headers: bearer(clientId) })).status, 200);
  });

  test('JWT: an unknown kid refetches the keys once per cooldown, so rotation works and forged kids do not flood the issuer', async () => {
    const jose = await import('jose');
    const fetched = issuer.jwksFetches;
    const rotated = await jose.generateKeyPair('RS256', { extractable: true });
    const rotatedToken = async () =>
      token(rotated.privateKey, {
        alg: 'RS256',
        kid: 'rsa2',
        iss: issuer.url,
        aud: 'my-client',
        nowMs: clock.now(),
      });
    // Not published yet: one refetch at most, then refused.
    offsetMs += 31_000;
    assert.equal(
      (await send(`${base}/jwt`, { headers: bearer(await rotatedToken()) })).status,
      401,
    );
    assert.equal(issuer.jwksFetches, fetched + 1);
    for (let i = 0; i < 5; i++) {
      assert.equal(
        (await send(`${base}/jwt`, { headers: bearer(await rotatedToken()) })).status,
        401,
      );
    }
    assert.equal(issuer.jwksFetches, fetched + 1, 'no refetch inside the cooldown');
    issuer.publish('rsa2', { ...(await jose.exportJWK(rotated.publicKey)), alg: 'RS256' });
    offsetMs += 31_000;
    assert.equal(
      (await send(`${base}/jwt`, { headers: bearer(await rotatedToken()) })).status,
      200,
    );
    assert.equal(issuer.jwksFetches, fetched + 2);
  });

  test('HTTP API Lambda authorizer with simple responses: context in authorizer.lambda', async () => {
    const res = await send(`${base}/simple`, { headers: { 'x-token': 'yes' } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json().authorizer, { lambda: { who: 'simple', source: ['yes'] } });
  });

  test('REST TOKEN authorizer: policy allows, context reaches the function, the result is cached for 300 s', async () => {
    const first = await send(`${base}/rest/lambda`, { headers: { authorization: 'allow' } });
    assert.equal(first.status, 200, first.text);
    const auth = first.json().authorizer as Record<string, unknown>;
    assert.equal(auth.principalId, 'user-1');
    assert.equal(auth.tier, 'gold');
    const again = await send(`${base}/rest/lambda`, { headers: { authorization: 'allow' } });
    assert.equal((again.json().authorizer as Record<string, unknown>).calls, auth.calls, 'cached');
    offsetMs += 301_000;
    const later = await send(`${base}/rest/lambda`, { headers: { authorization: 'allow' } });
    assert.notEqual(
      (later.json().authorizer as Record<string, unknown>).calls,
      auth.calls,
      'expired',
    );
  });

  test('API keys: info prints stable values; quota 429 Limit Exceeded survives a restart; throttle 429 Too Many Requests', async () => {
    const info = await runCli(['info'], { cwd, env });
    assert.equal(info.code, 0, info.stderr);
    const free = /^ {2}freeKey: (\S+)$/m.exec(info.stdout)?.[1];
    assert.ok(free, info.stdout);
    assert.match(
      info.stdout,
      /^api keys:\n {2}freeKey: \S+\n {2}tightKey: tight-key-value-0123456789 - for throttling$/m,
    );
    const redeploy = await runCli(['deploy', '--force'], { cwd, env });
    assert.equal(redeploy.code, 0, redeploy.stderr);
    const again = await runCli(['info'], { cwd, env });
    assert.ok(again.stdout.includes(`freeKey: ${free}`), 'the generated value is kept');

    const call = (key: string) => send(`${base}/rest/private`, { headers: { 'x-api-key': key } });
    for (let i = 0; i < 3; i++) {
      const ok = await call(free);
      assert.equal(ok.status, 200, ok.text);
      assert.equal((ok.json().identity as Record<string, unknown>).apiKey, free);
    }
    const over = await call(free);
    assert.equal(over.status, 429);
    assert.equal(over.text, '{"message":"Limit Exceeded"}');

    await platform.close();
    await start();
    assert.equal((await call(free)).status, 429, 'the quota survives a restart');
    assert.equal((await call('tight-key-value-0123456789')).status, 200);
    assert.equal((await call('tight-key-value-0123456789')).status, 200);
    const throttled = await call('tight-key-value-0123456789');
    assert.equal(throttled.status, 429);
    assert.equal(throttled.text, '{"message":"Too Many Requests"}');
    offsetMs += 1000;
    assert.equal(
      (await call('tight-key-value-0123456789')).status,
      200,
      'one token back after 1 s',
    );
    offsetMs += 86_400_000;
    assert.equal((await call(free)).status, 200, 'a new day, a new quota');
  });

  test('aws_iam: SigV4 for execute-api with a Nimbus access key; scoped keys refused outside their scope', async () => {
    const create = async (args: string[]) => {
      const run = await runCli(['keys', 'create', '--json', ...args], { cwd, env });
      assert.equal(run.code, 0, run.stderr);
      return (JSON.parse(run.stdout) as { key: { id: string; secret: string } }).key;
    };
    const key = await create([]);
    const elsewhere = await create(['--service', 'other']);
    const readOnly = await create(['--service', 'guard', '--read-only']);
    secrets.push(key.secret, elsewhere.secret, readOnly.secret);
    const signed = async (
      k: { id: string; secret: string },
      path: string,
      method = 'GET',
      body = '',
    ) => {
      const url = new URL(`${base}${path}`);
      const s = await signRequest(
        { method, path: url.pathname, host: url.host, body },
        { accessKeyId: k.id, secret: k.secret, at: clock.now(), service: 'execute-api' },
      );
      return send(url.href, { method, headers: s.headers as Record<string, string>, body });
    };
    const ok = await signed(key, '/rest/iam');
    assert.equal(ok.status, 200, ok.text);
    const identity = ok.json().identity as Record<string, string>;
    assert.equal(identity.accessKey, key.id);
    assert.equal(identity.userArn, `arn:aws:iam::000000000000:user/${key.id}`);
    const v2 = await signed(key, '/iam', 'POST', '{"a":1}');
    assert.equal(v2.status, 200, v2.text);
    assert.equal((v2.json().authorizer as { iam: { accessKey: string } }).iam.accessKey, key.id);

    const wrong = await signed({ id: key.id, secret: 'x'.repeat(40) }, '/rest/iam');
    assert.equal(wrong.status, 403);
    assert.match(wrong.text, /signature we calculated does not match/);
    const admin = await send(`${base}/rest/iam`, { headers: bearer(platform.adminToken) });
    assert.equal(admin.status, 403, 'the admin token is not an IAM identity');
    const scoped = await signed(elsewhere, '/rest/iam');
    assert.equal(scoped.status, 403);
    assert.match(
      scoped.json().Message as string,
      /is not authorized to perform: execute-api:Invoke/,
    );
    assert.equal((await signed(readOnly, '/rest/iam')).status, 200, 'a read-only key may GET');
    assert.equal((await signed(readOnly, '/iam', 'POST', '{}')).status, 403, 'but not POST');

    // The Invoke API honours the same scopes.
    const lambda = (k: { id: string; secret: string }) =>
      new LambdaClient({
        endpoint: platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: k.id, secretAccessKey: k.secret },
        // The platform's clock runs ahead (the tests above moved it); sign in its time.
        systemClockOffset: offsetMs,
      });
    const payload = Buffer.from('{}');
    const done = await lambda(key).send(
      new InvokeCommand({ FunctionName: 'guard-dev-hello', Payload: payload }),
    );
    assert.equal(done.StatusCode, 200);
    for (const k of [elsewhere, readOnly]) {
      await assert.rejects(
        lambda(k).send(new InvokeCommand({ FunctionName: 'guard-dev-hello', Payload: payload })),
        (error: Error & { $metadata?: { httpStatusCode?: number } }) =>
          error.name === 'AccessDeniedException' && error.$metadata?.httpStatusCode === 403,
      );
    }
    const narrow = await create(['--service', 'guard', '--stage', 'dev', '--functions', 'hello']);
    secrets.push(narrow.secret);
    assert.equal(
      (
        await lambda(narrow).send(
          new InvokeCommand({ FunctionName: 'guard-dev-hello', Payload: payload }),
        )
      ).StatusCode,
      200,
    );
    await assert.rejects(
      lambda(narrow).send(
        new InvokeCommand({ FunctionName: 'guard-dev-simpleAuth', Payload: payload }),
      ),
      { name: 'AccessDeniedException' },
    );
    await assert.rejects(
      lambda(narrow).send(
        new InvokeCommand({ FunctionName: 'no-such-function', Payload: payload }),
      ),
      { name: 'AccessDeniedException' },
      'a scoped key does not learn which functions exist',
    );
    for (const line of logLines) {
      for (const secret of secrets) assert.ok(!line.includes(secret), 'no secret in the log');
    }
  });
});
