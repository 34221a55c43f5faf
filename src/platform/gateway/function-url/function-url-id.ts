import { createHash } from 'node:crypto';

/**
 * Function URL addressing. A URL id is 32 lower-case hex characters derived from the deployed
 * function name (AWS uses 32 random lower-case alphanumerics): stable across redeploys, restarts
 * and cluster nodes, so a URL printed once keeps working.
 *
 * Two forms reach the same function:
 * - host form: `http://<url-id>.lambda-url.localhost:<port>/<path>` (as AWS's
 *   `<url-id>.lambda-url.<region>.on.aws`);
 * - path form: `http://<platform-host>:<port>/_lambda-url/<url-id>/<path>`, for clients that
 *   cannot resolve `*.localhost`. Service names start with a letter, so `/_lambda-url/` can
 *   never be a gateway stage base.
 */
export function functionUrlIdOf(functionName: string): string {
  return createHash('sha256').update(`lambda-url:${functionName}`).digest('hex').slice(0, 32);
}

export const FUNCTION_URL_HOST_SUFFIX = '.lambda-url.localhost';
export const FUNCTION_URL_PATH_PREFIX = '/_lambda-url/';

/** Where a request for a function URL points: the URL id and the path after the URL's root. */
export interface FunctionUrlTarget {
  urlId: string;
  /** Still percent-encoded, always with a leading `/`. */
  rawPath: string;
}

/**
 * The function URL a request is for, by Host (`<id>.lambda-url.localhost[:port]`) or path
 * (`/_lambda-url/<id>/...`); undefined when neither. Cheap: string checks only, no parsing.
 */
export function functionUrlTargetOf(
  host: string | undefined,
  path: string,
): FunctionUrlTarget | undefined {
  if (host?.includes(FUNCTION_URL_HOST_SUFFIX)) {
    const colon = host.lastIndexOf(':');
    const name = (colon >= 0 && !host.endsWith(']') ? host.slice(0, colon) : host).toLowerCase();
    if (name.endsWith(FUNCTION_URL_HOST_SUFFIX)) {
      const urlId = name.slice(0, -FUNCTION_URL_HOST_SUFFIX.length);
      if (urlId.length > 0 && !urlId.includes('.')) return { urlId, rawPath: path };
    }
  }
  if (path.startsWith(FUNCTION_URL_PATH_PREFIX)) {
    const rest = path.slice(FUNCTION_URL_PATH_PREFIX.length);
    const slash = rest.indexOf('/');
    const urlId = (slash < 0 ? rest : rest.slice(0, slash)).toLowerCase();
    if (urlId.length > 0) return { urlId, rawPath: slash < 0 ? '/' : rest.slice(slash) };
  }
  return undefined;
}

/** The host form and the path form of a function's URL on a platform address. */
export function functionUrlsOf(
  functionName: string,
  platformUrl: string,
): { host: string; path: string } {
  const url = new URL(platformUrl);
  const port = url.port ? `:${url.port}` : '';
  const id = functionUrlIdOf(functionName);
  return {
    host: `${url.protocol}//${id}${FUNCTION_URL_HOST_SUFFIX}${port}/`,
    path: `${url.protocol}//${url.host}${FUNCTION_URL_PATH_PREFIX}${id}/`,
  };
}
