/**
 * ALB listener addressing on the platform port (docs/alb.md). An AWS listener is a port of its
 * own on a load balancer's host name; Nimbus serves every listener on its one port instead:
 * - host form: `http://<listener>.alb.localhost:<port>/<path>`;
 * - path form: `http://<platform-host>:<port>/_alb/<listener>/<path>`, for clients that cannot
 *   resolve `*.localhost`. Service names start with a letter, so `/_alb/` is never a stage base.
 * `<listener>` is the listener ARN's last id, the `Ref`'d logical id, or the load balancer's name.
 */
export const ALB_HOST_SUFFIX = '.alb.localhost';
export const ALB_PATH_PREFIX = '/_alb/';

export interface AlbTarget {
  listener: string;
  /** The path the rules see, still percent-encoded, always with a leading `/`. */
  path: string;
  /** The Host name the rules see (no port, lower-case). */
  host: string;
}

function hostName(host: string): string {
  const colon = host.lastIndexOf(':');
  return (colon > host.lastIndexOf(']') ? host.slice(0, colon) : host).toLowerCase();
}

/** The ALB listener a request is for, or undefined: string checks only, no parsing. */
export function albTargetOf(host: string | undefined, path: string): AlbTarget | undefined {
  const name = host === undefined ? '' : hostName(host);
  if (name.endsWith(ALB_HOST_SUFFIX)) {
    const listener = name.slice(0, -ALB_HOST_SUFFIX.length);
    if (listener.length > 0 && !listener.includes('.')) return { listener, path, host: name };
  }
  if (path.startsWith(ALB_PATH_PREFIX)) {
    const rest = path.slice(ALB_PATH_PREFIX.length);
    const slash = rest.indexOf('/');
    const listener = (slash < 0 ? rest : rest.slice(0, slash)).toLowerCase();
    if (listener.length > 0) {
      return { listener, path: slash < 0 ? '/' : rest.slice(slash), host: name };
    }
  }
  return undefined;
}

/** The host form and the path form of a listener on a platform address. */
export function albUrlsOf(listener: string, platformUrl: string): { host: string; path: string } {
  const url = new URL(platformUrl);
  const port = url.port ? `:${url.port}` : '';
  return {
    host: `${url.protocol}//${listener}${ALB_HOST_SUFFIX}${port}/`,
    path: `${url.protocol}//${url.host}${ALB_PATH_PREFIX}${listener}/`,
  };
}
