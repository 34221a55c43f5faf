import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { clientErrorResponse } from '../../src/platform/gateway/gateway-response.js';
import { RequestTooLargeError, readBody } from '../../src/platform/http/read-body.js';

const CHUNK = 64 * 1024;
const CAP = 6 * 1024 * 1024;

/** A body of `total` bytes made on demand, counting what has been pulled from it. */
function source(total: number): Readable & { produced: number } {
  let produced = 0;
  const stream = new Readable({
    highWaterMark: CHUNK,
    read() {
      if (produced >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(CHUNK, total - produced);
      produced += size;
      this.push(Buffer.alloc(size, 0x61));
    },
  }) as Readable & { produced: number };
  Object.defineProperty(stream, 'produced', { get: () => produced });
  return stream;
}

describe('request body reader', () => {
  it('reads a body up to the cap', async () => {
    const body = await readBody(source(CAP), CAP);
    assert.equal(body.length, CAP);
  });

  it('rejects the moment the cap is passed and stops reading', async () => {
    const stream = source(64 * 1024 * 1024);
    let producedAtRejection = -1;
    await assert.rejects(
      readBody(stream, CAP).catch((error: unknown) => {
        producedAtRejection = stream.produced;
        throw error;
      }),
      (error: unknown) => error instanceof RequestTooLargeError && error.status === 413,
    );
    assert.ok(producedAtRejection > CAP);
    assert.ok(
      producedAtRejection <= CAP + 2 * CHUNK,
      `pulled ${producedAtRejection} bytes before refusing`,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Paused, not drained: the source is not read on (at most its own read-ahead buffer).
    assert.ok(stream.produced <= producedAtRejection + 2 * CHUNK, `read on to ${stream.produced}`);
  });

  it('refuses a declared Content-Length over the cap before reading', async () => {
    const stream = Object.assign(source(10), { headers: { 'content-length': String(7e6) } });
    await assert.rejects(readBody(stream, CAP), RequestTooLargeError);
  });

  it('over HTTP: the client gets the 413, the server never holds the upload', async () => {
    const server = createServer(async (req, res) => {
      try {
        await readBody(req, 1024);
        res.end('read');
      } catch (error) {
        assert.ok(error instanceof RequestTooLargeError);
        const answer = clientErrorResponse(error)!;
        res.writeHead(answer.statusCode, answer.headers.flat());
        res.end(answer.body);
      }
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const client = request({
        port,
        method: 'POST',
        path: '/',
        headers: { 'transfer-encoding': 'chunked' },
      });
      const responded = once(client, 'response');
      client.on('error', () => {});
      client.write(Buffer.alloc(4096));
      const [res] = (await responded) as [import('node:http').IncomingMessage];
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      client.destroy();
      assert.equal(res.statusCode, 413);
      assert.equal(Buffer.concat(chunks).toString(), '{"message":"Request Entity Too Large"}');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
