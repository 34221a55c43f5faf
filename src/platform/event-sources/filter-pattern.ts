/**
 * Lambda event filtering: the EventBridge pattern language applied to each record
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html). A pattern is a
 * JSON object whose leaves are arrays of matchers; a record passes when every key matches
 * (`$or` takes alternatives), and a mapping passes a record when any of its patterns does.
 * Matchers: literal strings, numbers, booleans and null; `prefix`, `suffix`, `anything-but`
 * (a value, a list, or `{prefix}` / `{suffix}`), `numeric` ranges, `exists`,
 * `equals-ignore-case`, `wildcard`.
 */

export type FilterPattern = { readonly [key: string]: FilterPattern | readonly Matcher[] } & {
  readonly $or?: readonly FilterPattern[];
};
type Matcher = string | number | boolean | null | Record<string, unknown>;

export type ParsedPattern = { ok: true; pattern: FilterPattern } | { ok: false; reason: string };

/** Lambda's limit on one filter's pattern text. */
const maxPatternChars = 4096;
const numericOps = new Set(['=', '<', '<=', '>', '>=']);

/** Checks a pattern's text once, where it is written (deploy, the Lambda API). */
export function parseFilterPattern(text: string): ParsedPattern {
  if (text.length > maxPatternChars) {
    return { ok: false, reason: `a filter pattern is longer than ${maxPatternChars} characters` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: `filter pattern is not JSON: ${text}` };
  }
  const problem = checkObject(value, '');
  return problem ? { ok: false, reason: problem } : { ok: true, pattern: value as FilterPattern };
}

function checkObject(value: unknown, at: string): string | undefined {
  if (!isObject(value)) return `filter pattern ${at || 'root'} must be a JSON object`;
  for (const [key, inner] of Object.entries(value)) {
    const path = at ? `${at}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(inner) || inner.length < 2) return `"$or" needs a list of 2+ patterns`;
      for (const alt of inner) {
        const p = checkObject(alt, path);
        if (p) return p;
      }
    } else if (Array.isArray(inner)) {
      if (inner.length === 0) return `filter pattern ${path} has an empty list`;
      for (const m of inner) {
        const p = checkMatcher(m, path);
        if (p) return p;
      }
    } else if (isObject(inner)) {
      const p = checkObject(inner, path);
      if (p) return p;
    } else {
      return `filter pattern ${path} must be a list of matchers or an object`;
    }
  }
  return undefined;
}

function checkMatcher(m: unknown, path: string): string | undefined {
  if (m === null || ['string', 'number', 'boolean'].includes(typeof m)) return undefined;
  if (!isObject(m) || Object.keys(m).length !== 1) {
    return `filter pattern ${path} has a matcher that is not a value or a one-key object`;
  }
  const [op, arg] = Object.entries(m)[0]!;
  switch (op) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
    case 'wildcard':
      return typeof arg === 'string' ? undefined : `"${op}" in ${path} takes a string`;
    case 'exists':
      return typeof arg === 'boolean' ? undefined : `"exists" in ${path} takes true or false`;
    case 'anything-but':
      if (isObject(arg)) {
        const [k, v] = Object.entries(arg)[0] ?? [];
        return (k === 'prefix' || k === 'suffix') && typeof v === 'string'
          ? undefined
          : `"anything-but" in ${path} takes a value, a list, {prefix} or {suffix}`;
      }
      return Array.isArray(arg) || ['string', 'number'].includes(typeof arg)
        ? undefined
        : `"anything-but" in ${path} takes a value, a list, {prefix} or {suffix}`;
    case 'numeric': {
      if (!Array.isArray(arg) || (arg.length !== 2 && arg.length !== 4)) {
        return `"numeric" in ${path} takes [op, number] or [op, number, op, number]`;
      }
      for (let i = 0; i < arg.length; i += 2) {
        if (!numericOps.has(arg[i] as string) || typeof arg[i + 1] !== 'number') {
          return `"numeric" in ${path} has a bad comparison`;
        }
      }
      return undefined;
    }
    default:
      return `filter pattern ${path} uses an unknown matcher "${op}"`;
  }
}

/** True when `view` passes one of `patterns` (no patterns: everything passes). */
export function passesFilters(patterns: readonly FilterPattern[], view: unknown): boolean {
  return patterns.length === 0 || patterns.some((p) => matchesObject(p, view));
}

function matchesObject(pattern: FilterPattern, value: unknown): boolean {
  for (const [key, inner] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(inner as FilterPattern[]).some((alt) => matchesObject(alt, value))) return false;
      continue;
    }
    const field = isObject(value) ? value[key] : undefined;
    const present = isObject(value) && Object.hasOwn(value, key);
    if (Array.isArray(inner)) {
      if (!matchesLeaf(inner as Matcher[], present, field)) return false;
    } else if (!matchesObject(inner as FilterPattern, field)) {
      return false;
    }
  }
  return true;
}

function matchesLeaf(matchers: readonly Matcher[], present: boolean, field: unknown): boolean {
  // A list in the record matches when any of its elements does, as EventBridge does.
  const values = Array.isArray(field) ? field : [field];
  return matchers.some((m) => {
    if (isObject(m) && 'exists' in m) return m.exists === (present && field !== undefined);
    if (!present) return false;
    return values.some((v) => matchesValue(m, v));
  });
}

function matchesValue(m: Matcher, v: unknown): boolean {
  if (!isObject(m)) return m === v;
  const [op, arg] = Object.entries(m)[0]!;
  switch (op) {
    case 'prefix':
      return typeof v === 'string' && v.startsWith(arg as string);
    case 'suffix':
      return typeof v === 'string' && v.endsWith(arg as string);
    case 'equals-ignore-case':
      return typeof v === 'string' && v.toLowerCase() === (arg as string).toLowerCase();
    case 'wildcard':
      return typeof v === 'string' && wildcard(arg as string).test(v);
    case 'anything-but': {
      if (isObject(arg)) {
        const [k, s] = Object.entries(arg)[0]!;
        if (typeof v !== 'string') return true;
        return k === 'prefix' ? !v.startsWith(s as string) : !v.endsWith(s as string);
      }
      const excluded = Array.isArray(arg) ? arg : [arg];
      return !excluded.includes(v);
    }
    case 'numeric': {
      if (typeof v !== 'number') return false;
      const ops = arg as (string | number)[];
      for (let i = 0; i < ops.length; i += 2) {
        if (!compare(v, ops[i] as string, ops[i + 1] as number)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

function compare(v: number, op: string, n: number): boolean {
  switch (op) {
    case '=':
      return v === n;
    case '<':
      return v < n;
    case '<=':
      return v <= n;
    case '>':
      return v > n;
    default:
      return v >= n;
  }
}

function wildcard(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A record's `body` or `data` parsed as Lambda filtering does: JSON when it is JSON. */
export function parsedOrRaw(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
