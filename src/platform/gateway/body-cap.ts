import type { Readable } from 'node:stream';
import { MAX_REQUEST_BODY_BYTES } from './gateway-response.js';

/** A request body over the cap: the listener answers 413 `{"message":"Request Entity Too Large"}`. */
export class RequestTooLargeError extends Error {
  readonly status = 413;
  readonly code = 'NIMBUS_GATEWAY_BODY_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
    this.name = 'RequestTooLargeError';
  }
}

/** What readCappedBody reads: an IncomingMessage, or any readable with the same headers. */
export type BodySource = Readable & { headers?: Record<string, string | string[] | undefined> };

/**
 * Reads a request body, rejecting with RequestTooLargeError the moment it passes `limit`
 * bytes: a declared Content-Length over the cap is refused before a byte is read, and a
 * streamed body is refused on the chunk that crosses the cap, which is never kept.
 *
 * On refusal the stream is paused, neither drained (that would keep reading, up to any size,
 * only to drop it) nor destroyed (destroying an IncomingMessage closes the socket, and the
 * client would never see the 413). Send the 413 with `connection: close`: node then closes
 * the socket once the answer is out, which ends the upload.
 */
export function readCappedBody(req: BodySource, limit = MAX_REQUEST_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers?.['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new RequestTooLargeError(limit));
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
        reject(new RequestTooLargeError(limit));
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
