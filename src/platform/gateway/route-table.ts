import type { CorsSettings, HttpApiEvent, HttpEvent } from '../../model/service-definition.js';
import type { RouteAccess } from './access/route-access.js';
import { type CorsPolicy, compileHttpApiCors, compileHttpCors } from './cors.js';
import { parseRoutePath, type RouteSegment } from './route-path.js';
import { createNode, find, insert, splitPath, type TrieNode } from './route-trie.js';
import { type DomainMapping, type StageBase, stageBaseOf } from './stage-base.js';

/** One http/httpApi event of one deployed function: the input of compileRouteTable. */
export interface RouteSource {
  service: string;
  stage: string;
  functionKey: string;
  functionName: string;
  event: HttpEvent | HttpApiEvent;
  /** Authorizer and API key rules (access/route-access.ts); absent: a public route. */
  access?: RouteAccess;
  /** Why the route's access rules cannot be enforced: the route is then not served at all. */
  accessError?: string;
}

/** Per service stage settings that are not per event. */
export interface StageSettings {
  service: string;
  stage: string;
  /** provider.httpApi.cors as written: `true` or the object form. */
  httpApiCors?: unknown;
  /** Custom domains serving this stage (custom-domains.ts). */
  domains?: { domainName: string; basePath: string }[];
}

/** A route, compiled: everything the event builders need, computed once. */
export interface CompiledRoute {
  kind: 'http' | 'httpApi';
  service: string;
  stage: string;
  functionKey: string;
  functionName: string;
  /** As declared, upper-case: `GET`, `ANY`, `*`. */
  method: string;
  /** v1 resource path, `/users/{id}`; for the v2 catch-all, `$default`. */
  resource: string;
  /** v2 route key, `GET /users/{id}`, `ANY /x` or `$default`. */
  routeKey: string;
  /** A stable short id for requestContext.resourceId. */
  resourceId: string;
  /** `http` with `async: true`: the gateway queues the event and answers at once. */
  async?: boolean;
  /** Variable names in path order (a greedy one last). */
  paramNames: string[];
  /** http: the resource's CORS (its preflight); httpApi: the stage's (actual responses too). */
  cors: CorsPolicy | undefined;
  /** Checked by the gateway before the event is built; undefined for a public route. */
  access?: RouteAccess;
}

export interface RouteMatch {
  route: CompiledRoute;
  /** Decoded; undefined when the route has no variables. */
  pathParameters: Record<string, string> | undefined;
  routeKey: string;
  resource: string;
  /** The base the request came in on: `/my-svc-dev` (path form) or `''` (host form). */
  basePath: string;
  /** The route path after the base, as sent (still encoded): `/users/42`. */
  path: string;
  /** v1 requestContext.path: `/<stage><path>`. */
  stagePath: string;
}

export interface PreflightMatch {
  cors: CorsPolicy;
  service: string;
  stage: string;
  basePath: string;
  path: string;
}

export type RouteLookup =
  | ({ type: 'route' } & RouteMatch)
  | ({ type: 'preflight' } & PreflightMatch);

export interface RouteTable {
  /** Routes compiled (preflight entries not counted). */
  readonly size: number;
  /** Routes refused at compile time (bad path, duplicate, colliding bases), one sentence each. */
  readonly warnings: readonly string[];
  /**
   * Matches a request: `pathname` is the URL path without the query, `host` the Host header.
   * undefined means 404 `{"message":"Not Found"}`.
   */
  lookup(method: string, pathname: string, host: string | undefined): RouteLookup | undefined;
}

type Leaf = CompiledRoute | { kind: 'preflight'; cors: CorsPolicy };

interface StageGroup {
  service: string;
  stage: string;
  root: TrieNode<Leaf>;
  defaultRoute: CompiledRoute | undefined;
  httpApiCors: CorsPolicy | undefined;
}

const acceptAll = (_leaf: Leaf): boolean => true;
const acceptRest = (leaf: Leaf): boolean => leaf.kind !== 'httpApi';
const acceptHttpApi = (leaf: Leaf): boolean => leaf.kind === 'httpApi';

/** FNV-1a, base 36: short, stable across restarts and nodes, good enough to tell resources apart. */
function shortId(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36).padStart(7, '0').slice(-6);
}

function paramNamesOf(segments: RouteSegment[]): string[] {
  const names: string[] = [];
  for (const s of segments) if (s.type !== 'literal') names.push(s.name);
  return names;
}

/**
 * Compiles the http/httpApi routes of every deployed stage into one matcher. Call it when a
 * deployment lands, never per request. Bad routes do not stop the others; they are listed in
 * `warnings`.
 */
export function compileRouteTable(
  sources: RouteSource[],
  settings: StageSettings[] = [],
): RouteTable {
  const warnings: string[] = [];
  const groups = new Map<string, StageGroup>();
  const bySource = new Map<StageGroup, RouteSource[]>();
  for (const source of sources) {
    const key = `${source.service}-${source.stage}`.toLowerCase();
    let group = groups.get(key);
    if (group === undefined) {
      group = {
        service: source.service,
        stage: source.stage,
        root: createNode(),
        defaultRoute: undefined,
        httpApiCors: undefined,
      };
      groups.set(key, group);
      bySource.set(group, []);
    } else if (group.service !== source.service || group.stage !== source.stage) {
      warnings.push(
        `${source.service}/${source.stage}: base "${key}" is already ${group.service}/${group.stage}; its routes are not served`,
      );
      continue;
    }
    bySource.get(group)!.push(source);
  }
  let size = 0;
  for (const [key, group] of groups) {
    const setting = settings.find((s) => s.service === group.service && s.stage === group.stage);
    size += compileGroup(group, key, bySource.get(group)!, setting, warnings);
  }
  const domains = compileDomains(groups, settings, warnings);
  return {
    size,
    warnings,
    lookup(method, pathname, host) {
      const base = stageBaseOf(pathname, host, groups, domains);
      return base === undefined ? undefined : lookupIn(base, method.toUpperCase());
    },
  };
}

/**
 * Host name → base path mappings, longest base path first. A domain and base path can serve one
 * stage only: a second claim is reported and not served, as API Gateway refuses a second mapping.
 */
function compileDomains(
  groups: Map<string, StageGroup>,
  settings: StageSettings[],
  warnings: string[],
): Map<string, DomainMapping<StageGroup>[]> | undefined {
  const domains = new Map<string, DomainMapping<StageGroup>[]>();
  for (const setting of settings) {
    const group = groups.get(`${setting.service}-${setting.stage}`.toLowerCase());
    if (group === undefined || group.service !== setting.service) continue;
    for (const { domainName, basePath } of setting.domains ?? []) {
      const name = domainName.toLowerCase();
      const list = domains.get(name) ?? [];
      const taken = list.find((m) => m.basePath === basePath);
      if (taken) {
        warnings.push(
          `${setting.service}/${setting.stage}: ${name}/${basePath} is already mapped to ${taken.group.service}/${taken.group.stage}; not served`,
        );
        continue;
      }
      list.push({ basePath, group });
      domains.set(name, list);
    }
  }
  for (const list of domains.values()) list.sort((a, b) => b.basePath.length - a.basePath.length);
  return domains.size === 0 ? undefined : domains;
}

function compileGroup(
  group: StageGroup,
  key: string,
  sources: RouteSource[],
  setting: StageSettings | undefined,
  warnings: string[],
): number {
  const apiMethods = sources.filter((s) => s.event.kind === 'httpApi').map((s) => s.event.method);
  group.httpApiCors = compileHttpApiCors(setting?.httpApiCors, apiMethods);
  // REST CORS is per resource: collect every event's settings and methods on each path first.
  const restCors = new Map<
    string,
    { segments: RouteSegment[]; cors: CorsSettings[]; methods: string[] }
  >();
  const compiled: CompiledRoute[] = [];
  let size = 0;
  for (const source of sources) {
    const { event } = source;
    const where = `${source.service}/${source.stage} ${source.functionKey} ${event.method} ${event.path}`;
    // A route whose protection cannot be enforced is not served, rather than served open.
    if (source.accessError !== undefined) {
      warnings.push(`${where}: ${source.accessError}`);
      continue;
    }
    if (event.kind === 'httpApi' && event.path === '*') {
      if (group.defaultRoute !== undefined) {
        warnings.push(
          `${where}: duplicate $default route (kept ${group.defaultRoute.functionKey})`,
        );
        continue;
      }
      group.defaultRoute = {
        ...source,
        kind: 'httpApi',
        method: event.method,
        resource: '$default',
        routeKey: '$default',
        resourceId: shortId(`${key} $default`),
        paramNames: [],
        cors: group.httpApiCors,
        ...(source.access ? { access: source.access } : {}),
      };
      size++;
      continue;
    }
    let parsed: ReturnType<typeof parseRoutePath>;
    try {
      parsed = parseRoutePath(event.path);
    } catch (error) {
      warnings.push(`${where}: ${(error as Error).message}`);
      continue;
    }
    const method = event.method.toUpperCase();
    const route: CompiledRoute = {
      service: source.service,
      stage: source.stage,
      functionKey: source.functionKey,
      functionName: source.functionName,
      kind: event.kind,
      method,
      resource: parsed.resource,
      routeKey: `${method === '*' ? 'ANY' : method} ${parsed.resource}`,
      resourceId: shortId(`${key} ${parsed.resource}`),
      paramNames: paramNamesOf(parsed.segments),
      cors: event.kind === 'httpApi' ? group.httpApiCors : undefined,
      ...(event.kind === 'http' && event.async ? { async: true } : {}),
      ...(source.access ? { access: source.access } : {}),
    };
    const taken = insert(group.root, parsed.segments, method, route);
    if (taken !== undefined) {
      warnings.push(`${where}: same method and path as ${(taken as CompiledRoute).functionKey}`);
      continue;
    }
    size++;
    compiled.push(route);
    if (event.kind === 'http') {
      let entry = restCors.get(parsed.resource);
      if (entry === undefined) {
        entry = { segments: parsed.segments, cors: [], methods: [] };
        restCors.set(parsed.resource, entry);
      }
      entry.methods.push(method);
      if (event.cors) entry.cors.push(event.cors);
    }
  }
  // Preflights go in last: an OPTIONS route the user declared keeps its slot.
  for (const [resource, entry] of restCors) {
    if (entry.cors.length === 0) continue;
    const cors = compileHttpCors(entry.cors, entry.methods);
    insert(group.root, entry.segments, 'OPTIONS', { kind: 'preflight', cors });
    for (const route of compiled)
      if (route.kind === 'http' && route.resource === resource) route.cors = cors;
  }
  return size;
}

function lookupIn(base: StageBase<StageGroup>, method: string): RouteLookup | undefined {
  const { group, basePath, path } = base;
  const segments = splitPath(path);
  const values: string[] = [];
  let leaf: Leaf | undefined;
  if (segments.length > 0 && segments[segments.length - 1] === '') {
    // REST ignores one trailing slash; HTTP API does not (`/a/` reaches only a greedy route).
    leaf = find(group.root, segments.slice(0, -1), 0, method, acceptRest, values);
    if (leaf === undefined) {
      values.length = 0;
      leaf = find(group.root, segments, 0, method, acceptHttpApi, values);
    }
  } else {
    leaf = find(group.root, segments, 0, method, acceptAll, values);
  }
  const where = { service: group.service, stage: group.stage, basePath, path };
  if (leaf?.kind === 'preflight') return { type: 'preflight', cors: leaf.cors, ...where };
  // HTTP API's CORS answers every preflight itself, ahead of its routes (REST ones excepted).
  if (
    method === 'OPTIONS' &&
    group.httpApiCors &&
    (leaf === undefined || leaf.kind === 'httpApi')
  ) {
    return { type: 'preflight', cors: group.httpApiCors, ...where };
  }
  const route = leaf ?? group.defaultRoute;
  if (route === undefined) return undefined;
  let pathParameters: Record<string, string> | undefined;
  if (leaf !== undefined && route.paramNames.length > 0) {
    pathParameters = {};
    route.paramNames.forEach((name, i) => {
      pathParameters![name] = values[i]!;
    });
  }
  return {
    type: 'route',
    route,
    pathParameters,
    routeKey: route.routeKey,
    resource: route.resource,
    basePath,
    path,
    stagePath: `/${route.stage}${path}`,
  };
}
