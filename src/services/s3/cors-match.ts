/**
 * Which CORS rule of a bucket answers a browser, and the Access-Control-* headers it gets, as S3
 * evaluates them: the first rule whose AllowedOrigin matches the Origin, whose AllowedMethod
 * has the method, and (preflight only) whose AllowedHeader patterns cover every requested
 * header. Origins compare as written; header names without regard to case.
 */
import type { CorsRule } from './cors-config.js';

export interface CorsMatch {
  rule: CorsRule;
  /** The rule allows any origin (`*`): answered `*`, without credentials. */
  anyOrigin: boolean;
}

/** S3 varies every CORS answer on the three request headers that decide it. */
export const corsVary = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

export function matchCorsRule(
  rules: CorsRule[],
  origin: string,
  method: string,
  requestedHeaders: string[] = [],
): CorsMatch | undefined {
  for (const rule of rules) {
    const pattern = rule.allowedOrigins.find((o) => wildcardMatch(o, origin));
    if (pattern === undefined || !rule.allowedMethods.includes(method)) continue;
    const covered = requestedHeaders.every((h) =>
      rule.allowedHeaders.some((p) => wildcardMatch(p.toLowerCase(), h)),
    );
    if (covered) return { rule, anyOrigin: pattern === '*' };
  }
  return undefined;
}

/** `Access-Control-Request-Headers: a, B` as lower-case names. */
export function requestedHeaderNames(header: string | string[] | undefined): string[] {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return text
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}

/** The Access-Control-* headers of a matched request (preflight: with the allowed headers). */
export function corsHeaders(
  match: CorsMatch,
  origin: string,
  requestedHeaders?: string[],
): Record<string, string> {
  const { rule } = match;
  const headers: Record<string, string> = {
    'access-control-allow-origin': match.anyOrigin ? '*' : origin,
    'access-control-allow-methods': rule.allowedMethods.join(', '),
    vary: corsVary,
  };
  if (!match.anyOrigin) headers['access-control-allow-credentials'] = 'true';
  if (requestedHeaders && requestedHeaders.length > 0) {
    headers['access-control-allow-headers'] = requestedHeaders.join(', ');
  }
  if (rule.exposeHeaders.length > 0) {
    headers['access-control-expose-headers'] = rule.exposeHeaders.join(', ');
  }
  if (rule.maxAgeSeconds !== undefined) {
    headers['access-control-max-age'] = String(rule.maxAgeSeconds);
  }
  return headers;
}

/** A pattern with at most one `*` (validated when the rule was stored), matched whole. */
function wildcardMatch(pattern: string, text: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === text;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  return (
    text.length >= prefix.length + suffix.length && text.startsWith(prefix) && text.endsWith(suffix)
  );
}
