/**
 * The bench's raw-socket S3 load generator (bench/lib/s3-raw-client.mjs): the bytes it puts on
 * the wire are the SDK v3's (aws-chunked body, CRC32 trailer, 100-continue), and against a running
 * platform its uploads verify, its downloads count and check, and its errors reject.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { crc32 } from 'node:zlib';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { repoRoot } from '../helpers/repo-root.js';
import { type S3Platform, startS3Platform } from '../services/s3/s3-platform.js';

const bench = (file: string) => import(pathToFileURL(join(repoRoot, 'bench', 'lib', file)).href);
const {
  getObjectRanges,
  prepareMultipart,
  prepareUpload,
  putObjectMultipart,
  rawS3Client,
  verifyObjectRanges,
} = await bench('s3-raw-client.mjs');
const { leanS3Client } = await bench('s3-lean-client.mjs');
const { bodyBlock, bodyStream } = await bench('s3.mjs');

const MiB = 1024 * 1024;
const key = { accessKeyId: 'AKIDCAPTURE', secretAccessKey: 'capture-secret' };
const HEAD_END = Buffer.from('\r\n\r\n');
const PUT_END = /x-amz-checksum-crc32:[A-Za-z0-9+/=]+\r\n\r\n2\r\n\r\n\r\n0\r\n\r\n$/;

interface Captured {
  head: string;
  body: Buffer;
}

/**
 * A server that records each request's head and body: PUTs get `100 Continue` (twice), then 200 once the
 * aws-chunked body's trailer and the last HTTP chunk arrived; GETs get `answerGet(socket)`'s answer.
 */
async function captureServer(answerGet: (socket: Socket) => void) {
  const requests: Captured[] = [];
  const server: Server = createServer((socket) => {
    let buf = Buffer.alloc(0);
    let current: Captured | undefined;
    socket.on('data', (data: Buffer) => {
      buf = Buffer.concat([buf, data]);
      if (!current) {
        const at = buf.indexOf(HEAD_END);
        if (at < 0) return;
        current = { head: buf.toString('latin1', 0, at), body: Buffer.alloc(0) };
        buf = buf.subarray(at + HEAD_END.length);
        if (current.head.startsWith('GET ')) {
          requests.push(current);
          current = undefined;
          answerGet(socket);
          return;
        }
        // Twice, as a Node server that calls writeContinue() itself does: the body goes once.
        socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n');
      }
      if (PUT_END.test(buf.toString('latin1', Math.max(0, buf.length - 64)))) {
        current.body = buf;
        requests.push(current);
        current = undefined;
        buf = Buffer.alloc(0);
        socket.write('HTTP/1.1 200 OK\r\nETag: "x"\r\nContent-Length: 0\r\n\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { url: `http://127.0.0.1:${address.port}`, requests, close: () => server.close() };
}

/** A request head without what changes per request (ids, dates, signatures). */
function normalized(head: string): string {
  return head
    .replace(/amz-sdk-invocation-id: [0-9a-f-]+/, 'amz-sdk-invocation-id: ID')
    .replace(/x-amz-date: \d{8}T\d{6}Z/, 'x-amz-date: DATE')
    .replace(/Credential=(\w+)\/\d{8}\//, 'Credential=$1/DAY/')
    .replace(/Signature=[0-9a-f]{64}/, 'Signature=SIG')
    .replace(/^(x-amz-user-agent|user-agent): .*$/gm, '$1: UA');
}

/** Header name -> value, for the headers a request's meaning rests on. */
function meaningful(head: string): Record<string, string> {
  const keep = /^(content-|x-amz-(?!date|user-agent)|expect|transfer-encoding)/;
  const out: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    if (keep.test(name)) out[name] = line.slice(colon + 1).trim();
  }
  return out;
}

/** Where two bodies part, with the bytes around it, for a failure's message. */
function firstDifference(a: Buffer, b: Buffer): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const around = (x: Buffer) => JSON.stringify(x.toString('latin1', Math.max(0, i - 20), i + 20));
  return `at byte ${i} (lengths ${a.length}, ${b.length}): ${around(a)} vs ${around(b)}`;
}

/** The three clients whose requests must be the same bytes: raw sockets, node:http, the SDK. */
function threeClients(url: string) {
  return {
    raw: rawS3Client(url, key),
    lean: leanS3Client(url, key),
    sdk: new S3Client({
      endpoint: url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: key,
      maxAttempts: 1,
    }),
  };
}

describe('raw-socket S3 load generator: the wire', () => {
  const bytes = 2 * MiB + 12345;
  let capture: Awaited<ReturnType<typeof captureServer>>;
  before(async () => {
    capture = await captureServer((socket) => {
      // A chunked answer, split at odd places, to exercise the reader's chunked path.
      const body = Buffer.from('hello, chunked world');
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(body));
      socket.write(
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n' +
          `x-amz-checksum-crc32: ${crc.toString('base64')}\r\n\r\n5\r\nhello\r\n`,
      );
      setTimeout(() => socket.write(`f;ext=1\r\n${body.subarray(5).toString()}\r\n0\r\n\r\n`), 10);
    });
  });
  after(() => capture.close());

  test('PutObject: the same head and body as the SDK v3 and the node:http client', async () => {
    const { raw, lean, sdk } = threeClients(capture.url);
    try {
      await raw.putObject('bench', 'a/b', prepareUpload(bodyBlock(), bytes));
      await lean.putObject('bench', 'a/b', bodyStream(bytes), bytes);
      await sdk.send(
        new PutObjectCommand({
          Bucket: 'bench',
          Key: 'a/b',
          Body: bodyStream(bytes),
          ContentLength: bytes,
        }),
      );
    } finally {
      for (const client of [raw, lean, sdk]) client.destroy();
    }
    const [r, l, s] = capture.requests.slice(-3);
    assert.ok(r && l && s);
    assert.equal(normalized(r.head), normalized(s.head));
    assert.equal(normalized(r.head), normalized(l.head));
    assert.equal(meaningful(r.head)['content-encoding'], 'aws-chunked');
    assert.equal(meaningful(r.head).expect, '100-continue');
    assert.match(r.head, /\r\nConnection: close$/);
    assert.ok(
      r.body.equals(s.body),
      `raw and SDK v3 bodies differ ${firstDifference(r.body, s.body)}`,
    );
    assert.ok(
      r.body.equals(l.body),
      `raw and node:http bodies differ ${firstDifference(r.body, l.body)}`,
    );
  });

  test('UploadPart and a ranged GetObject: the same heads and body as the SDK v3', async () => {
    const { raw, lean, sdk } = threeClients(capture.url);
    const part = prepareUpload(bodyBlock(), bytes);
    try {
      await raw.uploadPart('bench', 'a/b', 'UP-id_1', 3, part);
      await sdk.send(
        new UploadPartCommand({
          Bucket: 'bench',
          Key: 'a/b',
          UploadId: 'UP-id_1',
          PartNumber: 3,
          Body: bodyStream(bytes),
          ContentLength: bytes,
        }),
      );
      await raw.getObject('bench', 'a/b', { range: { start: 5, end: 24 } });
      const ranged = await sdk.send(
        new GetObjectCommand({ Bucket: 'bench', Key: 'a/b', Range: 'bytes=5-24' }),
      );
      await ranged.Body?.transformToByteArray();
    } finally {
      for (const client of [raw, lean, sdk]) client.destroy();
    }
    const [r, s, rg, sg] = capture.requests.slice(-4);
    assert.ok(r && s && rg && sg);
    assert.equal(normalized(r.head), normalized(s.head));
    assert.ok(r.body.equals(s.body), `UploadPart bodies differ ${firstDifference(r.body, s.body)}`);
    assert.equal(normalized(rg.head), normalized(sg.head));
    assert.match(rg.head, /\r\nrange: bytes=5-24\r\n/);
  });

  test('GetObject: the same head as the SDK v3 and node:http; a chunked answer counted and checked', async () => {
    const { raw, lean, sdk } = threeClients(capture.url);
    try {
      assert.equal((await raw.getObject('bench', 'a/b')).size, 20);
      const verified = await raw.getObject('bench', 'a/b', { verify: true });
      assert.equal(verified.size, 20);
      assert.equal(verified.crc, verified.checksum);
      assert.equal((await lean.getObject('bench', 'a/b')).size, 20);
      const got = await sdk.send(new GetObjectCommand({ Bucket: 'bench', Key: 'a/b' }));
      assert.equal((await got.Body?.transformToByteArray())?.length, 20);
    } finally {
      for (const client of [raw, lean, sdk]) client.destroy();
    }
    const [r, , l, s] = capture.requests.slice(-4);
    assert.ok(r && l && s);
    assert.equal(normalized(r.head), normalized(s.head));
    assert.equal(normalized(r.head), normalized(l.head));
    assert.match(r.head, /\r\nConnection: keep-alive$/);
    assert.equal(meaningful(r.head)['x-amz-checksum-mode'], 'ENABLED');
  });
});

describe('raw-socket S3 load generator against the platform', () => {
  let s3: S3Platform;
  let credentials: { accessKeyId: string; secretAccessKey: string };
  before(async () => {
    s3 = await startS3Platform();
    credentials = { accessKeyId: s3.key.id, secretAccessKey: s3.key.secret };
    const client = s3.client();
    await client.send(new CreateBucketCommand({ Bucket: 'raw' }));
    client.destroy();
  });
  after(() => s3.close());

  test('uploads verify, downloads count and check', async () => {
    const client = s3.client();
    const raw = rawS3Client(s3.platform.url, credentials);
    try {
      const bytes = 3 * MiB + 5;
      const upload = prepareUpload(bodyBlock(), bytes);
      const { etag } = await raw.putObject('raw', 'big/object', upload);
      assert.match(etag, /^"[0-9a-f]{32}"$/);
      const counted = await raw.getObject('raw', 'big/object');
      assert.equal(counted.size, bytes);
      const checked = await raw.getObject('raw', 'big/object', { verify: true });
      assert.equal(checked.size, bytes);
      const sent = Buffer.alloc(4);
      sent.writeUInt32BE(upload.crc >>> 0);
      assert.equal(checked.crc, sent.toString('base64'));
      const got = await client.send(new GetObjectCommand({ Bucket: 'raw', Key: 'big/object' }));
      const body = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
      assert.equal(body.length, bytes);
      assert.ok(body.subarray(MiB, 2 * MiB).equals(bodyBlock()));
    } finally {
      raw.destroy();
      client.destroy();
    }
  });

  test('a wrong trailer CRC32, a wrong secret and a missing key reject with S3 codes', async () => {
    const raw = rawS3Client(s3.platform.url, credentials);
    const wrongKey = rawS3Client(s3.platform.url, { ...credentials, secretAccessKey: 'wrong' });
    try {
      const bytes = MiB + 7;
      const good = prepareUpload(bodyBlock(), bytes);
      const other = prepareUpload(Buffer.alloc(MiB, 1), bytes);
      const lying = { ...good, plan: [...good.plan.slice(0, -1), other.plan.at(-1)] };
      await assert.rejects(raw.putObject('raw', 'lie', lying), (e: Error) => e.name !== 'Error');
      await assert.rejects(raw.getObject('raw', 'lie'), { name: 'NoSuchKey' });
      await assert.rejects(wrongKey.putObject('raw', 'k', good), { name: 'SignatureDoesNotMatch' });
      // The client goes on after each failure.
      await raw.putObject('raw', 'after', good);
      assert.equal((await raw.getObject('raw', 'after', { verify: true })).size, bytes);
    } finally {
      raw.destroy();
      wrongKey.destroy();
    }
  });

  test('a multipart upload as the AWS CLI sends it, then ranged GETs, several in flight', async () => {
    const pool = [0, 1, 2].map(() => rawS3Client(s3.platform.url, credentials));
    const client = s3.client();
    try {
      const bytes = 11 * MiB + 3;
      const upload = prepareMultipart(bodyBlock(), bytes, 5 * MiB);
      assert.equal(upload.parts.length, 3);
      const { etag } = await putObjectMultipart(pool, 'raw', 'parts/object', upload);
      assert.match(etag, /^"[0-9a-f]{32}-3"$/);
      // Ranges that do not line up with the parts, more of them than connections.
      assert.equal(await getObjectRanges(pool, 'raw', 'parts/object', bytes, 2 * MiB + 1), bytes);
      const checked = await verifyObjectRanges(pool[0], 'raw', 'parts/object', bytes, 4 * MiB);
      assert.deepEqual(checked, { size: bytes, crc: upload.crc });
      const got = await client.send(new GetObjectCommand({ Bucket: 'raw', Key: 'parts/object' }));
      const body = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
      assert.equal(body.length, bytes);
      assert.equal(crc32(body), upload.crc);
      // A range that starts past the object's end is an error, not a short count.
      await assert.rejects(getObjectRanges(pool, 'raw', 'parts/object', 16 * MiB, 4 * MiB), {
        name: 'InvalidRange',
      });
    } finally {
      for (const c of pool) c.destroy();
      client.destroy();
    }
  });
});
