import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';

/**
 * Reads a request body, refusing (413) as soon as it passes `limit` bytes, so an oversized
 * upload is never held in memory past the cap.
 */
export async function readBody(
  req: IncomingMessage,
  limit: number,
  what = 'body',
): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(what, limit);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) {
      req.resume();
      throw tooLarge(what, limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
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

function tooLarge(what: string, limit: number): HttpError {
  return new HttpError(413, 'NIMBUS_HTTP_TOO_LARGE', `${what} exceeds the limit of ${limit} bytes`);
}
