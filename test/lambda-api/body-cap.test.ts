/** The Invoke API's body cap over real sockets: Lambda's 413, upload not read on. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { AuthOutcome } from '../../src/platform/auth/request-verifier.js';
import { createLambdaApi } from '../../src/platform/lambda-api/lambda-api.js';
import { rawUpload, UNREAD_SLACK_BYTES } from '../helpers/raw-upload.js';
import { FakeInvoker } from './fake-invoker.js';

const CAP = 1024;
const path = '/2015-03-31/functions/echo/invocations';

describe('Invoke API request body cap', () => {
  let server: Server;
  let url: string;
  // SigV4 signs the body, so it is read (up to the cap) before the caller is known: a refused
  // caller's oversized upload must be cut off just the same.
  const auth: AuthOutcome = { ok: false, type: 'UnrecognizedClientException', message: 'no' };

  before(async () => {
    const api = createLambdaApi({
      invoker: new FakeInvoker({ echo: () => ({}) }),
      verify: async () => auth,
      maxSyncPayloadBytes: CAP,
    });
    server = createServer((req, res) => {
      void api(req, res, (req.url ?? '/').split('?')[0]!);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );

  const expectTooLarge = (out: Awaited<ReturnType<typeof rawUpload>>) => {
    assert.equal(out.status, 413);
    assert.equal(out.headers['x-amzn-errortype'], 'RequestTooLargeException');
    assert.equal(out.headers.connection, 'close');
    const body = JSON.parse(out.body) as { Type: string; message: string };
    assert.equal(body.Type, 'User');
    assert.match(body.message, /smaller than 1024 bytes/);
    assert.ok(out.closedByServer, 'the server closes the connection');
  };

  test('a small body of a refused caller is read and refused (403)', async () => {
    const res = await fetch(`${url}${path}`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 403);
  });

  test('a declared Content-Length over the cap is 413 before any body is sent', async () => {
    expectTooLarge(
      await rawUpload(url, { path, headers: { 'content-length': String(10 * CAP) }, maxBytes: 0 }),
    );
  });

  test('a chunked upload over the cap is 413, and the rest is not read', async () => {
    const out = await rawUpload(url, { path, chunked: true, maxBytes: 256 * 2 ** 20 });
    expectTooLarge(out);
    assert.ok(out.written < CAP + UNREAD_SLACK_BYTES, `the client wrote ${out.written} bytes`);
  });
});
