/**
 * The AWS IoT SQL dialect of topic rules (docs/iot.md): `SELECT <list> FROM '<topic filter>'
 * [WHERE <condition>]`. parseIotSql() checks a statement once, at load; evaluateIotSql() runs
 * it against one MQTT message and returns the selected document, or undefined when the
 * message does not match (topic filter or WHERE). Semantics follow the AWS IoT SQL reference:
 * a field missing from the payload is Undefined, any comparison with Undefined is not true, and
 * a non-JSON payload has no fields (only `encode(*, 'base64')` and the message functions read it).
 */
import { NimbusError } from '../../errors/nimbus-error.js';
import { topicMatches } from './topic-filter.js';

export class IotSqlError extends NimbusError {
  constructor(message: string) {
    super('NIMBUS_IOT_SQL_INVALID', message);
  }
}

type Expr =
  | { type: 'literal'; value: unknown }
  | { type: 'star' }
  | { type: 'field'; path: string[] }
  | { type: 'call'; name: string; args: Expr[] }
  | { type: 'unary'; op: 'NOT' | '-'; operand: Expr }
  | { type: 'binary'; op: string; left: Expr; right: Expr };

export interface SelectItem {
  expr: Expr;
  /** The key in the selected document; for `*` without AS, none (the payload is merged). */
  name?: string;
}

export interface IotSqlStatement {
  select: SelectItem[];
  topicFilter: string;
  where?: Expr;
}

export interface IotMessage {
  topic: string;
  payload: Buffer;
  clientId?: string;
  /** Epoch ms the platform received the message. */
  timestamp: number;
}

const functions: Record<string, { min: number; max: number }> = {
  topic: { min: 0, max: 1 },
  clientid: { min: 0, max: 0 },
  timestamp: { min: 0, max: 0 },
  encode: { min: 2, max: 2 },
  lower: { min: 1, max: 1 },
  upper: { min: 1, max: 1 },
  concat: { min: 2, max: 16 },
  abs: { min: 1, max: 1 },
};

type Token =
  | { kind: 'word'; text: string; upper: string }
  | { kind: 'string'; text: string }
  | { kind: 'number'; value: number }
  | { kind: 'op'; text: string };

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) throw new IotSqlError(`unterminated string starting at ${i + 1}`);
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            text += c;
            j += 2;
            continue;
          }
          break;
        }
        text += sql[j];
        j++;
      }
      tokens.push({ kind: 'string', text });
      i = j + 1;
      continue;
    }
    const num = /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(sql.slice(i));
    if (num) {
      tokens.push({ kind: 'number', value: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_][\w]*/.exec(sql.slice(i));
    if (word) {
      tokens.push({ kind: 'word', text: word[0], upper: word[0].toUpperCase() });
      i += word[0].length;
      continue;
    }
    const op = /^(<>|!=|<=|>=|[=<>+\-*/%(),.])/.exec(sql.slice(i));
    if (op) {
      tokens.push({ kind: 'op', text: op[0] });
      i += op[0].length;
      continue;
    }
    throw new IotSqlError(`unexpected character "${c}" at ${i + 1}`);
  }
  return tokens;
}

const reserved = new Set(['SELECT', 'FROM', 'WHERE', 'AS', 'AND', 'OR', 'NOT']);

class Parser {
  #pos = 0;
  constructor(readonly tokens: Token[]) {}

  peek(): Token | undefined {
    return this.tokens[this.#pos];
  }
  next(): Token | undefined {
    return this.tokens[this.#pos++];
  }
  isWord(upper: string): boolean {
    const t = this.peek();
    return t?.kind === 'word' && t.upper === upper;
  }
  isOp(text: string): boolean {
    const t = this.peek();
    return t?.kind === 'op' && t.text === text;
  }
  expectWord(upper: string): void {
    if (!this.isWord(upper)) throw new IotSqlError(`expected ${upper}${this.found()}`);
    this.#pos++;
  }
  expectOp(text: string): void {
    if (!this.isOp(text)) throw new IotSqlError(`expected "${text}"${this.found()}`);
    this.#pos++;
  }
  found(): string {
    const t = this.peek();
    if (!t) return ' but the statement ended';
    const text = t.kind === 'number' ? String(t.value) : t.text;
    return ` but found "${text}"`;
  }

  statement(): IotSqlStatement {
    this.expectWord('SELECT');
    const select: SelectItem[] = [];
    do {
      select.push(this.selectItem());
    } while (this.isOp(',') && this.next());
    this.expectWord('FROM');
    const from = this.next();
    if (from?.kind !== 'string')
      throw new IotSqlError("FROM needs a quoted topic filter ('a/+/b')");
    checkTopicFilter(from.text);
    let where: Expr | undefined;
    if (this.isWord('WHERE')) {
      this.next();
      where = this.or();
    }
    if (this.peek()) throw new IotSqlError(`unexpected text after the statement${this.found()}`);
    return { select, topicFilter: from.text, ...(where ? { where } : {}) };
  }

  selectItem(): SelectItem {
    const expr = this.starOr();
    if (this.isWord('AS')) {
      this.next();
      const alias = this.next();
      if (alias?.kind !== 'word' && alias?.kind !== 'string') {
        throw new IotSqlError('AS needs a name');
      }
      return { expr, name: alias.text };
    }
    if (expr.type === 'star') return { expr };
    if (expr.type === 'field') return { expr, name: expr.path[expr.path.length - 1] as string };
    if (expr.type === 'call') return { expr, name: expr.name };
    throw new IotSqlError('an expression in SELECT needs a name: add AS <name>');
  }

  or(): Expr {
    let left = this.and();
    while (this.isWord('OR')) {
      this.next();
      left = { type: 'binary', op: 'OR', left, right: this.and() };
    }
    return left;
  }
  and(): Expr {
    let left = this.not();
    while (this.isWord('AND')) {
      this.next();
      left = { type: 'binary', op: 'AND', left, right: this.not() };
    }
    return left;
  }
  not(): Expr {
    if (this.isWord('NOT')) {
      this.next();
      return { type: 'unary', op: 'NOT', operand: this.not() };
    }
    return this.comparison();
  }
  comparison(): Expr {
    const left = this.additive();
    const t = this.peek();
    if (t?.kind === 'op' && ['=', '<>', '!=', '<', '<=', '>', '>='].includes(t.text)) {
      this.next();
      return { type: 'binary', op: t.text === '!=' ? '<>' : t.text, left, right: this.additive() };
    }
    return left;
  }
  additive(): Expr {
    let left = this.multiplicative();
    for (;;) {
      const t = this.peek();
      if (t?.kind !== 'op' || (t.text !== '+' && t.text !== '-')) return left;
      this.next();
      left = { type: 'binary', op: t.text, left, right: this.multiplicative() };
    }
  }
  multiplicative(): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t?.kind !== 'op' || !['*', '/', '%'].includes(t.text)) return left;
      this.next();
      left = { type: 'binary', op: t.text, left, right: this.unary() };
    }
  }
  unary(): Expr {
    if (this.isOp('-')) {
      this.next();
      return { type: 'unary', op: '-', operand: this.unary() };
    }
    return this.primary();
  }
  /** `*` where a function argument or a select item may be the whole payload. */
  starOr(): Expr {
    if (!this.isOp('*')) return this.or();
    this.next();
    return { type: 'star' };
  }
  primary(): Expr {
    const t = this.next();
    if (!t) throw new IotSqlError('expected an expression but the statement ended');
    if (t.kind === 'number') return { type: 'literal', value: t.value };
    if (t.kind === 'string') return { type: 'literal', value: t.text };
    if (t.kind === 'op') {
      if (t.text === '(') {
        const inner = this.or();
        this.expectOp(')');
        return inner;
      }
      throw new IotSqlError(`expected an expression but found "${t.text}"`);
    }
    if (t.upper === 'TRUE') return { type: 'literal', value: true };
    if (t.upper === 'FALSE') return { type: 'literal', value: false };
    if (t.upper === 'NULL') return { type: 'literal', value: null };
    if (reserved.has(t.upper))
      throw new IotSqlError(`expected an expression but found "${t.text}"`);
    if (this.isOp('(')) return this.call(t.text);
    const path = [t.text];
    while (this.isOp('.')) {
      this.next();
      const part = this.next();
      if (part?.kind !== 'word')
        throw new IotSqlError(`expected a field name after "${path.join('.')}."`);
      path.push(part.text);
    }
    return { type: 'field', path };
  }
  call(name: string): Expr {
    const spec = functions[name.toLowerCase()];
    if (!spec) throw new IotSqlError(`unknown function ${name}()`);
    this.expectOp('(');
    const args: Expr[] = [];
    if (!this.isOp(')')) {
      do {
        args.push(this.starOr());
      } while (this.isOp(',') && this.next());
    }
    this.expectOp(')');
    if (args.length < spec.min || args.length > spec.max) {
      const count = spec.min === spec.max ? `${spec.min}` : `${spec.min} to ${spec.max}`;
      throw new IotSqlError(`${name}() takes ${count} argument(s), got ${args.length}`);
    }
    const lower = name.toLowerCase();
    if (lower === 'encode') {
      const scheme = args[1];
      if (scheme?.type !== 'literal' || scheme.value !== 'base64') {
        throw new IotSqlError("encode() supports only 'base64'");
      }
    }
    if (
      lower === 'topic' &&
      args[0] &&
      (args[0].type !== 'literal' ||
        !Number.isInteger(args[0].value) ||
        (args[0].value as number) < 1)
    ) {
      throw new IotSqlError('topic(n) needs a whole number from 1');
    }
    return { type: 'call', name: lower, args };
  }
}

function checkTopicFilter(filter: string): void {
  if (filter === '') throw new IotSqlError('the topic filter is empty');
  const levels = filter.split('/');
  levels.forEach((level, i) => {
    if (level === '#' && i !== levels.length - 1)
      throw new IotSqlError('"#" must be the last level of the topic filter');
    if (level !== '#' && level !== '+' && /[#+]/.test(level)) {
      throw new IotSqlError(`"+" and "#" must fill a whole topic level ("${level}")`);
    }
  });
}

/** Parses and checks a statement; throws IotSqlError naming the problem. */
export function parseIotSql(sql: string): IotSqlStatement {
  if (typeof sql !== 'string' || sql.trim() === '') throw new IotSqlError('sql is empty');
  if (sql.length > 2048) throw new IotSqlError('sql is longer than 2048 characters');
  return new Parser(tokenize(sql)).statement();
}

/** Undefined in the IoT SQL sense: distinct from null, it fails every comparison. */
const UNDEFINED = Symbol('undefined');
type Value = unknown;

interface Context {
  message: IotMessage;
  /** The parsed JSON payload, or UNDEFINED when it is not JSON. */
  doc: Value;
}

function evaluate(expr: Expr, ctx: Context): Value {
  switch (expr.type) {
    case 'literal':
      return expr.value;
    case 'star':
      return ctx.doc;
    case 'field': {
      let value: Value = ctx.doc;
      for (const key of expr.path) {
        if (
          value === null ||
          typeof value !== 'object' ||
          Array.isArray(value) ||
          !Object.hasOwn(value, key)
        ) {
          return UNDEFINED;
        }
        value = (value as Record<string, unknown>)[key];
      }
      return value;
    }
    case 'call':
      return call(expr, ctx);
    case 'unary': {
      const v = evaluate(expr.operand, ctx);
      if (expr.op === 'NOT') return typeof v === 'boolean' ? !v : UNDEFINED;
      return typeof v === 'number' ? -v : UNDEFINED;
    }
    case 'binary':
      return binary(expr.op, expr.left, expr.right, ctx);
  }
}

function call(expr: Extract<Expr, { type: 'call' }>, ctx: Context): Value {
  const { message } = ctx;
  switch (expr.name) {
    case 'topic': {
      if (expr.args.length === 0) return message.topic;
      const n = (expr.args[0] as { value: number }).value;
      return message.topic.split('/')[n - 1] ?? UNDEFINED;
    }
    case 'clientid':
      return message.clientId ?? UNDEFINED;
    case 'timestamp':
      return message.timestamp;
    case 'encode': {
      const source = expr.args[0] as Expr;
      if (source.type === 'star') return message.payload.toString('base64');
      const v = evaluate(source, ctx);
      if (v === UNDEFINED) return UNDEFINED;
      return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');
    }
    case 'lower':
    case 'upper': {
      const v = evaluate(expr.args[0] as Expr, ctx);
      if (typeof v !== 'string') return UNDEFINED;
      return expr.name === 'lower' ? v.toLowerCase() : v.toUpperCase();
    }
    case 'concat': {
      const parts = expr.args.map((a) => evaluate(a, ctx));
      if (parts.some((p) => p === UNDEFINED)) return UNDEFINED;
      return parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
    }
    case 'abs': {
      const v = evaluate(expr.args[0] as Expr, ctx);
      return typeof v === 'number' ? Math.abs(v) : UNDEFINED;
    }
    default:
      return UNDEFINED;
  }
}

function binary(op: string, leftExpr: Expr, rightExpr: Expr, ctx: Context): Value {
  if (op === 'AND' || op === 'OR') {
    const l = evaluate(leftExpr, ctx);
    const r = evaluate(rightExpr, ctx);
    if (typeof l !== 'boolean' || typeof r !== 'boolean') {
      // Short-circuit truth still holds with an Undefined side, as SQL's three-valued logic.
      if (op === 'AND' && (l === false || r === false)) return false;
      if (op === 'OR' && (l === true || r === true)) return true;
      return UNDEFINED;
    }
    return op === 'AND' ? l && r : l || r;
  }
  const l = evaluate(leftExpr, ctx);
  const r = evaluate(rightExpr, ctx);
  if (l === UNDEFINED || r === UNDEFINED) return UNDEFINED;
  switch (op) {
    case '=':
      return deepEqual(l, r);
    case '<>':
      return !deepEqual(l, r);
    case '<':
    case '<=':
    case '>':
    case '>=': {
      if (
        !(
          (typeof l === 'number' && typeof r === 'number') ||
          (typeof l === 'string' && typeof r === 'string')
        )
      ) {
        return UNDEFINED;
      }
      const a = l as number | string;
      const b = r as number | string;
      return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
    }
    case '+':
      if (typeof l === 'string' && typeof r === 'string') return l + r;
      return typeof l === 'number' && typeof r === 'number' ? l + r : UNDEFINED;
    default: {
      if (typeof l !== 'number' || typeof r !== 'number') return UNDEFINED;
      if (op === '-') return l - r;
      if (op === '*') return l * r;
      if (r === 0) return UNDEFINED;
      return op === '/' ? l / r : l % r;
    }
  }
}

function deepEqual(a: Value, b: Value): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function parsePayload(payload: Buffer): Value {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return UNDEFINED;
  }
}

/**
 * The document a matching message selects, or undefined when the topic is outside the filter
 * or WHERE is not true. Keys whose value is Undefined are left out, as AWS IoT does.
 */
export function evaluateIotSql(
  statement: IotSqlStatement,
  message: IotMessage,
): Record<string, unknown> | undefined {
  if (!topicMatches(statement.topicFilter, message.topic)) return undefined;
  const ctx: Context = { message, doc: parsePayload(message.payload) };
  if (statement.where && evaluate(statement.where, ctx) !== true) return undefined;
  const out: Record<string, unknown> = {};
  for (const item of statement.select) {
    const value = evaluate(item.expr, ctx);
    if (item.name === undefined) {
      // `SELECT *`: the JSON object's keys; a non-object payload has none to give.
      if (value !== null && typeof value === 'object' && !Array.isArray(value))
        Object.assign(out, value);
      continue;
    }
    if (value !== UNDEFINED) out[item.name] = value;
  }
  return out;
}
