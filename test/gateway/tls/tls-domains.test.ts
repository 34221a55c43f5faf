import assert from 'node:assert/strict';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect, type PeerCertificate } from 'node:tls';
import pino from 'pino';
import { type RunningPlatform, startPlatform } from '../../../src/platform/server.js';
import { runCli } from '../../helpers/run-cli.js';
import { makeSelfSignedCert } from '../../helpers/self-signed-cert.js';
import { makeTempDir } from '../../helpers/temp-dir.js';
import { waitUntil } from '../../helpers/wait-for.js';

/** Every name the test reaches the platform by: its certificates are good for all of them. */
const certNames = ['localhost', 'api.example.test', 'blog.example.test', '127.0.0.1'];
const makeCert = (dir: string, file: string, cn: string) =>
  makeSelfSignedCert(dir, file, cn, certNames);

interface Answer {
  status: number;
  text: string;
}

function get(
  url: string,
  opts: { host?: string; ca?: Buffer | string; servername?: string } = {},
): Promise<Answer> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        headers: opts.host ? { host: opts.host } : {},
        ...(opts.ca ? { ca: opts.ca } : {}),
        ...(opts.servername ? { servername: opts.servername } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The certificate a new TLS connection to the port is served. */
function peerCert(port: number): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.on('error', reject);
  });
}

const handler = [
  'exports.echo = async (event) => ({',
  '  statusCode: 200,',
  '  body: JSON.stringify({ service: process.env.SERVICE, path: event.rawPath ?? event.path, domain: event.requestContext.domainName }),',
  '});',
  '',
].join('\n');

function service(name: string, custom: string[]): string {
  return [
    `service: ${name}`,
    'provider:',
    '  name: aws',
    '  runtime: nodejs20.x',
    '  environment:',
    `    SERVICE: ${name}`,
    'custom:',
    ...custom,
    'functions:',
    '  echo:',
    '    handler: handler.echo',
    '    events:',
    '      - httpApi: "*"',
    '',
  ].join('\n');
}

describe('HTTPS and custom domains on a real platform', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let platform: RunningPlatform;
  let certs: { cert: string; key: string };
  let tlsPort: number;
  let env: Record<string, string>;

  before(async () => {
    tmp = await makeTempDir();
    certs = await makeCert(tmp.dir, 'a', 'nimbus-test-a');
    platform = await startPlatform({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(tmp.dir, 'data'),
      logger: pino({ level: 'silent' }),
      tls: { certFile: certs.cert, keyFile: certs.key, port: 0 },
    });
    tlsPort = Number(new URL(platform.tlsUrl!).port);
    await mkdir(join(tmp.dir, 'home'));
    env = {
      HOME: join(tmp.dir, 'home'),
      NIMBUS_ENDPOINT: platform.url,
      NIMBUS_TOKEN: platform.adminToken,
    };
    const services: [string, string[]][] = [
      [
        'shop',
        [
          '  customDomain:',
          '    domainName: api.example.test',
          '    basePath: shop',
          '    certificateName: "*.example.test"',
          '    createRoute53Record: true',
        ],
      ],
      [
        'blog',
        [
          '  nimbus:',
          '    domains:',
          '      - {domainName: api.example.test, basePath: blog/v1}',
          '      - {domainName: Blog.Example.Test}',
        ],
      ],
      // serverless-domain-manager's `stage`: this mapping is for prod, not the dev stage deployed.
      ['later', ['  customDomain: {domainName: api.example.test, basePath: later, stage: prod}']],
    ];
    for (const [name, custom] of services) {
      const cwd = join(tmp.dir, name);
      await mkdir(cwd);
      await writeFile(join(cwd, 'serverless.yml'), service(name, custom));
      await writeFile(join(cwd, 'handler.js'), handler);
      const deployed = await runCli(['deploy'], { cwd, env });
      assert.equal(deployed.code, 0, deployed.stderr);
      if (name === 'blog') assert.match(deployed.stdout, /domain: api\.example\.test\/blog\/v1/);
    }
  });
  after(async () => {
    await platform?.close();
    await tmp?.cleanup();
  });

  test('HTTPS serves the gateway with the given certificate; HTTP keeps working', async () => {
    const ca = certs.cert;
    const secure = await get(`https://localhost:${tlsPort}/shop-dev/x`, { ca: await readText(ca) });
    assert.equal(secure.status, 200, secure.text);
    assert.equal(JSON.parse(secure.text).service, 'shop');
    const plain = await get(`${platform.url}/shop-dev/x`);
    assert.equal(plain.status, 200);
  });

  test('a custom domain maps base paths to service stages by Host; the longest base path wins', async () => {
    const ca = await readText(certs.cert);
    const at = (path: string, host: string) =>
      get(`https://127.0.0.1:${tlsPort}${path}`, { ca, host, servername: host.split(':')[0]! });
    const shop = await at('/shop/items/1?x=1', 'api.example.test');
    assert.equal(shop.status, 200, shop.text);
    assert.deepEqual(JSON.parse(shop.text), {
      service: 'shop',
      path: '/items/1',
      domain: 'api.example.test',
    });
    const blog = await at('/blog/v1/posts', 'API.example.test:443');
    assert.equal(JSON.parse(blog.text).service, 'blog');
    assert.equal(JSON.parse(blog.text).path, '/posts');
    const root = await at('/', 'blog.example.test');
    assert.equal(JSON.parse(root.text).service, 'blog');
    assert.equal(JSON.parse(root.text).path, '/');
    // Unmapped base paths, and the prod-only mapping, are not served on the domain.
    assert.equal((await at('/blog/v2/posts', 'api.example.test')).status, 404);
    assert.equal((await at('/later/x', 'api.example.test')).status, 404);
    assert.equal((await at('/shop-dev/x', 'api.example.test')).status, 404);
    assert.equal((await at('/shopping', 'api.example.test')).status, 404);
  });

  test('a renewed certificate is served to new connections without a restart', async () => {
    const before = await peerCert(tlsPort);
    assert.equal(before.subject.CN, 'nimbus-test-a');
    const next = await makeCert(tmp.dir, 'b', 'nimbus-test-b');
    // As certbot does: new files moved over the old ones.
    await rename(next.key, certs.key);
    await rename(next.cert, certs.cert);
    await waitUntil(
      async () => (await peerCert(tlsPort)).subject.CN === 'nimbus-test-b',
      'the renewed certificate',
    );
  });

  test('bad certificate files refuse the start: a key others can read, a key of another certificate', async () => {
    const start = (certFile: string, keyFile: string) =>
      startPlatform({
        host: '127.0.0.1',
        port: 0,
        dataDir: join(tmp.dir, 'other-data'),
        logger: pino({ level: 'silent' }),
        tls: { certFile, keyFile, port: 0 },
      });
    const exposed = await makeCert(tmp.dir, 'c', 'c');
    await chmod(exposed.key, 0o644);
    await assert.rejects(start(exposed.cert, exposed.key), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'NIMBUS_TLS_KEY_EXPOSED');
      assert.match(e.message, /mode 644.*chmod 600/);
      return true;
    });
    const other = await makeCert(tmp.dir, 'd', 'd');
    await assert.rejects(start(exposed.cert, other.key), { code: 'NIMBUS_TLS_BAD_FILES' });
    await assert.rejects(start(join(tmp.dir, 'missing.crt'), other.key), {
      code: 'NIMBUS_TLS_BAD_FILES',
    });
  });

  test('bad domain settings are refused at load with file:line; the CLI flags go together', async () => {
    const cwd = join(tmp.dir, 'bad');
    await mkdir(cwd);
    await writeFile(join(cwd, 'handler.js'), handler);
    await writeFile(
      join(cwd, 'serverless.yml'),
      service('bad', ['  customDomain:', '    domainName: "not a host"']),
    );
    const bad = await runCli(['package'], { cwd, env });
    assert.notEqual(bad.code, 0);
    assert.match(
      bad.stderr,
      /serverless\.yml:9:\d+ custom\.customDomain\.domainName: must be a host name/,
    );
    await writeFile(
      join(cwd, 'serverless.yml'),
      service('bad', [
        '  nimbus:',
        '    domains: [{domainName: a.example.test, basePath: "../x"}]',
      ]),
    );
    const path = await runCli(['package'], { cwd, env });
    assert.match(path.stderr, /custom\.nimbus\.domains\[0\]\.basePath: must be path segments/);
    const flags = await runCli(['server', '--tls-cert', certs.cert], { cwd, env });
    assert.notEqual(flags.code, 0);
    assert.match(flags.stderr, /--tls-cert and --tls-key go together/);
  });
});

async function readText(file: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(file, 'utf8');
}
