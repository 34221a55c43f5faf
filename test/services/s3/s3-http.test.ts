/**
 * S3 at the HTTP level: presigned URLs used with fetch, expiry against the platform clock,
 * virtual-host style addressing, unsigned requests, and bodies whose checksum or hash lies.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../auth/aws-signer.js';
import { waitUntil } from '../../helpers/wait-for.js';
import { failure, type S3Platform, startS3Platform } from './s3-platform.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with exactly these headers (Host included), over a plain socket to the platform. */
function send(
  url: string,
  opts: { method: string; path: string; headers: Record<string, string>; body?: Buffer },
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname, port, method: opts.method, path: opts.path, headers: opts.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('S3 over HTTP: presigned URLs, virtual hosts, unsigned and lying requests', () => {
  let s3: S3Platform;
  let client: S3Client;
  let offsetMs = 0;
  const clock = { now: () => Date.now() + offsetMs };
  let host: string;

  const signer = () =>
    new SignatureV4({
      credentials: { accessKeyId: s3.key.id, secretAccessKey: s3.key.secret },
      region: 'us-east-1',
      service: 's3',
      sha256: NodeSha256,
      uriEscapePath: false,
      applyChecksum: false,
    });

  before(async () => {
    s3 = await startS3Platform(undefined, { clock });
    client = s3.client();
    host = new URL(s3.platform.url).host;
    await client.send(new CreateBucketCommand({ Bucket: 'web' }));
  });
  after(() => s3.close());

  test('a presigned PUT and GET work with plain fetch', async () => {
    const putUrl = await getSignedUrl(
      client,
      new PutObjectCommand({ Bucket: 'web', Key: 'presigned/file.txt', ContentType: 'text/plain' }),
      { expiresIn: 300 },
    );
    assert.match(putUrl, /X-Amz-Signature=/);
    const put = await fetch(putUrl, {
      method: 'PUT',
      body: 'uploaded through a presigned URL',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(put.status, 200, await put.clone().text());
    assert.ok(put.headers.get('etag'));

    const getUrl = await getSignedUrl(
      client,
      new GetObjectCommand({
        Bucket: 'web',
        Key: 'presigned/file.txt',
        ResponseContentDisposition: 'attachment; filename="x.txt"',
      }),
      { expiresIn: 300 },
    );
    const got = await fetch(getUrl);
    assert.equal(got.status, 200);
    assert.equal(await got.text(), 'uploaded through a presigned URL');
    assert.equal(got.headers.get('content-type'), 'text/plain');
    assert.equal(got.headers.get('content-disposition'), 'attachment; filename="x.txt"');

    // Any change to the signed URL breaks it.
    const tampered = getUrl.replace('presigned/file.txt', 'presigned/other.txt');
    const bad = await fetch(tampered);
    assert.equal(bad.status, 403);
    assert.match(await bad.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  });

  test('an expired presigned URL is 403 AccessDenied, judged by the platform clock', async () => {
    const url = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: 'web', Key: 'presigned/file.txt' }),
      {
        expiresIn: 60,
      },
    );
    assert.equal((await fetch(url)).status, 200);
    offsetMs = 61_000;
    try {
      const res = await fetch(url);
      assert.equal(res.status, 403);
      const text = await res.text();
      assert.match(text, /<Code>AccessDenied<\/Code>/);
      assert.match(text, /Request has expired/);
      assert.match(text, /<RequestId>[0-9A-F]{16}<\/RequestId>/);
    } finally {
      offsetMs = 0;
    }
    const tooLong = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'web', Key: 'x' }), {
      expiresIn: 7 * 24 * 3600,
    });
    assert.notEqual((await fetch(tooLong)).status, 400);
    const overAWeek = new URL(tooLong);
    overAWeek.searchParams.set('X-Amz-Expires', String(7 * 24 * 3600 + 1));
    const refused = await fetch(overAWeek);
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /AuthorizationQueryParametersError/);
  });

  test('virtual-host style: the SDK addresses <bucket>.s3.localhost', async () => {
    // *.s3.localhost may not resolve here: the request goes to the platform's address with the
    // Host header (which is signed) the SDK built for the virtual host.
    const port = new URL(s3.platform.url).port;
    const hosted = s3.client({ endpoint: `http://s3.localhost:${port}`, forcePathStyle: false });
    const hosts: string[] = [];
    hosted.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { hostname: string; headers: Record<string, string> };
        hosts.push(request.headers.host!);
        request.hostname = '127.0.0.1';
        return next(args);
      },
      { step: 'deserialize', name: 'loopbackForVirtualHosts' },
    );
    await hosted.send(
      new PutObjectCommand({ Bucket: 'web', Key: 'hosted/a b.txt', Body: 'virtual' }),
    );
    const got = await hosted.send(new GetObjectCommand({ Bucket: 'web', Key: 'hosted/a b.txt' }));
    assert.equal(await got.Body!.transformToString(), 'virtual');
    const listed = await hosted.send(
      new ListObjectsV2Command({ Bucket: 'web', Prefix: 'hosted/' }),
    );
    assert.deepEqual(
      listed.Contents?.map((c) => c.Key),
      ['hosted/a b.txt'],
    );
    assert.ok(
      hosts.every((h) => h === `web.s3.localhost:${port}`),
      hosts.join(),
    );
    // The same object through path style.
    assert.equal(
      await (
        await client.send(new GetObjectCommand({ Bucket: 'web', Key: 'hosted/a b.txt' }))
      ).Body!.transformToString(),
      'virtual',
    );
  });

  test('unsigned requests to an S3 host are refused with AccessDenied XML', async () => {
    for (const hostHeader of [
      `web.s3.localhost:${new URL(s3.platform.url).port}`,
      's3.localhost',
    ]) {
      const res = await send(s3.platform.url, {
        method: 'GET',
        path: '/hosted/a%20b.txt',
        headers: { host: hostHeader },
      });
      assert.equal(res.status, 403, hostHeader);
      assert.match(
        res.body,
        /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>AccessDenied<\/Code>/,
      );
      assert.match(res.body, /<Resource>\/hosted\/a%20b.txt<\/Resource>/);
      assert.ok(res.headers['x-amz-request-id']);
    }
    // Without an S3 host or signature the request is the gateway's, not S3's.
    const gateway = await fetch(`${s3.platform.url}/web/hosted/a%20b.txt`);
    assert.notEqual(gateway.headers.get('content-type'), 'application/xml');
    // The rest of the platform still answers on the same port.
    assert.equal((await fetch(`${s3.platform.url}/health`)).status, 200);
  });

  test('a body whose trailing CRC32 lies is 400 BadDigest and stores nothing', async () => {
    const data = Buffer.from('abcde');
    const chunked = Buffer.from(`5\r\nabcde\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n`);
    const signed = await signer().sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: '/web/lying-trailer',
      query: {},
      headers: {
        host,
        'content-encoding': 'aws-chunked',
        'content-length': String(chunked.length),
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'x-amz-decoded-content-length': String(data.length),
        'x-amz-trailer': 'x-amz-checksum-crc32',
      },
    });
    const res = await send(s3.platform.url, {
      method: 'PUT',
      path: '/web/lying-trailer',
      headers: signed.headers,
      body: chunked,
    });
    assert.equal(res.status, 400, res.body);
    assert.match(res.body, /<Code>BadDigest<\/Code>/);
    const absent = await failure(() =>
      client.send(new HeadObjectCommand({ Bucket: 'web', Key: 'lying-trailer' })),
    );
    assert.equal(absent.$metadata.httpStatusCode, 404);
  });

  test('a large aws-chunked body is kept when its CRC32 and Content-MD5 hold, refused when not', async () => {
    // Over a slab, so the checksum is computed on the MD5 thread, not beside the stream.
    const data = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13 + (i >> 9)) & 0xff;
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(data) >>> 0);
    const md5 = createHash('md5').update(data).digest('base64');
    const upload = async (key: string, trailer: string, contentMd5: string) => {
      const chunks: Buffer[] = [];
      for (let at = 0; at < data.length; at += 1024 * 1024) {
        const piece = data.subarray(at, at + 1024 * 1024);
        chunks.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
      }
      chunks.push(Buffer.from(`0\r\nx-amz-checksum-crc32:${trailer}\r\n\r\n`));
      const body = Buffer.concat(chunks);
      const signed = await signer().sign({
        method: 'PUT',
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: `/web/${key}`,
        query: {},
        headers: {
          host,
          'content-encoding': 'aws-chunked',
          'content-length': String(body.length),
          'content-md5': contentMd5,
          'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
          'x-amz-decoded-content-length': String(data.length),
          'x-amz-trailer': 'x-amz-checksum-crc32',
        },
      });
      return send(s3.platform.url, {
        method: 'PUT',
        path: `/web/${key}`,
        headers: signed.headers,
        body,
      });
    };
    const ok = await upload('large-checked', crc.toString('base64'), md5);
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.headers['x-amz-checksum-crc32'], crc.toString('base64'));
    const got = await client.send(
      new GetObjectCommand({ Bucket: 'web', Key: 'large-checked', ChecksumMode: 'ENABLED' }),
    );
    assert.equal(got.ChecksumCRC32, crc.toString('base64'));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
    const badCrc = await upload('large-bad-crc', 'AAAAAA==', md5);
    const badMd5 = await upload(
      'large-bad-md5',
      crc.toString('base64'),
      'AAAAAAAAAAAAAAAAAAAAAA==',
    );
    for (const res of [badCrc, badMd5]) {
      assert.equal(res.status, 400, res.body);
      assert.match(res.body, /<Code>BadDigest<\/Code>/);
    }
    for (const Key of ['large-bad-crc', 'large-bad-md5']) {
      const absent = await failure(() =>
        client.send(new HeadObjectCommand({ Bucket: 'web', Key })),
      );
      assert.equal(absent.$metadata.httpStatusCode, 404);
    }
    assert.deepEqual(await readdir(join(s3.dataDir, 's3', 'tmp')), []);
  });

  test('a body that is not what x-amz-content-sha256 says is refused and stores nothing', async () => {
    const signed = await signer().sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: '/web/lying-hash',
      query: {},
      headers: {
        host,
        'content-length': '5',
        'x-amz-content-sha256': createHash('sha256').update('hello').digest('hex'),
      },
    });
    const res = await send(s3.platform.url, {
      method: 'PUT',
      path: '/web/lying-hash',
      headers: signed.headers,
      body: Buffer.from('HELLO'),
    });
    assert.equal(res.status, 400, res.body);
    assert.match(res.body, /<Code>XAmzContentSHA256Mismatch<\/Code>/);
    const crc = await signer().sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: '/web/lying-crc',
      query: {},
      headers: {
        host,
        'content-length': '5',
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        'x-amz-checksum-crc32': 'AAAAAA==',
      },
    });
    const crcRes = await send(s3.platform.url, {
      method: 'PUT',
      path: '/web/lying-crc',
      headers: crc.headers,
      body: Buffer.from('hello'),
    });
    assert.equal(crcRes.status, 400, crcRes.body);
    assert.match(crcRes.body, /<Code>BadDigest<\/Code>/);
    for (const Key of ['lying-hash', 'lying-crc']) {
      const absent = await failure(() =>
        client.send(new HeadObjectCommand({ Bucket: 'web', Key })),
      );
      assert.equal(absent.$metadata.httpStatusCode, 404);
    }
  });

  test('an upload cut off mid-body leaves no object and no temp file', async () => {
    const total = 4 * 1024 * 1024;
    const signed = await signer().sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: '/web/cut-off',
      query: {},
      headers: {
        host,
        'content-length': String(total),
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      },
    });
    const { hostname, port } = new URL(s3.platform.url);
    const req = httpRequest({
      hostname,
      port,
      method: 'PUT',
      path: '/web/cut-off',
      headers: signed.headers,
    });
    req.on('error', () => {});
    req.write(Buffer.alloc(256 * 1024, 1));
    const temp = join(s3.dataDir, 's3', 'tmp');
    await waitUntil(async () => (await readdir(temp)).length === 1, 'the upload to start');
    req.destroy();
    await waitUntil(async () => (await readdir(temp)).length === 0, 'the temp file to go');
    const absent = await failure(() =>
      client.send(new HeadObjectCommand({ Bucket: 'web', Key: 'cut-off' })),
    );
    assert.equal(absent.$metadata.httpStatusCode, 404);
  });

  test('a single PUT over 5 GiB is EntityTooLarge before a byte is stored', async () => {
    const signed = await signer().sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: '/web/huge',
      query: {},
      headers: {
        host,
        'content-length': String(5 * 1024 ** 3 + 1),
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      },
    });
    const res = await new Promise<RawResponse>((resolve, reject) => {
      const { hostname, port } = new URL(s3.platform.url);
      const req = httpRequest(
        { hostname, port, method: 'PUT', path: '/web/huge', headers: signed.headers },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () =>
            resolve({
              status: r.statusCode ?? 0,
              headers: r.headers,
              body: Buffer.concat(chunks).toString(),
            }),
          );
        },
      );
      req.on('error', reject);
      // Only the start of the body is ever sent: the answer comes from the headers.
      req.write(Buffer.alloc(1024));
    });
    assert.equal(res.status, 400);
    assert.match(res.body, /<Code>EntityTooLarge<\/Code>/);
  });
});
