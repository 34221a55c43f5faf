import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CliPlatform, startCliPlatform } from '../../helpers/cli-platform.js';
import { runCli } from '../../helpers/run-cli.js';

interface Answer {
  status: number;
  statusMessage: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

/** node:http to the platform's address with any Host header (no *.localhost resolution). */
function send(
  address: string,
  path: string,
  opts: {
    method?: string;
    headers?: Record<string, string | string[]>;
    body?: string | Buffer;
  } = {},
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
          resolve({
            status: res.statusCode!,
            statusMessage: res.statusMessage ?? '',
            headers: res.headers,
            body,
            text: body.toString(),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const LISTENER =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop-lb/50dc6c495c0c9188/f2f7dc8efc522ab2';

const handler = [
  'exports.echo = async (event) => {',
  '  const tag = process.env.TAG;',
  "  if (event.path === '/api/malformed') return { statusCode: 'nope' };",
  "  if (event.path === '/api/throw') throw new Error('boom');",
  "  if (event.path === '/api/binary') return { statusCode: 200, statusDescription: '200 OK', headers: { 'content-type': 'image/png' }, body: Buffer.from([0, 1, 2, 255]).toString('base64'), isBase64Encoded: true };",
  "  if (event.path === '/api/teapot') return { statusCode: 418, statusDescription: '418 Short And Stout', headers: { 'x-tag': tag }, body: 'tea' };",
  "  if (event.multiValueHeaders) return { statusCode: 200, multiValueHeaders: { 'set-cookie': ['a=1', 'b=2'], 'x-tag': [tag] }, headers: { ignored: 'yes' }, body: JSON.stringify(event) };",
  "  return { statusCode: 200, headers: { 'content-type': 'application/json', 'x-tag': tag }, multiValueHeaders: { ignored: ['yes'] }, body: JSON.stringify(event) };",
  '};',
  '',
].join('\n');

/** One function per rule, told apart by TAG, so each answer says which rule matched. */
function fn(name: string, priority: number, conditions: string[], extra: string[] = []): string[] {
  return [
    `  ${name}:`,
    '    handler: handler.echo',
    `    environment: { TAG: ${name} }`,
    '    events:',
    '      - alb:',
    `          listenerArn: ${LISTENER}`,
    `          priority: ${priority}`,
    ...extra.map((l) => `          ${l}`),
    '          conditions:',
    ...conditions.map((c) => `            ${c}`),
  ];
}

const yml = [
  'service: shop',
  'provider:',
  '  name: aws',
  '  runtime: nodejs20.x',
  'functions:',
  ...fn('posts', 1, ['path: /api/*', 'method: [POST]']),
  ...fn('byHost', 2, ['path: /api/*', 'host: ["*.example.com"]']),
  ...fn('byHeader', 3, ['path: /api/*', 'header: {name: X-Env, values: ["pre*"]}']),
  ...fn('byQuery', 4, ['path: /api/*', 'query: {version: v2}']),
  ...fn('farAway', 5, ['path: /api/*', 'ip: [10.0.0.0/8]']),
  ...fn('multi', 6, ['path: /multi'], ['multiValueHeaders: true']),
  ...fn(
    'api',
    10,
    ['path: [/api/*, /ap?]', 'ip: [127.0.0.1/32, "::1/128"]'],
    ['healthCheck: true'],
  ),
  '',
].join('\n');

describe('alb events on a real platform', () => {
  let cli: CliPlatform;
  let cwd: string;
  let deployOut: string;
  const alb = (path: string) => `/_alb/f2f7dc8efc522ab2${path}`;

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

  test('deploy and info print the listener in host and path form', async () => {
    const port = new URL(cli.platform.url).port;
    for (const out of [deployOut, (await runCli(['info'], { cwd, env: cli.env })).stdout]) {
      assert.ok(out.includes(`alb: http://f2f7dc8efc522ab2.alb.localhost:${port}/`), out);
      assert.ok(out.includes(`alb: ${cli.platform.url}/_alb/f2f7dc8efc522ab2/`), out);
    }
  });

  test('the target-group event: lower-case headers, last values, raw query, empty body', async () => {
    const answer = await send(cli.platform.url, alb('/api/items%20x?a=1&a=2&q=%2Fx+y&flag'), {
      headers: { 'X-Custom': ['one', 'two'], 'User-Agent': 'test-agent' },
    });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.headers['x-tag'], 'api');
    assert.equal(answer.headers.ignored, undefined, 'multiValueHeaders ignored when off');
    const event = JSON.parse(answer.text);
    assert.match(
      event.requestContext.elb.targetGroupArn,
      /^arn:aws:elasticloadbalancing:eu-west-1:000000000000:targetgroup\/shop-dev-api\/[0-9a-f]{16}$/,
    );
    assert.equal(event.httpMethod, 'GET');
    assert.equal(event.path, '/api/items%20x');
    // ELB does not decode query parameters; a repeated key keeps its last value.
    assert.deepEqual(event.queryStringParameters, { a: '2', q: '%2Fx+y', flag: '' });
    assert.equal(event.headers['x-custom'], 'two');
    assert.equal(event.headers['user-agent'], 'test-agent');
    assert.equal(event.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(event.headers['x-forwarded-proto'], 'http');
    assert.equal(event.headers['x-forwarded-port'], new URL(cli.platform.url).port);
    assert.match(event.headers['x-amzn-trace-id'], /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    assert.equal(event.body, '');
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.multiValueHeaders, undefined);
    assert.equal(event.multiValueQueryStringParameters, undefined);

    const byHost = await send(cli.platform.url, '/apx?x=1', {
      method: 'PUT',
      headers: {
        host: `f2f7dc8efc522ab2.alb.localhost:${new URL(cli.platform.url).port}`,
        'content-type': 'application/octet-stream',
      },
      body: Buffer.from([0, 255]),
    });
    assert.equal(byHost.status, 200, byHost.text);
    const put = JSON.parse(byHost.text);
    assert.equal(put.path, '/apx');
    assert.equal(put.body, Buffer.from([0, 255]).toString('base64'));
    assert.equal(put.isBase64Encoded, true);
    // The load balancer's name addresses its only listener too.
    const byName = await send(cli.platform.url, '/_alb/shop-lb/api/x');
    assert.equal(byName.headers['x-tag'], 'api');
  });

  test('multi-value headers: every value in the event, multiValueHeaders in the response', async () => {
    const answer = await send(cli.platform.url, alb('/multi?a=1&a=2'), {
      headers: { 'X-Custom': ['one', 'two'] },
    });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(answer.headers['x-tag'], 'multi');
    assert.equal(answer.headers.ignored, undefined, 'headers ignored when multi-value is on');
    const event = JSON.parse(answer.text);
    assert.deepEqual(event.multiValueQueryStringParameters, { a: ['1', '2'] });
    assert.deepEqual(event.multiValueHeaders['x-custom'], ['one', 'two']);
    assert.equal(event.headers, undefined);
    assert.equal(event.queryStringParameters, undefined);
  });

  test('rules in priority order, every condition of a rule AND-ed, ELB case rules', async () => {
    const tag = async (path: string, opts: Parameters<typeof send>[2] = {}) => {
      const answer = await send(cli.platform.url, alb(path), opts);
      return answer.status === 200 ? answer.headers['x-tag'] : answer.status;
    };
    // POST matches priority 1 before anything else; GET falls through to the catch-all (10).
    assert.equal(await tag('/api/x', { method: 'POST', body: '{}' }), 'posts');
    assert.equal(await tag('/api/x'), 'api');
    // Host names: wildcards, any case, the port ignored.
    assert.equal(await tag('/api/x', { headers: { host: 'Shop.EXAMPLE.com:8080' } }), 'byHost');
    assert.equal(await tag('/api/x', { headers: { host: 'example.com' } }), 'api');
    // Header name and value: any case, wildcards.
    assert.equal(await tag('/api/x', { headers: { 'x-env': 'PREVIEW' } }), 'byHeader');
    assert.equal(await tag('/api/x', { headers: { 'x-env': 'prod' } }), 'api');
    // Query: key and value any case; the path condition must hold too.
    assert.equal(await tag('/api/x?Version=V2'), 'byQuery');
    assert.equal(await tag('/other?version=v2'), 404);
    // Paths are case-sensitive; `?` is exactly one character.
    assert.equal(await tag('/API/x'), 404);
    assert.equal(await tag('/apx'), 'api');
    assert.equal(await tag('/apxx'), 404);
    // Source IP: the client is 127.0.0.1, never in 10.0.0.0/8.
    assert.notEqual(await tag('/api/x'), 'farAway');
  });

  test('no matching rule and unknown listener: the default action, 404', async () => {
    const none = await send(cli.platform.url, alb('/nowhere'));
    assert.equal(none.status, 404);
    assert.equal(none.text, 'Not Found');
    assert.equal(none.headers.server, 'awselb/2.0');
    const unknown = await send(cli.platform.url, '/_alb/nosuchlistener/api/x');
    assert.equal(unknown.status, 404);
  });

  test('responses: statusDescription as the reason phrase, base64 bodies, 502 on malformed or failed', async () => {
    const teapot = await send(cli.platform.url, alb('/api/teapot'));
    assert.equal(teapot.status, 418);
    assert.equal(teapot.statusMessage, 'Short And Stout');
    assert.equal(teapot.text, 'tea');
    const binary = await send(cli.platform.url, alb('/api/binary'));
    assert.equal(binary.status, 200);
    assert.deepEqual([...binary.body], [0, 1, 2, 255]);
    assert.equal(binary.headers['content-type'], 'image/png');
    for (const path of ['/api/malformed', '/api/throw']) {
      const bad = await send(cli.platform.url, alb(path));
      assert.equal(bad.status, 502, path);
      assert.equal(bad.headers['content-type'], 'text/html');
      assert.match(bad.text, /<title>502 Bad Gateway<\/title>/);
    }
  });

  test('a request body over 1 MB is refused with 413, as ELB does for Lambda targets', async () => {
    const big = await send(cli.platform.url, alb('/api/x'), {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: Buffer.alloc(1024 * 1024 + 1, 'a'),
    });
    assert.equal(big.status, 413);
    assert.match(big.text, /413 Request Entity Too Large/);
  });
});
