import type { IncomingMessage, ServerResponse } from 'node:http';
import { arrivedOverTls } from './http-listener.js';

/** A Host header's name and optional port; anything else gets no redirect built from it. */
const hostPattern = /^([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * `--tls-redirect`: a plain HTTP request for the gateway surface (API routes, custom domains,
 * function URLs, ALB listeners, the console) is answered 308 with the same path and query on
 * `https://<host>:<tls port>`; 308 keeps the method and body. The front door calls it only for
 * those areas: AWS API traffic (SigV4), the control and Lambda APIs, /health and /metrics stay on
 * plain HTTP, where functions and the CLI reach the platform (docs/tls.md#redirect).
 * Returns whether it answered.
 */
export function httpsRedirect(
  tlsPort: () => number | undefined,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const port = tlsPort();
    if (port === undefined || arrivedOverTls(req)) return false;
    const match = hostPattern.exec(req.headers.host ?? '');
    if (!match) {
      res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' });
      res.end('A plain HTTP request needs a Host header to be redirected to HTTPS\n');
      return true;
    }
    const name = match[1]!.toLowerCase();
    const authority = port === 443 ? name : `${name}:${port}`;
    const target = req.url?.startsWith('/') ? req.url : '/';
    res.writeHead(308, {
      location: `https://${authority}${target}`,
      'content-length': '0',
    });
    res.end();
    return true;
  };
}
