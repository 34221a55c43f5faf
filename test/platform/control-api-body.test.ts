/** The control API's body caps over real sockets: Nimbus JSON 413/401, uploads not read on. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { type RunningPlatform, startPlatform } from '../../src/platform/server.js';
import { rawUpload, UNREAD_SLACK_BYTES } from '../helpers/raw-upload.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const CAP = 4096;
const path = `/v1/artifacts/${'a'.repeat(64)}`;
const huge = 256 * 2 ** 20;

describe('control API request body caps', () => {
  let platform: RunningPlatform;
  let cleanup: () => Promise<void>;

  before(async () => {
    const tmp = await makeTempDir();
    platform = await startPlatform({
      host: '127.0.0.1',
      port: 0,
      dataDir: tmp.dir,
      logger: pino({ level: 'silent' }),
      zipLimits: { maxZippedBytes: CAP, maxUnzippedBytes: 64 * 1024 },
    });
    cleanup = async () => {
      await platform.close();
      await tmp.cleanup();
    };
  });
  after(() => cleanup());

  const auth = () => ({ authorization: `Bearer ${platform.adminToken}` });
  const errorOf = (body: string) => (JSON.parse(body) as { error: { code: string } }).error.code;

  test('an artifact with a declared size over the cap is 413 before any body is sent', async () => {
    const out = await rawUpload(platform.url, {
      method: 'PUT',
      path,
      headers: { ...auth(), 'content-length': String(CAP + 1) },
      maxBytes: 0,
    });
    assert.equal(out.status, 413);
    assert.equal(errorOf(out.body), 'NIMBUS_HTTP_TOO_LARGE');
    assert.equal(out.headers.connection, 'close');
    assert.ok(out.closedByServer);
  });

  test('a chunked artifact over the cap is 413, and the rest is not read', async () => {
    const out = await rawUpload(platform.url, {
      method: 'PUT',
      path,
      headers: auth(),
      chunked: true,
      maxBytes: huge,
    });
    assert.equal(out.status, 413);
    assert.equal(errorOf(out.body), 'NIMBUS_HTTP_TOO_LARGE');
    assert.ok(out.closedByServer, 'the server closes the connection');
    assert.ok(out.written < CAP + UNREAD_SLACK_BYTES, `the client wrote ${out.written} bytes`);
  });

  test('an unauthenticated upload is 401 and not read, streamed or declared', async () => {
    const streamed = await rawUpload(platform.url, {
      method: 'PUT',
      path,
      chunked: true,
      maxBytes: huge,
    });
    assert.equal(streamed.status, 401);
    assert.equal(errorOf(streamed.body), 'NIMBUS_AUTH_REQUIRED');
    assert.ok(streamed.closedByServer, 'the server closes the connection');
    assert.ok(streamed.written < UNREAD_SLACK_BYTES, `the client wrote ${streamed.written} bytes`);

    const declared = await rawUpload(platform.url, {
      method: 'PUT',
      path,
      headers: { 'content-length': String(huge) },
      maxBytes: huge,
    });
    assert.equal(declared.status, 401);
    assert.equal(declared.headers['www-authenticate'], 'Bearer');
    assert.ok(declared.closedByServer);
    assert.ok(declared.written < UNREAD_SLACK_BYTES, `the client wrote ${declared.written} bytes`);
  });

  test('a small body with a wrong token is drained, and the connection kept', async () => {
    const res = await fetch(`${platform.url}/v1/services`, {
      method: 'POST',
      headers: { authorization: 'Bearer wrong' },
      body: '{}',
    });
    assert.equal(res.status, 401);
    assert.notEqual(res.headers.get('connection'), 'close');
  });
});
