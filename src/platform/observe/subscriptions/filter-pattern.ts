/**
 * CloudWatch Logs filter patterns (docs/logs.md#subscriptions), the three forms AWS documents:
 * - terms: `ERROR`, `"Exception thrown"`, all required; `?ERROR ?WARN` any of them; `-DEBUG`
 *   excluded (case-sensitive substrings of the message);
 * - JSON: `{ $.level = "error" && ($.latency > 100 || $.user.id NOT EXISTS) }` on messages that
 *   are JSON objects (`=`/`!=` with strings, `*` wildcards, numbers, `IS TRUE|FALSE|NULL`);
 * - space-delimited: `[ip, user, ..., status = 4*, bytes > 1000]` on messages split by spaces
 *   (quoted and bracketed fields are one field; `...` takes any number of fields).
 * An empty pattern matches every event. parseFilterPattern() throws FilterPatternError.
 */
import { NimbusError } from '../../../errors/nimbus-error.js';
export class FilterPatternError extends NimbusError {
  constructor(message: string) {
    super('NIMBUS_LOG_FILTER_INVALID', message);
  }
}

export type LogMatcher = (message: string) => boolean;

export function parseFilterPattern(pattern: string): LogMatcher {
  if (typeof pattern !== 'string') throw new FilterPatternError('filter must be a string');
  if (pattern.length > 1024) throw new FilterPatternError('filter is longer than 1024 characters');
  const text = pattern.trim();
  if (text === '') return () => true;
  if (text.startsWith('{')) return jsonPattern(text);
  if (text.startsWith('[')) return delimitedPattern(text);
  return termPattern(text);
}

// ---- terms -------------------------------------------------------------------------------

function termPattern(text: string): LogMatcher {
  const required: string[] = [];
  const any: string[] = [];
  const excluded: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i] as string)) {
      i++;
      continue;
    }
    let prefix = '';
    if (text[i] === '?' || text[i] === '-') prefix = text[i++] as string;
    let term: string;
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new FilterPatternError(`unterminated quoted phrase at ${i + 1}`);
      term = text.slice(i + 1, end);
      i = end + 1;
    } else {
      const m = /^[^\s"]+/.exec(text.slice(i));
      if (!m) throw new FilterPatternError(`expected a term at ${i + 1}`);
      term = m[0];
      i += term.length;
    }
    if (term === '') throw new FilterPatternError('empty term');
    if (/[{}[\]]/.test(term) && !text.includes('"')) {
      throw new FilterPatternError(
        `"${term}": braces and brackets start JSON and space-delimited patterns; quote the term to match them literally`,
      );
    }
    (prefix === '?' ? any : prefix === '-' ? excluded : required).push(term);
  }
  if (any.length > 0 && (required.length > 0 || excluded.length > 0)) {
    throw new FilterPatternError(
      '"?" alternatives cannot be mixed with required or excluded terms',
    );
  }
  return (message) =>
    any.length > 0
      ? any.some((t) => message.includes(t))
      : required.every((t) => message.includes(t)) && !excluded.some((t) => message.includes(t));
}

// ---- JSON --------------------------------------------------------------------------------

type Cond = (doc: unknown) => boolean;

function jsonPattern(text: string): LogMatcher {
  if (!text.endsWith('}')) throw new FilterPatternError('a JSON pattern ends with "}"');
  const p = new CondParser(text.slice(1, -1), 'json');
  const cond = p.parseAll();
  return (message) => {
    let doc: unknown;
    try {
      doc = JSON.parse(message.trim());
    } catch {
      return false;
    }
    return doc !== null && typeof doc === 'object' && cond(doc);
  };
}

function jsonPath(doc: unknown, path: string): { found: boolean; value?: unknown } {
  // `$.a.b[0].c`
  const parts = path
    .slice(1)
    .split(/\.|(?=\[)/)
    .filter(Boolean);
  let value: unknown = doc;
  for (const part of parts) {
    const index = /^\[(\d+)\]$/.exec(part);
    if (index) {
      if (!Array.isArray(value)) return { found: false };
      value = value[Number(index[1])];
      if (value === undefined) return { found: false };
      continue;
    }
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) {
      return { found: false };
    }
    value = (value as Record<string, unknown>)[part];
  }
  return { found: true, value };
}

function wildcard(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 's');
}

function compare(actual: unknown, op: string, expected: string | number): boolean {
  if (typeof expected === 'number') {
    const n = typeof actual === 'number' ? actual : Number.NaN;
    if (Number.isNaN(n)) return op === '!=';
    switch (op) {
      case '=':
        return n === expected;
      case '!=':
        return n !== expected;
      case '<':
        return n < expected;
      case '<=':
        return n <= expected;
      case '>':
        return n > expected;
      default:
        return n >= expected;
    }
  }
  const s =
    typeof actual === 'string' ? actual : actual === undefined ? undefined : JSON.stringify(actual);
  if (s === undefined) return op === '!=';
  const matches = wildcard(expected).test(s);
  return op === '=' ? matches : !matches;
}

/** Conditions joined by && and || with parentheses; `json` reads $. selectors, `fields` names. */
class CondParser {
  #pos = 0;
  constructor(
    readonly text: string,
    readonly mode: 'json' | 'fields',
    readonly lookup?: (name: string) => void,
  ) {}

  parseAll(): Cond {
    const cond = this.or();
    this.skip();
    if (this.#pos < this.text.length) {
      throw new FilterPatternError(`unexpected "${this.text.slice(this.#pos, this.#pos + 12)}"`);
    }
    return cond;
  }
  skip(): void {
    while (/\s/.test(this.text[this.#pos] ?? '')) this.#pos++;
  }
  eat(token: string): boolean {
    this.skip();
    if (this.text.startsWith(token, this.#pos)) {
      this.#pos += token.length;
      return true;
    }
    return false;
  }
  or(): Cond {
    let left = this.and();
    while (this.eat('||')) {
      const l = left;
      const r = this.and();
      left = (d) => l(d) || r(d);
    }
    return left;
  }
  and(): Cond {
    let left = this.atom();
    while (this.eat('&&')) {
      const l = left;
      const r = this.atom();
      left = (d) => l(d) && r(d);
    }
    return left;
  }
  atom(): Cond {
    if (this.eat('(')) {
      const inner = this.or();
      if (!this.eat(')')) throw new FilterPatternError('missing ")"');
      return inner;
    }
    this.skip();
    const selectorRe = this.mode === 'json' ? /^\$(\.[\w-]+|\[\d+\])+/ : /^[A-Za-z_][\w]*/;
    const sel = selectorRe.exec(this.text.slice(this.#pos));
    if (!sel) {
      throw new FilterPatternError(
        this.mode === 'json'
          ? `expected a selector like $.level at "${this.text.slice(this.#pos, this.#pos + 12)}"`
          : `expected a field name at "${this.text.slice(this.#pos, this.#pos + 12)}"`,
      );
    }
    const selector = sel[0];
    this.#pos += selector.length;
    this.lookup?.(selector);
    const get = (d: unknown) =>
      this.mode === 'json'
        ? jsonPath(d, selector)
        : {
            found: Object.hasOwn(d as object, selector),
            value: (d as Record<string, unknown>)[selector],
          };
    this.skip();
    const rest = this.text.slice(this.#pos);
    const is = /^IS\s+(TRUE|FALSE|NULL)\b/i.exec(rest);
    if (is) {
      this.#pos += is[0].length;
      const want = (is[1] as string).toUpperCase();
      return (d) => {
        const { found, value } = get(d);
        return found && value === (want === 'TRUE' ? true : want === 'FALSE' ? false : null);
      };
    }
    const notExists = /^NOT\s+EXISTS\b/i.exec(rest);
    if (notExists) {
      this.#pos += notExists[0].length;
      return (d) => !get(d).found;
    }
    const op = /^(!=|<=|>=|=|<|>)/.exec(rest);
    if (!op) throw new FilterPatternError(`expected a comparison after ${selector}`);
    this.#pos += op[0].length;
    this.skip();
    const value = this.value();
    if (typeof value === 'string' && !['=', '!='].includes(op[0])) {
      throw new FilterPatternError(
        `${op[0]} compares numbers; ${selector} is compared with a string`,
      );
    }
    return (d) => {
      const { found, value: actual } = get(d);
      if (!found) return false;
      const coerced =
        this.mode === 'fields' &&
        typeof value === 'number' &&
        typeof actual === 'string' &&
        actual !== ''
          ? Number(actual)
          : actual;
      return compare(coerced, op[0] as string, value);
    };
  }
  value(): string | number {
    const rest = this.text.slice(this.#pos);
    if (rest.startsWith('"')) {
      const end = rest.indexOf('"', 1);
      if (end < 0) throw new FilterPatternError('unterminated string');
      this.#pos += end + 1;
      return rest.slice(1, end);
    }
    const num = /^-?\d+(\.\d+)?([eE][+-]?\d+)?(?![\w*])/.exec(rest);
    if (num) {
      this.#pos += num[0].length;
      return Number(num[0]);
    }
    const bare = /^[^\s()&|\]]+/.exec(rest);
    if (!bare) throw new FilterPatternError('expected a value');
    this.#pos += bare[0].length;
    return bare[0];
  }
}

// ---- space-delimited ---------------------------------------------------------------------

function delimitedPattern(text: string): LogMatcher {
  if (!text.endsWith(']')) throw new FilterPatternError('a space-delimited pattern ends with "]"');
  const body = text.slice(1, -1);
  // Fields are separated by commas outside quotes and parentheses.
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const c of body) {
    if (c === '"') quoted = !quoted;
    if (!quoted && c === '(') depth++;
    if (!quoted && c === ')') depth--;
    if (!quoted && depth === 0 && c === ',') {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += c;
  }
  parts.push(current.trim());
  const names: string[] = [];
  const conditions: Cond[] = [];
  let ellipsisAt = -1;
  parts.forEach((part, index) => {
    if (part === '') throw new FilterPatternError(`field ${index + 1} is empty`);
    if (part === '...') {
      if (ellipsisAt >= 0) throw new FilterPatternError('only one "..." per pattern');
      ellipsisAt = index;
      names.push('...');
      return;
    }
    const name = /^[A-Za-z_]\w*/.exec(part);
    if (!name) throw new FilterPatternError(`"${part}" is not a field name`);
    if (names.includes(name[0])) throw new FilterPatternError(`field ${name[0]} named twice`);
    names.push(name[0]);
    if (part.length > name[0].length) {
      conditions.push(new CondParser(part, 'fields').parseAll());
    }
  });
  return (message) => {
    const fields = splitFields(message);
    const byName: Record<string, string> = {};
    if (ellipsisAt < 0) {
      if (fields.length !== names.length) return false;
      names.forEach((n, i) => {
        byName[n] = fields[i] as string;
      });
    } else {
      const after = names.length - ellipsisAt - 1;
      if (fields.length < names.length - 1) return false;
      for (let i = 0; i < ellipsisAt; i++) byName[names[i] as string] = fields[i] as string;
      for (let j = 0; j < after; j++) {
        byName[names[ellipsisAt + 1 + j] as string] = fields[fields.length - after + j] as string;
      }
    }
    return conditions.every((c) => c(byName));
  };
}

/** Splits on spaces; "quoted" and [bracketed] runs stay one field, without their delimiters. */
function splitFields(message: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|\[([^\]]*)\]|(\S+)/g;
  for (const m of message.trim().matchAll(re)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}
