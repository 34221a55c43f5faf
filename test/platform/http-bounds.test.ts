/** Stalled and abandoned uploads, malformed paths: bounded, answered, logged at the right level. */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { HttpListener } from '../../src/platform/front-door/http-listener.js';
import { bodyBudget } from '../../src/platform/http/read-body.js';
import { type RunningPlatform, startPlatform } from '../../src/platform/server.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait-for.js';

const artifactPath = `/v1/artifacts/${'b'.repeat(64)}`;

describe('HTTP bounds', () => {
  let platform: RunningPlatform;
  let cleanup: () => Promise<void>;
  const logLines: { level: number; msg: string }[] = [];

  before(async () => {
    const tmp = await makeTempDir();
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          logLines.push(JSON.parse(line));
        done();
      },
    });
    platform = await startPlatform({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(tmp.dir, 'data'),
      logger: pino({ level: 'debug' }, sink),
    });
    cleanup = async () => {
      await platform.close();
      await tmp.cleanup();
    };
  });
  after(() => cleanup());

  /** Sends headers and `bytes` of a body that claims to be `declared` long, then stalls. */
  const stalledUpload = async (bytes: number, declared = 6 * 1024 * 1024) => {
    const { port } = new URL(platform.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    let answer = '';
    socket.on('data', (c: Buffer) => {
      answer += c.toString('latin1');
    });
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      `PUT ${artifactPath} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${platform.adminToken}\r\n` +
        `Content-Length: ${declared}\r\n\r\n`,
    );
    socket.write(Buffer.alloc(bytes, 0x61));
    return { socket, answer: () => answer };
  };

  test('a malformed percent escape in a /v1 path is 400, not 500', async () => {
    const res = await fetch(`${platform.url}/v1/functions/%ZZ`, {
      headers: { authorization: `Bearer ${platform.adminToken}` },
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'NIMBUS_HTTP_BAD_PATH');
  });

  test('an abandoned upload releases what it held, and is logged at debug without a stack', async () => {
    const before = bodyBudget.usedBytes;
    const upload = await stalledUpload(1024 * 1024);
    await waitUntil(() => bodyBudget.usedBytes >= before + 1024 * 1024, 'the body is being held');
    upload.socket.destroy();
    await waitUntil(() => bodyBudget.usedBytes === before, 'the held body released');
    await waitUntil(
      () => logLines.some((l) => l.level === 20 && /client closed/.test(l.msg)),
      'a debug line',
    );
    assert.deepEqual(
      logLines.filter((l) => l.level >= 50),
      [],
      'no error lines for a client that went away',
    );
  });

  test('past the in-flight body budget, uploads are refused with 503 and the connection closed', async () => {
    const saved = bodyBudget.limitBytes;
    bodyBudget.limitBytes = bodyBudget.usedBytes + 1024 * 1024;
    const sockets: Socket[] = [];
    try {
      const first = await stalledUpload(700 * 1024);
      sockets.push(first.socket);
      await waitUntil(() => bodyBudget.usedBytes >= 700 * 1024, 'the first body held');
      const second = await stalledUpload(700 * 1024);
      sockets.push(second.socket);
      await waitUntil(() => /^HTTP\/1\.1 503/.test(second.answer()), 'a 503 for the second');
      assert.match(second.answer(), /NIMBUS_HTTP_BUSY/);
      assert.match(second.answer(), /connection: close/i);
    } finally {
      for (const s of sockets) s.destroy();
      bodyBudget.limitBytes = saved;
    }
  });
});

test('a client that never finishes its headers is cut off by the headers timeout', async () => {
  const listener = new HttpListener({
    host: '127.0.0.1',
    port: 0,
    handle: (_req, res) => res.end('ok'),
    headersTimeoutMs: 300,
    requestTimeoutMs: 600,
  });
  await listener.start();
  try {
    const { port } = new URL(listener.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    let answer = '';
    socket.on('data', (c: Buffer) => {
      answer += c.toString();
    });
    await new Promise((r) => socket.once('connect', r));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n'); // and never the blank line
    await new Promise((r) => socket.once('close', r));
    assert.match(answer, /^HTTP\/1\.1 408/);
  } finally {
    await listener.stop({ deadline: Date.now() });
  }
});
