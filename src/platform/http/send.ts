import type { ServerResponse } from 'node:http';
import { HttpError } from './http-error.js';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Maps any thrown value to a JSON error; unexpected ones become 500 without internals. */
export function sendError(res: ServerResponse, error: unknown, log: (e: unknown) => void): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error instanceof HttpError) {
    sendJson(
      res,
      error.status,
      { error: { code: error.code, message: error.message } },
      error.headers,
    );
    return;
  }
  log(error);
  sendJson(res, 500, { error: { code: 'NIMBUS_INTERNAL', message: 'internal error' } });
}
