import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerMatches } from '../../control/admin-token.js';
import { HttpError } from '../../http/http-error.js';

export interface MetricsRouteDeps {
  render(): Promise<string>;
  contentType: string;
  /** Either opens it: the admin token, or a scrape-only token (`--metrics-token`). */
  tokens: string[];
}

/**
 * GET /metrics (docs/metrics.md): the Prometheus text exposition, behind a bearer token as the
 * control API is, since function names and load are the operator's business.
 */
export function metricsRoute(deps: MetricsRouteDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new HttpError(405, 'NIMBUS_HTTP_METHOD_NOT_ALLOWED', 'GET /metrics only', {
        allow: 'GET, HEAD',
      });
    }
    const auth = req.headers.authorization;
    if (!deps.tokens.some((t) => bearerMatches(auth, t))) {
      throw new HttpError(
        401,
        'NIMBUS_AUTH_REQUIRED',
        'missing or wrong token (Authorization: Bearer <admin or metrics token>)',
        { 'www-authenticate': 'Bearer' },
      );
    }
    const body = await deps.render();
    res.writeHead(200, {
      'content-type': deps.contentType,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
