import type { IncomingMessage, ServerResponse } from 'node:http';
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
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        cleanup();
        chunks.length = 0;
        req.on('error', () => {}); // late errors of a body we gave up on are not ours to raise
        req.pause();
        reject(new RequestTooLargeError(limit, what));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
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
