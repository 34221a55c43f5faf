import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  InvokeCommand,
  InvokeWithResponseStreamCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { functionUrlIdOf } from '../../../src/platform/gateway/function-url/function-url-id.js';
import { signRequest } from '../../auth/aws-signer.js';
import { type CliPlatform, startCliPlatform } from '../../helpers/cli-platform.js';
import { runCli } from '../../helpers/run-cli.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

/** node:http to the platform's address with any Host header (no *.localhost resolution). */
function send(
  address: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  const url = new URL(path, address);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, setHost: !opts.headers?.host },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode!, headers: res.headers, body, text: body.toString() });
        });
        // A response cut short (a stream that failed after its first byte) never ends.
        res.on('close', () => {
          if (!res.complete) reject(new Error('response cut short'));
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const handler = [
  'exports.echo = async (event) => {',
  "  if (event.rawPath === '/string') return 'Hello';",
  "  if (event.rawPath === '/object') return { hello: 'world' };",
  "  if (event.rawPath === '/cookies') return { statusCode: 201, headers: { 'x-a': 'b' }, cookies: ['a=1', 'b=2; Path=/'], body: 'made' };",
  "  if (event.rawPath === '/binary') return { statusCode: 200, headers: { 'content-type': 'image/png' }, body: Buffer.from([0, 1, 2, 255]).toString('base64'), isBase64Encoded: true };",
  "  if (event.rawPath === '/throw') throw new Error('boom');",
  "  if (event.rawPath === '/malformed') return { statusCode: 'nope' };",
  '  return { statusCode: 200, body: JSON.stringify(event) };',
  '};',
  'exports.stream = awslambda.streamifyResponse(async (event, responseStream) => {',
  "  if (event.rawPath === '/plain') {",
  "    responseStream.setContentType('text/plain');",
  "    responseStream.write('a');",
  "    responseStream.write('b');",
  '    responseStream.end();',
  '    return;',
  '  }',
  "  if (event.rawPath === '/badprelude') {",
  "    responseStream.setContentType('application/vnd.awslambda.http-integration-response');",
  "    responseStream.write(Buffer.concat([Buffer.from('not json'), Buffer.alloc(8)]));",
  "    responseStream.write('more');",
  '    responseStream.end();',
  '    return;',
  '  }',
  "  if (event.rawPath === '/fail') {",
  "    responseStream.write('partial');",
  '    await new Promise((r) => setTimeout(r, 50));',
  "    throw new Error('mid-stream');",
  '  }',
  '  const out = awslambda.HttpResponseStream.from(responseStream, {',
  "    statusCode: 201, headers: { 'content-type': 'text/event-stream', 'x-s': '1' }, cookies: ['s=1'] });",
  "  out.write('first\\n');",
  // Waits on the test: its signal server answers only once the client holds the first chunk.
  '  await fetch(event.queryStringParameters.signal);',
  "  out.write('second\\n');",
  '  out.end();',
  '});',
  "exports.whole = async () => ({ statusCode: 202, headers: { 'x-w': '1' }, body: 'whole' });",
  '',
].join('\n');

const yml = [
  'service: urls',
  'provider:',
  '  name: aws',
  '  runtime: nodejs20.x',
  'functions:',
  '  open:',
  '    handler: handler.echo',
  '    url:',
  '      cors:',
  '        allowedOrigins: [https://app.example]',
  '        allowedHeaders: [content-type, x-custom]',
  '        allowCredentials: true',
  '        exposedResponseHeaders: [x-a]',
  '        maxAge: 300',
  '  locked:',
  '    handler: handler.echo',
  '    url:',
  '      authorizer: aws_iam',
  '  streamer:',
  '    handler: handler.stream',
  '    url: { invokeMode: RESPONSE_STREAM }',
  '  wholeInStreamMode:',
  '    handler: handler.whole',
  '    url: { invokeMode: RESPONSE_STREAM }',
  '  plain:',
  '    handler: handler.echo',
  '',
].join('\n');

describe('function URLs on a real platform', () => {
  let cli: CliPlatform;
  let cwd: string;
  let deployOut: string;
  const openId = functionUrlIdOf('urls-dev-open');
  const lockedId = functionUrlIdOf('urls-dev-locked');
  const hostOf = (id: string) => `${id}.lambda-url.localhost:${new URL(cli.platform.url).port}`;

  before(async () => {
    cli = await startCliPlatform();
    cwd = join(cli.root, 'svc');
    await mkdir(cwd);
    await writeFile(join(cwd, 'serverless.yml'), yml);
    await writeFile(join(cwd, 'handler.js'), handler);
    const deployed = await runCli(['deploy'], { cwd, env: cli.env });
    assert.equal(deployed.code, 0, deployed.stderr);
    deployOut = deployed.stdout;
  });
  after(() => cli.close());

  test('deploy and info print each URL in host and path form; functions without url get none', async () => {
    const port = new URL(cli.platform.url).port;
    for (const out of [deployOut, (await runCli(['info'], { cwd, env: cli.env })).stdout]) {
      assert.match(out, new RegExp(`open: http://${openId}\\.lambda-url\\.localhost:${port}/`));
      assert.ok(out.includes(`open: ${cli.platform.url}/_lambda-url/${openId}/`), out);
      assert.match(out, new RegExp(`locked: http://${lockedId}\\.lambda-url`));
      assert.doesNotMatch(out, /plain: http/);
    }
  });

  test('the event is payload 2.0 with routeKey and stage $default, by host and by path', async () => {
    const byHost = await send(cli.platform.url, '/some/path%20x?a=1&a=2&b=', {
      method: 'POST',
      headers: {
        host: hostOf(openId),
        cookie: 'c1=v1; c2=v2',
        'content-type': 'application/json',
        'user-agent': 'test-agent',
      },
      body: '{"x":1}',
    });
    assert.equal(byHost.status, 200, byHost.text);
    assert.ok(byHost.headers['x-amzn-requestid']);
    const event = JSON.parse(byHost.text);
    assert.equal(event.version, '2.0');
    assert.equal(event.routeKey, '$default');
    assert.equal(event.rawPath, '/some/path%20x');
    assert.equal(event.rawQueryString, 'a=1&a=2&b=');
    assert.deepEqual(event.queryStringParameters, { a: '1,2', b: '' });
    assert.deepEqual(event.cookies, ['c1=v1', 'c2=v2']);
    assert.equal(event.headers['user-agent'], 'test-agent');
    assert.equal(event.body, '{"x":1}');
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.pathParameters, null);
    assert.equal(event.stageVariables, null);
    const ctx = event.requestContext;
    assert.equal(ctx.routeKey, '$default');
    assert.equal(ctx.stage, '$default');
    assert.equal(ctx.apiId, openId);
    assert.equal(ctx.domainPrefix, openId);
    assert.equal(ctx.domainName, hostOf(openId));
    assert.equal(ctx.accountId, 'anonymous');
    assert.equal(ctx.http.method, 'POST');
    assert.equal(ctx.http.path, '/some/path%20x');
    assert.equal(ctx.http.sourceIp, '127.0.0.1');
    assert.equal(typeof ctx.timeEpoch, 'number');
    assert.equal(ctx.authorizer, undefined);

    const byPath = await send(cli.platform.url, `/_lambda-url/${openId}/p?q=1`);
    assert.equal(byPath.status, 200, byPath.text);
    assert.equal(JSON.parse(byPath.text).rawPath, '/p');
    const root = await send(cli.platform.url, `/_lambda-url/${openId}`);
    assert.equal(JSON.parse(root.text).rawPath, '/');
  });

  test('response rules: a JSON string keeps its quotes, objects are inferred JSON, cookies, base64', async () => {
    const host = { host: hostOf(openId) };
    const text = await send(cli.platform.url, '/string', { headers: host });
    assert.equal(text.status, 200);
    assert.equal(text.text, '"Hello"');
    assert.equal(text.headers['content-type'], 'application/json');
    const object = await send(cli.platform.url, '/object', { headers: host });
    assert.deepEqual(JSON.parse(object.text), { hello: 'world' });
    assert.equal(object.headers['content-type'], 'application/json');
    const cookies = await send(cli.platform.url, '/cookies', { headers: host });
    assert.equal(cookies.status, 201);
    assert.equal(cookies.text, 'made');
    assert.equal(cookies.headers['x-a'], 'b');
    assert.deepEqual(cookies.headers['set-cookie'], ['a=1', 'b=2; Path=/']);
    const binary = await send(cli.platform.url, '/binary', { headers: host });
    assert.deepEqual([...binary.body], [0, 1, 2, 255]);
    for (const path of ['/throw', '/malformed']) {
      const failed = await send(cli.platform.url, path, { headers: host });
      assert.equal(failed.status, 502, path);
      assert.equal(failed.text, 'Internal Server Error');
    }
    const unknown = await send(cli.platform.url, '/x', {
      headers: { host: hostOf('0'.repeat(32)) },
    });
    assert.equal(unknown.status, 404);
  });

  test('CORS from the url config: preflight answered by the platform, headers on responses', async () => {
    const preflight = await send(cli.platform.url, '/anything', {
      method: 'OPTIONS',
      headers: {
        host: hostOf(openId),
        origin: 'https://app.example',
        'access-control-request-method': 'PUT',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(preflight.headers['access-control-allow-headers'], 'content-type,x-custom');
    assert.equal(preflight.headers['access-control-max-age'], '300');
    const actual = await send(cli.platform.url, '/cookies', {
      headers: { host: hostOf(openId), origin: 'https://app.example' },
    });
    assert.equal(actual.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(actual.headers['access-control-allow-credentials'], 'true');
    assert.equal(actual.headers['access-control-expose-headers'], 'x-a');
    const stranger = await send(cli.platform.url, '/cookies', {
      headers: { host: hostOf(openId), origin: 'https://evil.example' },
    });
    assert.equal(stranger.headers['access-control-allow-origin'], undefined);
  });

  test('aws_iam: SigV4 for service lambda with a Nimbus key reaching the function; all else 403', async () => {
    const create = async (args: string[]) => {
      const run = await runCli(['keys', 'create', '--json', ...args], { cwd, env: cli.env });
      assert.equal(run.code, 0, run.stderr);
      return (JSON.parse(run.stdout) as { key: { id: string; secret: string } }).key;
    };
    const key = await create([]);
    const elsewhere = await create(['--service', 'other']);
    const signed = async (
      k: { id: string; secret: string },
      opts: { service?: string; form?: 'host' | 'path'; body?: string } = {},
    ) => {
      const host = opts.form === 'path' ? new URL(cli.platform.url).host : hostOf(lockedId);
      const path = opts.form === 'path' ? `/_lambda-url/${lockedId}/who` : '/who';
      const body = opts.body ?? '';
      const s = await signRequest(
        { method: 'POST', path, host, body },
        { accessKeyId: k.id, secret: k.secret, at: Date.now(), service: opts.service ?? 'lambda' },
      );
      return send(cli.platform.url, path, {
        method: 'POST',
        headers: { ...(s.headers as Record<string, string>), host },
        body,
      });
    };
    const ok = await signed(key, { body: '{"a":1}' });
    assert.equal(ok.status, 200, ok.text);
    const event = JSON.parse(ok.text);
    assert.equal(event.requestContext.authorizer.iam.accessKey, key.id);
    assert.equal(
      event.requestContext.authorizer.iam.userArn,
      `arn:aws:iam::000000000000:user/${key.id}`,
    );
    assert.equal(event.requestContext.accountId, '000000000000');
    assert.equal(event.body, '{"a":1}');
    assert.equal((await signed(key, { form: 'path' })).status, 200);

    const unsigned = await send(cli.platform.url, '/who', { headers: { host: hostOf(lockedId) } });
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.text, '{"Message":"Forbidden"}');
    assert.equal((await signed({ id: key.id, secret: 'x'.repeat(40) })).status, 403);
    assert.equal((await signed(key, { service: 'execute-api' })).status, 403);
    assert.equal((await signed(elsewhere)).status, 403);
    const admin = await send(cli.platform.url, '/who', {
      headers: { host: hostOf(lockedId), authorization: `Bearer ${cli.platform.adminToken}` },
    });
    assert.equal(admin.status, 403);
  });

  test('RESPONSE_STREAM: the first chunk reaches the client before the handler writes its last', async () => {
    let signalled = false;
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const signalServer = createServer((_req, res) => {
      void released.then(() => res.writeHead(200, { connection: 'close' }).end('go'));
    });
    await new Promise<void>((resolve) => signalServer.listen(0, '127.0.0.1', resolve));
    const signal = `http://127.0.0.1:${(signalServer.address() as AddressInfo).port}/`;
    const host = hostOf(functionUrlIdOf('urls-dev-streamer'));
    const seen = await new Promise<{
      status: number;
      headers: Record<string, string | string[] | undefined>;
      chunks: string[];
      signalledAfterFirst: boolean;
    }>((resolve, reject) => {
      const path = `/events?signal=${encodeURIComponent(signal)}`;
      const req = request(new URL(path, cli.platform.url), { headers: { host } }, (res) => {
        const chunks: string[] = [];
        let signalledAfterFirst = false;
        res.on('data', (c: Buffer) => {
          chunks.push(c.toString());
          if (chunks.length === 1) {
            // The handler is still waiting on the signal: the first byte came first.
            signalledAfterFirst = !signalled;
            signalled = true;
            release();
          }
        });
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, chunks, signalledAfterFirst }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(seen.status, 201);
    assert.equal(seen.headers['content-type'], 'text/event-stream');
    assert.equal(seen.headers['x-s'], '1');
    assert.deepEqual(seen.headers['set-cookie'], ['s=1']);
    assert.equal(seen.headers['transfer-encoding'], 'chunked');
    assert.ok(seen.headers['x-amzn-requestid']);
    assert.equal(seen.chunks[0], 'first\n');
    assert.ok(seen.signalledAfterFirst, 'the first chunk arrived only after the handler finished');
    assert.equal(seen.chunks.join(''), 'first\nsecond\n');
    signalServer.closeAllConnections();
    signalServer.close();

    const plain = await send(cli.platform.url, '/plain', { headers: { host } });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-type'], 'text/plain');
    assert.equal(plain.text, 'ab');

    const whole = await send(cli.platform.url, '/', {
      headers: { host: hostOf(functionUrlIdOf('urls-dev-wholeInStreamMode')) },
    });
    assert.equal(whole.status, 202);
    assert.equal(whole.headers['x-w'], '1');
    assert.equal(whole.text, 'whole');

    const bad = await send(cli.platform.url, '/badprelude', { headers: { host } });
    assert.equal(bad.status, 502);
    assert.equal(bad.text, 'Internal Server Error');
    assert.equal((await send(cli.platform.url, '/plain', { headers: { host } })).text, 'ab');

    // A failure after the first byte can only cut the response short.
    await assert.rejects(send(cli.platform.url, '/fail', { headers: { host } }), /cut short/);
  });

  test('InvokeWithResponseStream through @aws-sdk/client-lambda: PayloadChunk events as written, then InvokeComplete', async () => {
    const run = await runCli(['keys', 'create', '--json'], { cwd, env: cli.env });
    const key = (JSON.parse(run.stdout) as { key: { id: string; secret: string } }).key;
    const client = new LambdaClient({
      endpoint: cli.platform.url,
      region: 'us-east-1',
      credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
      maxAttempts: 1,
    });
    let signalled = false;
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const signalServer = createServer((_req, res) => {
      void released.then(() => res.writeHead(200, { connection: 'close' }).end('go'));
    });
    await new Promise<void>((resolve) => signalServer.listen(0, '127.0.0.1', resolve));
    const signal = `http://127.0.0.1:${(signalServer.address() as AddressInfo).port}/`;
    const event = { rawPath: '/events', queryStringParameters: { signal } };
    const answer = await client.send(
      new InvokeWithResponseStreamCommand({
        FunctionName: 'urls-dev-streamer',
        Payload: new TextEncoder().encode(JSON.stringify(event)),
        LogType: 'Tail',
      }),
    );
    assert.equal(answer.StatusCode, 200);
    assert.equal(answer.ExecutedVersion, '1');
    const chunks: string[] = [];
    let complete: Record<string, unknown> | undefined;
    let firstBeforeSignal = false;
    for await (const item of answer.EventStream!) {
      if (item.PayloadChunk?.Payload) {
        chunks.push(new TextDecoder().decode(item.PayloadChunk.Payload));
        if (!signalled) {
          firstBeforeSignal = true;
          signalled = true;
          release();
        }
      }
      if (item.InvokeComplete) complete = item.InvokeComplete as Record<string, unknown>;
    }
    signalServer.closeAllConnections();
    signalServer.close();
    assert.ok(firstBeforeSignal);
    // The prelude HttpResponseStream.from wrote is part of the raw stream, as on Lambda.
    const all = chunks.join('');
    assert.ok(all.endsWith('first\nsecond\n'), all);
    assert.ok(all.startsWith('{"statusCode":201'), all);
    assert.ok(complete);
    assert.equal(complete.ErrorCode, undefined);
    assert.match(Buffer.from(String(complete.LogResult), 'base64').toString(), /REPORT/);

    // A handler that does not stream: its whole result as one chunk.
    const whole = await client.send(
      new InvokeWithResponseStreamCommand({ FunctionName: 'urls-dev-wholeInStreamMode' }),
    );
    const parts: string[] = [];
    for await (const item of whole.EventStream!) {
      if (item.PayloadChunk?.Payload)
        parts.push(new TextDecoder().decode(item.PayloadChunk.Payload));
    }
    assert.deepEqual(JSON.parse(parts.join('')).body, 'whole');

    // A streaming handler that fails after writing: InvokeComplete carries the error.
    const failing = await client.send(
      new InvokeWithResponseStreamCommand({
        FunctionName: 'urls-dev-streamer',
        Payload: new TextEncoder().encode(JSON.stringify({ rawPath: '/fail' })),
      }),
    );
    let failed: Record<string, unknown> | undefined;
    for await (const item of failing.EventStream!) {
      if (item.InvokeComplete) failed = item.InvokeComplete as Record<string, unknown>;
    }
    assert.equal(failed?.ErrorCode, 'Error');
    assert.equal(failed?.ErrorDetails, 'mid-stream');

    // Plain Invoke of a streaming handler gathers what it wrote.
    const plain = await client.send(
      new InvokeCommand({
        FunctionName: 'urls-dev-streamer',
        Payload: new TextEncoder().encode(JSON.stringify({ rawPath: '/plain' })),
      }),
    );
    assert.equal(new TextDecoder().decode(plain.Payload), 'ab');

    const missing = await client
      .send(new InvokeWithResponseStreamCommand({ FunctionName: 'nope' }))
      .catch((e: Error) => e);
    assert.equal((missing as Error).name, 'ResourceNotFoundException');
  });
});
