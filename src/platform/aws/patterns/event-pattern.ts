/**
 * The event pattern language AWS shares between SNS filter policies, EventBridge rules and Lambda
 * event filtering: a pattern is a JSON object whose leaves are arrays of matchers, and it matches
 * a document when every key of the pattern matches (a leaf: any of its matchers matches the
 * value at that path, or any element of an array there). Matchers: exact strings, numbers,
 * booleans and null; `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but`,
 * `numeric`, `exists`, `cidr`; and `$or` at any level to try alternative sub-patterns.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 * https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html
 *
 * One module for every caller: `validatePattern` throws InvalidPatternError with a message
 * naming the path; `matches(pattern, document)` never throws on a validated pattern.
 */
import { NimbusError } from '../../../errors/nimbus-error.js';

export class InvalidPatternError extends NimbusError {
  constructor(message: string) {
    super('NIMBUS_AWS_BAD_PATTERN', message);
  }
}

export type Pattern = Record<string, unknown>;

export interface PatternLimits {
  /** Nesting depth of keys (SNS allows 5 for bodies; EventBridge more). */
  maxDepth?: number;
  /** Total matcher values (a guard against patterns built to be slow). */
  maxValues?: number;
}

const numericOperators = new Set(['<', '<=', '=', '>', '>=']);

/** Throws InvalidPatternError naming what is wrong; returns the pattern typed. */
export function validatePattern(raw: unknown, limits: PatternLimits = {}): Pattern {
  const budget = { values: limits.maxValues ?? 1000 };
  checkObject(raw, '', 0, limits.maxDepth ?? 16, budget);
  return raw as Pattern;
}

/** Parses JSON text and validates it (SNS and EventBridge carry patterns as strings). */
export function parsePattern(text: string, limits: PatternLimits = {}): Pattern {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InvalidPatternError('the pattern is not valid JSON');
  }
  return validatePattern(raw, limits);
}

function checkObject(
  node: unknown,
  path: string,
  depth: number,
  maxDepth: number,
  budget: { values: number },
): void {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) {
    throw new InvalidPatternError(`${path || 'the pattern'} must be a JSON object`);
  }
  if (depth > maxDepth) throw new InvalidPatternError(`${path} is nested too deeply`);
  const entries = Object.entries(node);
  if (entries.length === 0) throw new InvalidPatternError(`${path || 'the pattern'} is empty`);
  for (const [key, value] of entries) {
    const at = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) {
        throw new InvalidPatternError(`${at} must be an array of at least two patterns`);
      }
      // An alternative sits at the level of its $or: it adds no nesting.
      for (const alternative of value) checkObject(alternative, at, depth, maxDepth, budget);
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new InvalidPatternError(`${at} must not be an empty array`);
      for (const matcher of value) checkMatcher(matcher, at, budget);
    } else {
      checkObject(value, at, depth + 1, maxDepth, budget);
    }
  }
}

function checkMatcher(matcher: unknown, at: string, budget: { values: number }): void {
  budget.values -= 1;
  if (budget.values < 0) throw new InvalidPatternError('the pattern has too many values');
  if (matcher === null || ['string', 'number', 'boolean'].includes(typeof matcher)) return;
  if (typeof matcher !== 'object' || Array.isArray(matcher)) {
    throw new InvalidPatternError(`${at}: ${JSON.stringify(matcher)} is not a matcher`);
  }
  const keys = Object.keys(matcher);
  if (keys.length !== 1) {
    throw new InvalidPatternError(`${at}: a matcher object has exactly one operator`);
  }
  const op = keys[0]!;
  const arg = (matcher as Record<string, unknown>)[op];
  const bad = (why: string) => new InvalidPatternError(`${at}: ${op} ${why}`);
  switch (op) {
    case 'prefix':
    case 'suffix':
      if (typeof arg === 'string') return;
      if (isObjectWith(arg, 'equals-ignore-case') && typeof arg['equals-ignore-case'] === 'string')
        return;
      throw bad('takes a string or {"equals-ignore-case": string}');
    case 'equals-ignore-case':
    case 'wildcard':
      if (typeof arg !== 'string') throw bad('takes a string');
      if (op === 'wildcard' && /\*\*/.test(arg.replace(/\\\*/g, ''))) {
        throw bad('must not contain consecutive wildcards');
      }
      return;
    case 'exists':
      if (typeof arg !== 'boolean') throw bad('takes true or false');
      return;
    case 'cidr':
      if (typeof arg !== 'string' || parseCidr(arg) === undefined) throw bad('takes an IPv4 CIDR');
      return;
    case 'numeric':
      checkNumeric(arg, bad);
      return;
    case 'anything-but':
      if (typeof arg === 'string' || typeof arg === 'number') return;
      if (Array.isArray(arg)) {
        if (arg.length === 0 || arg.some((v) => typeof v !== 'string' && typeof v !== 'number')) {
          throw bad('takes a non-empty list of strings or numbers');
        }
        return;
      }
      if (isObject(arg) && Object.keys(arg).length === 1) {
        const [inner, value] = Object.entries(arg)[0]!;
        if (['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(inner)) {
          if (typeof value === 'string') return;
          if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string'))
            return;
        }
      }
      throw bad('takes a value, a list, or {prefix|suffix|equals-ignore-case|wildcard: string}');
    default:
      throw new InvalidPatternError(`${at}: unknown operator ${op}`);
  }
}

function checkNumeric(arg: unknown, bad: (why: string) => Error): void {
  if (!Array.isArray(arg) || (arg.length !== 2 && arg.length !== 4)) {
    throw bad('takes [op, number] or [lower op, number, upper op, number]');
  }
  for (let i = 0; i < arg.length; i += 2) {
    if (!numericOperators.has(arg[i]) || typeof arg[i + 1] !== 'number') {
      throw bad(`has an unknown operator or a non-number operand: ${JSON.stringify(arg)}`);
    }
  }
  if (arg.length === 4) {
    const [lo, low, hi, high] = arg as [string, number, string, number];
    if (!lo.startsWith('>') || !hi.startsWith('<') || low >= high) {
      throw bad('range must be a lower bound (> or >=) below an upper bound (< or <=)');
    }
  }
}

/** Whether `document` matches a validated pattern. */
export function matches(pattern: Pattern, document: unknown): boolean {
  return matchObject(pattern, document);
}

function matchObject(pattern: Record<string, unknown>, node: unknown): boolean {
  for (const [key, sub] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(sub as Pattern[]).some((alternative) => matchObject(alternative, node))) return false;
      continue;
    }
    const present = isObject(node) && Object.hasOwn(node, key);
    const value = present ? (node as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(sub)) {
      if (!matchLeaf(sub, present, value)) return false;
    } else if (Array.isArray(value)) {
      // An array of objects matches when one of its objects does.
      if (!value.some((v) => matchObject(sub as Pattern, v))) return false;
    } else if (!matchObject(sub as Pattern, value)) {
      return false;
    }
  }
  return true;
}

function matchLeaf(matchers: unknown[], present: boolean, value: unknown): boolean {
  const values = Array.isArray(value) ? value : [value];
  return matchers.some((m) => {
    if (isObject(m) && 'exists' in m) {
      // exists looks at the field, not its values: an empty array does not exist.
      const exists = present && !(Array.isArray(value) && value.length === 0) && !isObject(value);
      return m.exists === exists;
    }
    if (!present) return false;
    return values.some((v) => matchOne(m, v));
  });
}

function matchOne(matcher: unknown, value: unknown): boolean {
  if (matcher === null) return value === null;
  if (typeof matcher !== 'object') {
    if (typeof matcher === 'number') return typeof value === 'number' && value === matcher;
    return value === matcher;
  }
  const [op, arg] = Object.entries(matcher as Record<string, unknown>)[0]!;
  switch (op) {
    case 'prefix':
      return typeof value === 'string' && affix(arg, value, (v, a) => v.startsWith(a));
    case 'suffix':
      return typeof value === 'string' && affix(arg, value, (v, a) => v.endsWith(a));
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === (arg as string).toLowerCase();
    case 'wildcard':
      return typeof value === 'string' && wildcardRegex(arg as string).test(value);
    case 'numeric':
      return typeof value === 'number' && numericMatch(arg as unknown[], value);
    case 'cidr':
      return typeof value === 'string' && cidrMatch(arg as string, value);
    case 'anything-but':
      return anythingBut(arg, value);
    default:
      return false;
  }
}

function affix(arg: unknown, value: string, test: (v: string, a: string) => boolean): boolean {
  if (typeof arg === 'string') return test(value, arg);
  const folded = (arg as Record<string, string>)['equals-ignore-case']!.toLowerCase();
  return test(value.toLowerCase(), folded);
}

function anythingBut(arg: unknown, value: unknown): boolean {
  if (typeof arg === 'string' || typeof arg === 'number') return value !== arg && value !== null;
  if (Array.isArray(arg)) return value !== null && !arg.includes(value);
  if (typeof value !== 'string') return false;
  const [inner, raw] = Object.entries(arg as Record<string, unknown>)[0]!;
  const list = Array.isArray(raw) ? (raw as string[]) : [raw as string];
  return !list.some((a) => matchOne({ [inner]: a }, value));
}

function numericMatch(arg: unknown[], value: number): boolean {
  for (let i = 0; i < arg.length; i += 2) {
    const bound = arg[i + 1] as number;
    switch (arg[i]) {
      case '<':
        if (!(value < bound)) return false;
        break;
      case '<=':
        if (!(value <= bound)) return false;
        break;
      case '=':
        if (value !== bound) return false;
        break;
      case '>':
        if (!(value > bound)) return false;
        break;
      case '>=':
        if (!(value >= bound)) return false;
        break;
    }
  }
  return true;
}

const wildcardCache = new Map<string, RegExp>();

/** `*` is any run of characters; `\*` a literal star. */
function wildcardRegex(pattern: string): RegExp {
  let regex = wildcardCache.get(pattern);
  if (!regex) {
    const source = pattern
      .split(/(\\\*|\*)/)
      .map((part) =>
        part === '*' ? '.*' : part === '\\*' ? '\\*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('');
    regex = new RegExp(`^${source}$`, 's');
    if (wildcardCache.size > 1000) wildcardCache.clear();
    wildcardCache.set(pattern, regex);
  }
  return regex;
}

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    n = n * 256 + Number(part);
  }
  return n;
}

function parseCidr(text: string): { base: number; bits: number } | undefined {
  const [ip, bitsText] = text.split('/');
  const base = parseIpv4(ip ?? '');
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  return { base, bits };
}

function cidrMatch(cidr: string, value: string): boolean {
  const range = parseCidr(cidr);
  const ip = parseIpv4(value);
  if (!range || ip === undefined) return false;
  const size = 2 ** (32 - range.bits);
  return Math.floor(ip / size) === Math.floor(range.base / size);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isObjectWith(value: unknown, key: string): value is Record<string, unknown> {
  return isObject(value) && Object.keys(value).length === 1 && key in value;
}
