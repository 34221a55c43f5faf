import type { CorsSettings } from '../../model/service-definition.js';
import type { GatewayResponse } from './gateway-response.js';

/**
 * CORS, compiled once per deployment. Two behaviours, because AWS has two:
 *
 * - `http` events (REST API, lambda-proxy): Serverless adds an OPTIONS method (a mock
 *   integration) on every resource with `cors`; it answers 200 with the Access-Control-Allow-*
 *   headers. Actual responses are the function's business: the gateway adds nothing to them.
 * - `httpApi` (provider.httpApi.cors): API Gateway's own CORS answers every OPTIONS preflight
 *   with 204, and sets the CORS headers on actual responses, replacing any the function sent.
 *   Headers are sent only when the request's Origin is allowed.
 */
export interface CorsPolicy {
  kind: 'http' | 'httpApi';
  anyOrigin: boolean;
  exactOrigins: Set<string>;
  /** Origins with a `*` inside (`https://*.example.com`), compiled here, not per request. */
  originPatterns: RegExp[];
  /** What REST's mock answers when the Origin is not in the list (Serverless' template). */
  firstOrigin: string;
  allowHeaders: string;
  allowMethods: string;
  allowCredentials: boolean;
  exposeHeaders: string | undefined;
  maxAge: string | undefined;
}

/** What `ANY` stands for in Access-Control-Allow-Methods. */
const ANY_METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT'];

/** Serverless' default allowed headers for `cors: true` (http and httpApi alike). */
export const DEFAULT_ALLOWED_HEADERS = [
  'Content-Type',
  'X-Amz-Date',
  'Authorization',
  'X-Api-Key',
  'X-Amz-Security-Token',
  'X-Amz-User-Agent',
  'X-Amzn-Trace-Id',
];

function methodList(methods: Iterable<string>): string {
  const out = new Set<string>(['OPTIONS']);
  for (const m of methods) {
    if (m === 'ANY' || m === '*') for (const any of ANY_METHODS) out.add(any);
    else out.add(m.toUpperCase());
  }
  return [...out].join(',');
}

function compileOrigins(
  origins: string[],
): Pick<CorsPolicy, 'anyOrigin' | 'exactOrigins' | 'originPatterns' | 'firstOrigin'> {
  const exactOrigins = new Set<string>();
  const originPatterns: RegExp[] = [];
  let anyOrigin = false;
  for (const origin of origins) {
    if (origin === '*') anyOrigin = true;
    else if (origin.includes('*')) {
      const source = origin
        .split('*')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*');
      originPatterns.push(new RegExp(`^${source}$`));
    } else exactOrigins.add(origin);
  }
  return { anyOrigin, exactOrigins, originPatterns, firstOrigin: origins[0] ?? '*' };
}

/**
 * Merges the `cors` settings of every http event on one resource (Serverless builds one
 * OPTIONS method per path) into a policy. `resourceMethods` are the methods declared there;
 * they make Access-Control-Allow-Methods unless the settings name methods.
 */
export function compileHttpCors(settings: CorsSettings[], resourceMethods: string[]): CorsPolicy {
  const origins = new Set<string>();
  const headers = new Set<string>();
  const methods = new Set<string>();
  let allowCredentials = false;
  let maxAge: number | undefined;
  for (const s of settings) {
    for (const o of s.origins) origins.add(o);
    for (const h of s.headers) headers.add(h);
    for (const m of s.methods ?? []) methods.add(m);
    allowCredentials ||= s.allowCredentials;
    if (s.maxAge !== undefined) maxAge = Math.max(maxAge ?? 0, s.maxAge);
  }
  return {
    kind: 'http',
    ...compileOrigins([...origins]),
    allowHeaders: [...headers].join(','),
    allowMethods: methodList(methods.size > 0 ? methods : resourceMethods),
    allowCredentials,
    exposeHeaders: undefined,
    maxAge: maxAge === undefined ? undefined : String(maxAge),
  };
}

function stringsOf(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return undefined;
}

/**
 * provider.httpApi.cors (`true` or `{allowedOrigins, allowedHeaders, allowedMethods,
 * allowCredentials, exposedResponseHeaders, maxAge}`) → policy; undefined when CORS is off.
 * Defaults follow Serverless: any origin, the default headers, OPTIONS plus the methods the
 * stage's routes use.
 */
export function compileHttpApiCors(raw: unknown, routeMethods: string[]): CorsPolicy | undefined {
  if (raw === undefined || raw === null || raw === false) return undefined;
  const o = typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const methods = stringsOf(o.allowedMethods);
  const expose = stringsOf(o.exposedResponseHeaders);
  const maxAge = typeof o.maxAge === 'number' ? o.maxAge : undefined;
  return {
    kind: 'httpApi',
    ...compileOrigins(stringsOf(o.allowedOrigins) ?? ['*']),
    allowHeaders: (stringsOf(o.allowedHeaders) ?? DEFAULT_ALLOWED_HEADERS).join(','),
    allowMethods: methods
      ? methods.map((m) => m.toUpperCase()).join(',')
      : methodList(routeMethods),
    allowCredentials: o.allowCredentials === true,
    exposeHeaders: expose && expose.length > 0 ? expose.join(',') : undefined,
    maxAge: maxAge === undefined ? undefined : String(maxAge),
  };
}

/** The Access-Control-Allow-Origin value for a request Origin, or undefined (not allowed). */
export function allowedOrigin(policy: CorsPolicy, origin: string | undefined): string | undefined {
  if (policy.anyOrigin) return '*';
  if (origin !== undefined) {
    if (policy.exactOrigins.has(origin)) return origin;
    for (const pattern of policy.originPatterns) if (pattern.test(origin)) return origin;
  }
  // REST's mock always answers with some origin; the browser then refuses a mismatch.
  return policy.kind === 'http' ? policy.firstOrigin : undefined;
}

/**
 * The gateway's answer to a preflight: 200 (REST mock) or 204 (HTTP API), empty body.
 * HTTP API sends the CORS headers only to an allowed Origin.
 */
export function preflightResponse(policy: CorsPolicy, origin: string | undefined): GatewayResponse {
  const headers: [string, string][] = [];
  const allow =
    policy.kind === 'httpApi' && origin === undefined ? undefined : allowedOrigin(policy, origin);
  if (allow !== undefined) {
    headers.push(['access-control-allow-origin', allow]);
    headers.push(['access-control-allow-headers', policy.allowHeaders]);
    headers.push(['access-control-allow-methods', policy.allowMethods]);
    if (policy.allowCredentials) headers.push(['access-control-allow-credentials', 'true']);
    if (policy.maxAge !== undefined) headers.push(['access-control-max-age', policy.maxAge]);
  }
  if (policy.kind === 'http') headers.push(['content-type', 'application/json']);
  return { statusCode: policy.kind === 'http' ? 200 : 204, headers, body: Buffer.alloc(0) };
}

/**
 * CORS on an actual (non-preflight) response. `http` policies leave the response alone
 * (lambda-proxy: the function sets its own headers); `httpApi` replaces the function's
 * Access-Control-* headers with the configured ones when the Origin is allowed.
 */
export function withCors(
  policy: CorsPolicy | undefined,
  origin: string | undefined,
  response: GatewayResponse,
): GatewayResponse {
  if (policy === undefined || policy.kind === 'http' || origin === undefined) return response;
  const allow = allowedOrigin(policy, origin);
  if (allow === undefined) return response;
  const headers = response.headers.filter(
    ([name]) => !name.toLowerCase().startsWith('access-control-'),
  );
  headers.push(['access-control-allow-origin', allow]);
  if (policy.allowCredentials) headers.push(['access-control-allow-credentials', 'true']);
  if (policy.exposeHeaders !== undefined) {
    headers.push(['access-control-expose-headers', policy.exposeHeaders]);
  }
  return { ...response, headers };
}
