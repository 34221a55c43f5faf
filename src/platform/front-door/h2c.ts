/**
 * HTTP/2 with prior knowledge (h2c) on the platform's HTTP/1.1 port. Some AWS SDK clients speak
 * HTTP/2 by default (@aws-sdk/client-kinesis uses NodeHttp2Handler, also for an `http://`
 * endpoint), and Node's HTTP/2 server takes HTTP/1.1 on the same port only over TLS (ALPN). So
 * each new connection's first bytes are looked at: the HTTP/2 connection preface goes to the
 * HTTP/2 server, anything else to the HTTP/1.1 server's own connection handling, unchanged.
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/**
 * Reads a connection's first bytes (up to the preface's 24) and hands the socket to `http1` or
 * `http2`; a connection that sends nothing within `timeoutMs` is closed.
 */
export function routeConnection(
  socket: Socket,
  to: { http1: (socket: Socket) => void; http2: (stream: Duplex) => void },
  timeoutMs: number,
): void {
  let seen = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  const onData = (chunk: Buffer) => {
    seen = Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, preface.length);
    if (!seen.subarray(0, n).equals(preface.subarray(0, n))) done(false);
    else if (seen.length >= preface.length) done(true);
  };
  const onGone = () => clearTimeout(timer);
  const done = (isHttp2: boolean) => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', onGone);
    socket.pause();
    if (isHttp2) {
      to.http2(replayed(socket, seen));
      return;
    }
    socket.unshift(seen);
    to.http1(socket);
    socket.resume();
  };
  socket.on('data', onData);
  socket.once('close', onGone);
}

/**
 * The socket as a stream that first gives the bytes already read. Node's HTTP/2 server reads a
 * net socket's handle directly and would miss bytes put back with unshift(); a plain Duplex is
 * read through its stream interface instead.
 */
function replayed(socket: Socket, head: Buffer): Duplex {
  const stream = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk, encoding, callback) {
      socket.write(chunk, encoding, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(error, callback) {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  stream.push(head);
  socket.on('data', (chunk) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  socket.on('error', (error) => stream.destroy(error));
  return stream;
}
