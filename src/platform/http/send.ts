import type { ServerResponse } from 'node:http';
import { NimbusError } from '../../errors/nimbus-error.js';

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

/**
 * The Nimbus JSON envelope `{"error":{"code","message"}}` of the control API: any NimbusError
 * with a status is answered as itself; anything else is a 500 without internals, logged.
 */
export function sendError(res: ServerResponse, error: unknown, log: (e: unknown) => void): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error instanceof NimbusError && error.status !== undefined) {
    if (error.status >= 500) log(error);
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
