/**
 * The TLS port's last gaps (issue 20): a certificate per domain by SNI (reloaded like the
 * default one), HTTP/2 by ALPN beside HTTP/1.1 (gateway, an AWS API, wss://), and
 * `--tls-redirect` sending plain HTTP gateway requests to HTTPS while API traffic stays.
 */
import assert from 'node:assert/strict';
import { readFile, rename } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { Agent } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { connect, type PeerCertificate } from 'node:tls';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import WebSocket from 'ws';
import { tlsDomainOption } from '../../../src/cli/commands/server.js';
import { sniContextOf } from '../../../src/platform/front-door/http-listener.js';
import {
  type AwsPlatform,
  awsPlatformVariants,
  deployService,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';
import { sdkSkip } from '../../helpers/function-reach.js';
import { makeSelfSignedCert } from '../../helpers/self-signed-cert.js';
import { makeTempDir } from '../../helpers/temp-dir.js';
import { waitUntil } from '../../helpers/wait-for.js';

/** The certificate served to a TLS client that names `servername` (none: no SNI). */
function peerCert(port: number, servername?: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port, rejectUnauthorized: false, ...(servername ? { servername } : {}) },
      () => {
        resolve(socket.getPeerCertificate());
        socket.end();
      },
    );
    socket.on('error', reject);
  });
}

function plainRequest(
  url: string,
  opts: { method?: string; host?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; location?: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: opts.method ?? 'GET',
        headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            ...(res.headers.location ? { location: res.headers.location } : {}),
            text: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const handler = `
exports.api = async (event) => ({ statusCode: 200, body: JSON.stringify({ path: event.rawPath, host: event.headers.host }) });
exports.ws = async () => ({ statusCode: 200 });
`;

describe('SNI certificates, HTTP/2 over TLS and the HTTPS redirect', { skip: sdkSkip }, () => {
  let aws: AwsPlatform;
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let certs: Record<'main' | 'shop' | 'wild', { cert: string; key: string }>;
  let ca: string;
  let tlsPort: number;

  before(async () => {
    tmp = await makeTempDir();
    certs = {
      main: await makeSelfSignedCert(tmp.dir, 'main', 'nimbus-main', ['localhost', '127.0.0.1']),
      shop: await makeSelfSignedCert(tmp.dir, 'shop', 'nimbus-shop', ['shop.example.test']),
      wild: await makeSelfSignedCert(tmp.dir, 'wild', 'nimbus-wild', ['*.wild.test']),
    };
    ca = await readFile(certs.main.cert, 'utf8');
    aws = await startAwsPlatform(awsPlatformVariants[0], {
      runFunctions: true,
      label: 'tls-sni',
      options: {
        tls: {
          certFile: certs.main.cert,
          keyFile: certs.main.key,
          port: 0,
          domains: [
            { host: 'shop.example.test', certFile: certs.shop.cert, keyFile: certs.shop.key },
            { host: '*.wild.test', certFile: certs.wild.cert, keyFile: certs.wild.key },
          ],
          redirect: true,
        },
      },
    });
    tlsPort = Number(new URL(aws.platform.tlsUrl!).port);
    await deployService(
      aws.platform,
      serviceDef([
        fnDef('api', { events: [{ kind: 'httpApi', method: '*', path: '*' }] }),
        fnDef('ws', { events: [{ kind: 'websocket', config: { route: '$default' } }] }),
      ]),
      { 'handler.js': handler },
    );
  });
  after(async () => {
    await aws?.close();
    await tmp?.cleanup();
  });

  test('SNI picks the domain certificate (exact, then *.wildcard); other names get the default', async () => {
    assert.equal((await peerCert(tlsPort, 'shop.example.test')).subject.CN, 'nimbus-shop');
    assert.equal((await peerCert(tlsPort, 'SHOP.example.test')).subject.CN, 'nimbus-shop');
    const wild = await peerCert(tlsPort, 'a.wild.test');
    assert.equal(wild.subject.CN, 'nimbus-wild');
    assert.equal(wild.subjectaltname, 'DNS:*.wild.test');
    // A wildcard covers one label only, as certificates do.
    assert.equal((await peerCert(tlsPort, 'a.b.wild.test')).subject.CN, 'nimbus-main');
    assert.equal((await peerCert(tlsPort, 'localhost')).subject.CN, 'nimbus-main');
    assert.equal((await peerCert(tlsPort)).subject.CN, 'nimbus-main');
  });

  test('a verifying HTTPS client on a domain gets the gateway with that domain certificate', async () => {
    const shopCa = await readFile(certs.shop.cert, 'utf8');
    // Dialled by address, named by SNI and :authority (no DNS entry for the test's domain).
    const client = http2Connect(`https://127.0.0.1:${tlsPort}`, {
      ca: shopCa,
      servername: 'shop.example.test',
    });
    try {
      const { status, body } = await h2Get(
        client,
        '/svc-dev/hello',
        `shop.example.test:${tlsPort}`,
      );
      assert.equal(status, 200, body);
      assert.deepEqual(JSON.parse(body), {
        path: '/hello',
        host: `shop.example.test:${tlsPort}`,
      });
    } finally {
      client.close();
    }
  });

  test('HTTP/2 by ALPN: the gateway answers over h2; HTTP/1.1 clients still get HTTP/1.1', async () => {
    const client = http2Connect(`https://localhost:${tlsPort}`, { ca });
    try {
      const { status, body } = await h2Get(client, '/svc-dev/x?y=1');
      assert.equal(status, 200, body);
      assert.equal(JSON.parse(body).path, '/x');
      assert.equal(client.alpnProtocol, 'h2');
      assert.equal((await h2Get(client, '/health')).status, 200);
    } finally {
      client.close();
    }
    const socket = connect({ host: '127.0.0.1', port: tlsPort, ca, ALPNProtocols: ['http/1.1'] });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    assert.equal(socket.alpnProtocol, 'http/1.1');
    socket.end();
  });

  test('AWS APIs over TLS: an HTTP/2 SDK client (Kinesis) and an HTTP/1.1 one (DynamoDB)', async () => {
    const common = {
      region: 'us-east-1',
      endpoint: `https://localhost:${tlsPort}`,
      credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
    };
    const h2Handler = new NodeHttp2Handler();
    h2Handler.updateHttpClientConfig('sessionTimeout', 1000);
    const kinesis = new KinesisClient({ ...common, requestHandler: h2Handler });
    // The SDK's HTTP/2 handler trusts through connect options.
    (
      h2Handler as unknown as {
        connectionManager: { setNodeHttp2ConnectOptions(o: object): void };
      }
    ).connectionManager.setNodeHttp2ConnectOptions({ ca });
    const streams = await kinesis.send(new ListStreamsCommand({}));
    assert.deepEqual(streams.StreamNames, []);
    kinesis.destroy();
    const dynamo = new DynamoDBClient({
      ...common,
      requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca }) }),
    });
    assert.deepEqual((await dynamo.send(new ListTablesCommand({}))).TableNames, []);
    dynamo.destroy();
  });

  test('wss:// upgrades still work on the h2-capable port', async () => {
    const socket = new WebSocket(`wss://localhost:${tlsPort}/svc-dev`, { ca });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.close();
    await closed;
  });

  test('--tls-redirect: gateway requests on HTTP get 308 to HTTPS; API traffic and /health do not', async () => {
    const plain = aws.platform.url;
    const get = await plainRequest(`${plain}/svc-dev/a/b?c=1&d=2`, { host: 'api.example.test' });
    assert.equal(get.status, 308);
    assert.equal(get.location, `https://api.example.test:${tlsPort}/svc-dev/a/b?c=1&d=2`);
    const post = await plainRequest(`${plain}/svc-dev/x`, {
      method: 'POST',
      host: 'localhost:9999',
    });
    assert.equal(post.status, 308);
    assert.equal(post.location, `https://localhost:${tlsPort}/svc-dev/x`);
    // Function URLs and ALB listeners by path, and the console, are the gateway surface too.
    assert.equal((await plainRequest(`${plain}/console/`)).status, 308);
    // Not redirected: health checks, the control API the CLI uses, SigV4 AWS traffic.
    assert.equal((await plainRequest(`${plain}/health`)).status, 200);
    const control = await plainRequest(`${plain}/v1/services`, {
      headers: { authorization: `Bearer ${aws.platform.adminToken}` },
    });
    assert.equal(control.status, 200, control.text);
    const dynamo = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: plain,
      credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
    });
    assert.deepEqual((await dynamo.send(new ListTablesCommand({}))).TableNames, []);
    dynamo.destroy();
    // A Host header that is not a host name gets no Location built from it.
    assert.equal((await plainRequest(`${plain}/svc-dev/x`, { host: 'a b/c' })).status, 400);
    // HTTPS itself is served, not redirected.
    const client = http2Connect(`https://localhost:${tlsPort}`, { ca });
    try {
      assert.equal((await h2Get(client, '/svc-dev/x')).status, 200);
    } finally {
      client.close();
    }
  });

  test('a renewed domain certificate is served to new connections without a restart', async () => {
    const next = await makeSelfSignedCert(tmp.dir, 'shop2', 'nimbus-shop-2', ['shop.example.test']);
    await rename(next.key, certs.shop.key);
    await rename(next.cert, certs.shop.cert);
    await waitUntil(
      async () => (await peerCert(tlsPort, 'shop.example.test')).subject.CN === 'nimbus-shop-2',
      'the renewed domain certificate',
    );
    assert.equal((await peerCert(tlsPort)).subject.CN, 'nimbus-main');
  });

  test('--tls-domain parsing, and the SNI lookup', () => {
    assert.deepEqual(tlsDomainOption('/w', 'API.example.com=c.pem,k.pem'), {
      host: 'api.example.com',
      certFile: '/w/c.pem',
      keyFile: '/w/k.pem',
    });
    assert.equal(tlsDomainOption('/w', '*.example.com=/c,/k').host, '*.example.com');
    assert.throws(() => tlsDomainOption('/w', 'example.com=c.pem'), /host=cert\.pem,key\.pem/);
    assert.throws(() => tlsDomainOption('/w', 'a.*.com=c,k'), /host=cert/);
    const ctx = (name: string) => name as unknown as import('node:tls').SecureContext;
    const map = new Map([
      ['a.test', ctx('a')],
      ['*.b.test', ctx('b')],
    ]);
    assert.equal(sniContextOf(map, 'A.test.'), 'a');
    assert.equal(sniContextOf(map, 'x.b.test'), 'b');
    assert.equal(sniContextOf(map, 'b.test'), undefined);
    assert.equal(sniContextOf(map, 'c.test'), undefined);
  });
});

function h2Get(
  client: ReturnType<typeof http2Connect>,
  path: string,
  authority?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = client.request({
      ':path': path,
      ...(authority ? { ':authority': authority } : {}),
    });
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }));
    stream.on('error', reject);
    stream.end();
  });
}
