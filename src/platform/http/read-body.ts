import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { NimbusError } from '../../errors/nimbus-error.js';
import { HttpError } from './http-error.js';

/**
 * A request body over its edge's cap. It carries `connection: close`, which every edge copies
 * onto its 413: node then closes the socket once the answer is out, which ends the upload
 * without reading the rest of it.
 */
export class RequestTooLargeError extends NimbusError {
  constructor(
    readonly limit: number,
    what = 'request body',
  ) {
    super('NIMBUS_HTTP_TOO_LARGE', `${what} exceeds the limit of ${limit} bytes`, {
      headers: { connection: 'close' },
    });
  }
}

/** The client went away before its body was read to the end; nobody is left to answer. */
export class ClientAbortedError extends NimbusError {
  constructor() {
    super('NIMBUS_HTTP_ABORTED', 'the client closed the connection before sending its whole body');
  }
}

/** Every body being read at once would pass the platform's budget: try again shortly. */
export class BodyBudgetExceededError extends NimbusError {
  constructor(limit: number) {
    super(
      'NIMBUS_HTTP_BUSY',
      `request bodies in flight would pass the platform's budget of ${limit} bytes; try again`,
      { headers: { connection: 'close', 'retry-after': '1' } },
    );
  }
}

/**
 * Bytes of request bodies held in memory across every request of this process. Each body has
 * its own cap, but many slow uploads at once would add up to any amount: past this budget a
 * body is refused (503) instead. Process-wide because memory is.
 */
export const bodyBudget = { limitBytes: 512 * 1024 * 1024, usedBytes: 0 };

/** What readBody reads: an IncomingMessage, or any readable with the same headers. */
export type BodySource = Readable & { headers?: Record<string, string | string[] | undefined> };

/**
 * The one request-body reader of every edge. It rejects with RequestTooLargeError the moment
 * the body passes `limit` bytes: a declared Content-Length over the cap is refused before a byte
 * is read, and a streamed body is refused on the chunk that crosses the cap, which is never kept.
 *
 * On refusal the stream is paused, neither drained (that would keep reading an upload of any
 * size, unauthenticated perhaps, only to drop it) nor destroyed (destroying an IncomingMessage
 * closes the socket, and the client would never see the 413).
 */
export function readBody(req: BodySource, limit: number, what?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers?.['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new RequestTooLargeError(limit, what));
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    let held = 0;
    const release = (): void => {
      bodyBudget.usedBytes -= held;
      held = 0;
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      release();
    };
    const giveUp = (error: Error): void => {
      cleanup();
      chunks.length = 0;
      req.on('error', () => {}); // late errors of a body we gave up on are not ours to raise
      req.pause();
      lingerBeforeClose(req);
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        giveUp(new RequestTooLargeError(limit, what));
        return;
      }
      if (bodyBudget.usedBytes + chunk.length > bodyBudget.limitBytes) {
        giveUp(new BodyBudgetExceededError(bodyBudget.limitBytes));
        return;
      }
      bodyBudget.usedBytes += chunk.length;
      held += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onError = (error: Error): void => {
      cleanup();
      chunks.length = 0;
      reject(error);
    };
    // Closed without an end: the client went away (or a timeout cut it). What was buffered is
    // dropped now; before, a stalled upload that was then cut kept its chunks for good.
    const onClose = (): void => {
      if (req.readableEnded) return;
      cleanup();
      chunks.length = 0;
      reject(new ClientAbortedError());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** How long a refused connection lingers, and how much of the upload it reads and drops meanwhile. */
const lingerMs = 2000;
const lingerBytes = 1024 * 1024;

/**
 * A refused upload is answered with `connection: close`, and node closes the socket once the
 * answer is written. Closing a socket with unread bytes makes the kernel send a reset, which
 * can overtake the answer still in flight: the client, busy writing, sees ECONNRESET and never
 * the 413. So the close lingers as web servers' do: the answer and a FIN go out, then for two
 * seconds the client has time to read it, and the socket is destroyed. Meanwhile at most a MiB
 * more of the upload is read and dropped; past that the socket stops reading rather than closing
 * early, since the socket buffers alone hold several MiB on loopback and a reset sent while they
 * drain would still overtake the answer on a busy client. Bounded in bytes and time, so a client
 * that ignores the answer cannot keep the connection or make the server read its upload.
 */
function lingerBeforeClose(req: BodySource): void {
  const message = req as Partial<IncomingMessage>;
  // HTTP/2 streams end on their own; only an HTTP/1 socket is closed under the client's feet.
  if (message.httpVersionMajor !== 1 || !message.socket) return;
  const socket = message.socket as Socket;
  socket.destroySoon = function lingeringClose(this: Socket): void {
    this.end();
    let dropped = 0;
    const close = (): void => {
      this.destroy();
    };
    const timer = setTimeout(close, lingerMs);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
    req.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > lingerBytes) {
        req.pause();
        this.pause();
      }
    });
    req.resume();
  };
}

export async function readJson(req: BodySource, limit: number): Promise<unknown> {
  const body = await readBody(req, limit, 'JSON body');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new HttpError(
      400,
      'NIMBUS_HTTP_BAD_JSON',
      `request body is not valid JSON: ${(error as Error).message}`,
    );
  }
}

/** Bodies this small are cheaper to read and drop than a new connection is to open. */
const drainableBytes = 64 * 1024;

/**
 * Answering without reading the body (refused token, no such route): a small declared body is
 * drained so the connection can be kept; anything else (large, or chunked of unknown size) makes
 * the answer close the connection, so an upload nobody asked for is never read to its end.
 * Call before the answer's headers are written.
 */
export function leaveBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  const declared = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (declared === undefined || Number(declared) === 0)) return;
  if (!chunked && Number(declared) <= drainableBytes) {
    req.resume();
    return;
  }
  if (!res.headersSent) res.setHeader('connection', 'close');
}
