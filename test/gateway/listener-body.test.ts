/** The gateway's body cap over real sockets: 413 in API Gateway's envelope, upload not read on. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { systemClock } from '../../src/model/clock.js';
import { GatewayListener } from '../../src/platform/gateway/gateway-listener.js';
import { compileRouteTable } from '../../src/platform/gateway/route-table.js';
import { rawUpload, UNREAD_SLACK_BYTES } from '../helpers/raw-upload.js';
import { FakeInvoker } from '../lambda-api/fake-invoker.js';

const CAP = 1024;

describe('gateway request body cap', () => {
  let server: Server;
  let url: string;

  before(async () => {
    const listener = new GatewayListener({
      table: compileRouteTable([
        {
          service: 'shop',
          stage: 'dev',
          functionKey: 'create',
          functionName: 'shop-create',
          event: { kind: 'httpApi', method: 'POST', path: '/users' },
        },
      ]),
      invoker: new FakeInvoker({
        'shop-create': () => ({ outcome: { status: 'ok', payload: '{"statusCode":201}' } }),
      }),
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      maxBodyBytes: CAP,
    });
    server = createServer((req, res) => {
      const [path, query = ''] = (req.url ?? '/').split('?');
      void listener.handle(req, res, path!, query);
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

  test('a body within the cap reaches the function', async () => {
    const res = await fetch(`${url}/shop-dev/users`, { method: 'POST', body: 'x'.repeat(CAP) });
    assert.equal(res.status, 201);
  });

  test('a declared Content-Length over the cap is 413 before any body is sent', async () => {
    const out = await rawUpload(url, {
      path: '/shop-dev/users',
      headers: { 'content-length': String(CAP + 1) },
      maxBytes: 0,
    });
    assert.equal(out.status, 413);
    assert.equal(out.body, '{"message":"Request Entity Too Large"}');
    assert.equal(out.headers.connection, 'close');
    assert.ok(out.closedByServer);
  });

  test('a chunked body over the cap is 413, and the rest of the upload is not read', async () => {
    const out = await rawUpload(url, {
      path: '/shop-dev/users',
      chunked: true,
      maxBytes: 256 * 2 ** 20,
    });
    assert.equal(out.status, 413);
    assert.equal(out.body, '{"message":"Request Entity Too Large"}');
    assert.ok(out.closedByServer, 'the server closes the connection');
    assert.ok(out.written < CAP + UNREAD_SLACK_BYTES, `the client wrote ${out.written} bytes`);
  });

  test('an upload to no route is 404 and not read either', async () => {
    const out = await rawUpload(url, {
      path: '/nowhere/at/all',
      chunked: true,
      maxBytes: 256 * 2 ** 20,
    });
    assert.equal(out.status, 404);
    assert.equal(out.body, '{"message":"Not Found"}');
    assert.ok(out.closedByServer);
    assert.ok(out.written < UNREAD_SLACK_BYTES, `the client wrote ${out.written} bytes`);
  });
});
