/** Where a request's route path starts, once its service stage is known. */
export interface StageBase<G> {
  group: G;
  /** `/my-svc-dev` for the path form, `''` for the host form. */
  basePath: string;
  /** The rest of the path, always starting with `/`. */
  path: string;
}

const HOST_SUFFIX = '.localhost';

/** A custom domain's base path mapping to a stage group (docs/gateway.md#custom-domains). */
export interface DomainMapping<G> {
  /** Without slashes: `v1`, `api/v2`; `''` for the domain's root. */
  basePath: string;
  group: G;
}

function hostName(host: string): string {
  // `[::1]:3000` has colons inside brackets; only a colon after the last `]` starts a port.
  const colon = host.lastIndexOf(':');
  const name = colon > host.lastIndexOf(']') ? host.slice(0, colon) : host;
  return name.toLowerCase();
}

/**
 * Finds the service stage a request addresses. Host form first: `Host: <service>-<stage>.localhost[:port]`
 * makes the whole path the route path. Otherwise the path form: the first segment is
 * `<service>-<stage>` and the rest is the route path (`/my-svc-dev` alone means `/`).
 * Both compare base names case-insensitively against `groups` (keys lower-case), which is
 * how `my-svc` + `dev` and `my` + `svc-dev` are told apart: by what is deployed.
 */
export function stageBaseOf<G>(
  pathname: string,
  host: string | undefined,
  groups: Map<string, G>,
  domains?: Map<string, DomainMapping<G>[]>,
): StageBase<G> | undefined {
  if (host !== undefined) {
    const name = hostName(host);
    // A custom domain owns its host name: its base paths or nothing (longest base path first).
    const mappings = domains?.get(name);
    if (mappings !== undefined) return domainBaseOf(pathname, mappings);
    if (name.endsWith(HOST_SUFFIX)) {
      const group = groups.get(name.slice(0, -HOST_SUFFIX.length));
      if (group !== undefined) return { group, basePath: '', path: pathname || '/' };
    }
  }
  if (!pathname.startsWith('/')) return undefined;
  const slash = pathname.indexOf('/', 1);
  const first = slash < 0 ? pathname.slice(1) : pathname.slice(1, slash);
  const group = groups.get(first.toLowerCase());
  if (group === undefined) return undefined;
  return { group, basePath: `/${first}`, path: slash < 0 ? '/' : pathname.slice(slash) };
}

function domainBaseOf<G>(pathname: string, mappings: DomainMapping<G>[]): StageBase<G> | undefined {
  for (const { basePath, group } of mappings) {
    if (basePath === '') return { group, basePath: '', path: pathname || '/' };
    const prefix = `/${basePath}`;
    if (pathname === prefix) return { group, basePath: prefix, path: '/' };
    if (pathname.startsWith(`${prefix}/`)) {
      return { group, basePath: prefix, path: pathname.slice(prefix.length) };
    }
  }
  return undefined;
}
