/**
 * DynamoDB's expression language, parsed: condition (and filter, key condition) expressions,
 * update expressions and projection expressions. Names (`#n`) and values (`:v`) are resolved
 * against the request's ExpressionAttributeNames/Values as they are met, and the ones never used
 * are reported as DynamoDB does, once every expression of the request is parsed.
 */

import { type AttributeValue, checkValue, type Item } from './attribute-value.js';
import { invalidParameter, validation } from './dynamodb-errors.js';
import { isReservedWord } from './reserved-words.js';

export type PathElement = string | number;
export interface Path {
  kind: 'path';
  elements: PathElement[];
}
export type Operand =
  | Path
  | { kind: 'value'; value: AttributeValue }
  | { kind: 'size'; path: Path }
  | { kind: 'if_not_exists'; path: Path; fallback: Operand }
  | { kind: 'list_append'; a: Operand; b: Operand }
  | { kind: 'arith'; op: '+' | '-'; a: Operand; b: Operand };

export type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';
export type Condition =
  | { kind: 'cmp'; op: Comparator; a: Operand; b: Operand }
  | { kind: 'between'; a: Operand; low: Operand; high: Operand }
  | { kind: 'in'; a: Operand; list: Operand[] }
  | { kind: 'and' | 'or'; a: Condition; b: Condition }
  | { kind: 'not'; a: Condition }
  | { kind: 'fn'; name: ConditionFunction; args: Operand[] };
export type ConditionFunction =
  | 'attribute_exists'
  | 'attribute_not_exists'
  | 'attribute_type'
  | 'begins_with'
  | 'contains';

export type UpdateAction =
  | { kind: 'SET'; path: Path; value: Operand }
  | { kind: 'REMOVE'; path: Path }
  | { kind: 'ADD' | 'DELETE'; path: Path; value: Operand };

/** The names and values a request supplies, and which of them its expressions used. */
export class ExpressionScope {
  readonly #names: Record<string, string>;
  readonly #values: Item;
  readonly #usedNames = new Set<string>();
  readonly #usedValues = new Set<string>();

  constructor(names: unknown, values: unknown) {
    this.#names = checkNames(names);
    this.#values = checkValues(values);
  }

  name(token: string): string {
    const name = this.#names[token];
    if (name === undefined) {
      throw invalidParameter(
        `An expression attribute name used in the document path is not defined; attribute name: ${token}`,
      );
    }
    this.#usedNames.add(token);
    return name;
  }

  value(token: string): AttributeValue {
    const value = this.#values[token];
    if (value === undefined) {
      throw invalidParameter(
        `An expression attribute value used in expression is not defined; attribute value: ${token}`,
      );
    }
    this.#usedValues.add(token);
    return value;
  }

  /** After every expression of the request: DynamoDB refuses names and values left unused. */
  checkAllUsed(): void {
    const names = Object.keys(this.#names).filter((n) => !this.#usedNames.has(n));
    if (names.length > 0) {
      throw validation(
        `Value provided in ExpressionAttributeNames unused in expressions: keys: {${names.join(', ')}}`,
      );
    }
    const values = Object.keys(this.#values).filter((v) => !this.#usedValues.has(v));
    if (values.length > 0) {
      throw validation(
        `Value provided in ExpressionAttributeValues unused in expressions: keys: {${values.join(', ')}}`,
      );
    }
  }
}

function checkNames(raw: unknown): Record<string, string> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null)
    throw validation('ExpressionAttributeNames must be a map');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!k.startsWith('#'))
      throw validation(`ExpressionAttributeNames contains invalid key: Syntax error; key: "${k}"`);
    if (typeof v !== 'string' || v === '')
      throw validation('ExpressionAttributeNames contains invalid value');
    out[k] = v;
  }
  if (Object.keys(out).length === 0) throw validation('ExpressionAttributeNames must not be empty');
  return out;
}

function checkValues(raw: unknown): Item {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null)
    throw validation('ExpressionAttributeValues must be a map');
  const out: Item = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!k.startsWith(':'))
      throw validation(`ExpressionAttributeValues contains invalid key: Syntax error; key: "${k}"`);
    out[k] = checkValue(v);
  }
  if (Object.keys(out).length === 0)
    throw validation('ExpressionAttributeValues must not be empty');
  return out;
}

type TokenKind = 'name' | 'hashname' | 'value' | 'number' | 'punct' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  at: number;
}

const punctuation = ['<>', '<=', '>=', '=', '<', '>', '(', ')', ',', '.', '[', ']', '+', '-'];

function tokenize(text: string, what: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '#' || c === ':') {
      i++;
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i]!)) i++;
      if (i === start + 1) throw syntaxError(what, text, c, start);
      tokens.push({
        kind: c === '#' ? 'hashname' : 'value',
        text: text.slice(start, i),
        at: start,
      });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i]!)) i++;
      tokens.push({ kind: 'name', text: text.slice(start, i), at: start });
      continue;
    }
    if (/[0-9]/.test(c)) {
      while (i < text.length && /[0-9]/.test(text[i]!)) i++;
      tokens.push({ kind: 'number', text: text.slice(start, i), at: start });
      continue;
    }
    const p = punctuation.find((q) => text.startsWith(q, i));
    if (!p) throw syntaxError(what, text, c, start);
    tokens.push({ kind: 'punct', text: p, at: start });
    i += p.length;
  }
  tokens.push({ kind: 'end', text: '<EOF>', at: text.length });
  return tokens;
}

/** Token lists kept by expression text; past this many, the least recently used one goes. */
const maxCachedTokenLists = 1000;
const tokenLists = new Map<string, readonly Token[]>();

/**
 * An application sends the same few expression texts on every call, with new values: their
 * tokens (a character-by-character scan) are kept by text, so a repeated expression is only
 * parsed, never scanned again. Names and values are bound by the parse, per request, as before.
 */
function cachedTokens(text: string, what: string): readonly Token[] {
  const cached = tokenLists.get(text);
  if (cached !== undefined) {
    tokenLists.delete(text);
    tokenLists.set(text, cached);
    return cached;
  }
  const tokens = Object.freeze(tokenize(text, what).map((t) => Object.freeze(t)));
  tokenLists.set(text, tokens);
  if (tokenLists.size > maxCachedTokenLists) tokenLists.delete(tokenLists.keys().next().value!);
  return tokens;
}

function syntaxError(what: string, _text: string, token: string, at: number) {
  return invalidParameter(`Invalid ${what}: Syntax error; token: "${token}", near: char ${at}`);
}

const functionNames = new Set([
  'attribute_exists',
  'attribute_not_exists',
  'attribute_type',
  'begins_with',
  'contains',
  'size',
  'if_not_exists',
  'list_append',
]);

class Parser {
  #tokens: readonly Token[];
  #at = 0;
  constructor(
    readonly text: string,
    readonly what: string,
    readonly scope: ExpressionScope,
  ) {
    if (text.trim() === '')
      throw invalidParameter(`Invalid ${what}: The expression can not be empty;`);
    this.#tokens = cachedTokens(text, what);
  }
  peek(offset = 0): Token {
    return this.#tokens[Math.min(this.#at + offset, this.#tokens.length - 1)]!;
  }
  next(): Token {
    const t = this.peek();
    if (this.#at < this.#tokens.length - 1) this.#at++;
    return t;
  }
  isWord(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'name' && t.text.toUpperCase() === word;
  }
  isPunct(p: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === p;
  }
  expect(p: string): void {
    if (!this.isPunct(p)) this.fail();
  }
  eat(p: string): void {
    this.expect(p);
    this.next();
  }
  fail(): never {
    const t = this.peek();
    throw syntaxError(this.what, this.text, t.text, t.at);
  }
  end(): void {
    if (this.peek().kind !== 'end') this.fail();
  }

  condition(): Condition {
    let left = this.conjunction();
    while (this.isWord('OR')) {
      this.next();
      left = { kind: 'or', a: left, b: this.conjunction() };
    }
    return left;
  }
  conjunction(): Condition {
    let left = this.negation();
    while (this.isWord('AND')) {
      this.next();
      left = { kind: 'and', a: left, b: this.negation() };
    }
    return left;
  }
  negation(): Condition {
    if (this.isWord('NOT')) {
      this.next();
      return { kind: 'not', a: this.negation() };
    }
    return this.primary();
  }
  primary(): Condition {
    if (this.isPunct('(')) {
      this.next();
      const inner = this.condition();
      this.eat(')');
      return inner;
    }
    const t = this.peek();
    if (t.kind === 'name' && this.peek(1).text === '(' && t.text !== 'size') {
      const name = t.text;
      if (
        ![
          'attribute_exists',
          'attribute_not_exists',
          'attribute_type',
          'begins_with',
          'contains',
        ].includes(name)
      ) {
        throw invalidParameter(`Invalid ${this.what}: Invalid function name; function: ${name}`);
      }
      this.next();
      this.eat('(');
      const args = [this.operand()];
      while (this.isPunct(',')) {
        this.next();
        args.push(this.operand());
      }
      this.eat(')');
      const arity = name === 'attribute_exists' || name === 'attribute_not_exists' ? 1 : 2;
      if (args.length !== arity) {
        throw invalidParameter(
          `Invalid ${this.what}: Incorrect number of operands for operator or function; operator or function: ${name}, number of operands: ${args.length}`,
        );
      }
      if (args[0]!.kind !== 'path') {
        throw invalidParameter(
          `Invalid ${this.what}: Operator or function requires a document path; operator or function: ${name}`,
        );
      }
      return { kind: 'fn', name: name as ConditionFunction, args };
    }
    const a = this.operand();
    if (this.isWord('BETWEEN')) {
      this.next();
      const low = this.operand();
      if (!this.isWord('AND')) this.fail();
      this.next();
      return { kind: 'between', a, low, high: this.operand() };
    }
    if (this.isWord('IN')) {
      this.next();
      this.eat('(');
      const list = [this.operand()];
      while (this.isPunct(',')) {
        this.next();
        list.push(this.operand());
      }
      this.eat(')');
      return { kind: 'in', a, list };
    }
    const op = this.peek();
    if (op.kind === 'punct' && ['=', '<>', '<', '<=', '>', '>='].includes(op.text)) {
      this.next();
      return { kind: 'cmp', op: op.text as Comparator, a, b: this.operand() };
    }
    return this.fail();
  }

  /** An operand of a condition: a path, a value, or size(path). */
  operand(): Operand {
    const t = this.peek();
    if (t.kind === 'value') {
      this.next();
      return { kind: 'value', value: this.scope.value(t.text) };
    }
    if (t.kind === 'name' && t.text === 'size' && this.peek(1).text === '(') {
      this.next();
      this.eat('(');
      const path = this.path();
      this.eat(')');
      return { kind: 'size', path };
    }
    if (t.kind === 'name' && functionNames.has(t.text) && this.peek(1).text === '(') {
      throw invalidParameter(
        `Invalid ${this.what}: The function is not allowed to be used this way in an expression; function: ${t.text}`,
      );
    }
    return this.path();
  }

  path(): Path {
    const elements: PathElement[] = [this.pathName()];
    for (;;) {
      if (this.isPunct('.')) {
        this.next();
        elements.push(this.pathName());
      } else if (this.isPunct('[')) {
        this.next();
        const n = this.next();
        if (n.kind !== 'number') throw syntaxError(this.what, this.text, n.text, n.at);
        elements.push(Number(n.text));
        this.eat(']');
      } else return { kind: 'path', elements };
    }
  }
  pathName(): string {
    const t = this.next();
    if (t.kind === 'hashname') return this.scope.name(t.text);
    if (t.kind === 'name') {
      if (isReservedWord(t.text)) {
        // AWS words this one without the "parameter values were invalid" prefix.
        throw validation(
          `Invalid ${this.what}: Attribute name is a reserved keyword; reserved keyword: ${t.text}`,
        );
      }
      return t.text;
    }
    throw syntaxError(this.what, this.text, t.text, t.at);
  }

  /** The right side of SET: operand [+|- operand], with if_not_exists and list_append. */
  setValue(): Operand {
    const a = this.setTerm();
    if (this.isPunct('+') || this.isPunct('-')) {
      const op = this.next();
      const b = this.setTerm();
      // One operator per value, parentheses or not: `(a + b) - c` is a syntax error.
      if (a.kind === 'arith' || b.kind === 'arith') {
        throw syntaxError(this.what, this.text, op.text, op.at);
      }
      return { kind: 'arith', op: op.text as '+' | '-', a, b };
    }
    return a;
  }
  /**
   * An operand, or a value in parentheses: DynamoDB accepts `SET #n = (if_not_exists(#n, :z) -
   * :one)` and `(:v)`, and ElectroDB writes its arithmetic that way.
   */
  setTerm(): Operand {
    if (!this.isPunct('(')) return this.setOperand();
    this.next();
    const inner = this.setValue();
    this.eat(')');
    return inner;
  }
  setOperand(): Operand {
    const t = this.peek();
    if (t.kind === 'name' && this.peek(1).text === '(') {
      if (t.text === 'if_not_exists') {
        this.next();
        this.eat('(');
        const path = this.path();
        this.eat(',');
        const fallback = this.setValue();
        this.eat(')');
        return { kind: 'if_not_exists', path, fallback };
      }
      if (t.text === 'list_append') {
        this.next();
        this.eat('(');
        const a = this.setValue();
        this.eat(',');
        const b = this.setValue();
        this.eat(')');
        return { kind: 'list_append', a, b };
      }
      throw invalidParameter(`Invalid ${this.what}: Invalid function name; function: ${t.text}`);
    }
    if (t.kind === 'value') {
      this.next();
      return { kind: 'value', value: this.scope.value(t.text) };
    }
    return this.path();
  }

  update(): UpdateAction[] {
    const actions: UpdateAction[] = [];
    const seen = new Set<string>();
    while (this.peek().kind !== 'end') {
      const clause = this.next();
      const word = clause.kind === 'name' ? clause.text.toUpperCase() : '';
      if (!['SET', 'REMOVE', 'ADD', 'DELETE'].includes(word)) {
        throw syntaxError(this.what, this.text, clause.text, clause.at);
      }
      if (seen.has(word)) {
        throw invalidParameter(
          `Invalid ${this.what}: The "${word}" section can only be used once in an update expression;`,
        );
      }
      seen.add(word);
      do {
        if (actions.length > 0 && this.isPunct(',')) this.next();
        const path = this.path();
        if (word === 'SET') {
          this.eat('=');
          actions.push({ kind: 'SET', path, value: this.setValue() });
        } else if (word === 'REMOVE') {
          actions.push({ kind: 'REMOVE', path });
        } else {
          const v = this.next();
          if (v.kind !== 'value') throw syntaxError(this.what, this.text, v.text, v.at);
          actions.push({
            kind: word as 'ADD' | 'DELETE',
            path,
            value: { kind: 'value', value: this.scope.value(v.text) },
          });
        }
      } while (this.isPunct(','));
    }
    return actions;
  }

  projection(): Path[] {
    const paths = [this.path()];
    while (this.isPunct(',')) {
      this.next();
      paths.push(this.path());
    }
    return paths;
  }
}

export function parseCondition(text: unknown, what: string, scope: ExpressionScope): Condition {
  const p = new Parser(checkText(text, what), what, scope);
  const c = p.condition();
  p.end();
  return c;
}

export function parseUpdate(text: unknown, scope: ExpressionScope): UpdateAction[] {
  const what = 'UpdateExpression';
  const p = new Parser(checkText(text, what), what, scope);
  const actions = p.update();
  checkOverlaps(actions.map((a) => a.path));
  return actions;
}

export function parseProjection(text: unknown, scope: ExpressionScope): Path[] {
  const what = 'ProjectionExpression';
  const p = new Parser(checkText(text, what), what, scope);
  const paths = p.projection();
  p.end();
  checkOverlaps(paths);
  return paths;
}

function checkText(text: unknown, what: string): string {
  if (typeof text !== 'string') throw validation(`${what} must be a string`);
  if (Buffer.byteLength(text) > 4096) throw validation(`${what} exceeds the 4 KB limit`);
  return text;
}

function checkOverlaps(paths: Path[]) {
  for (let i = 0; i < paths.length; i++) {
    for (let j = i + 1; j < paths.length; j++) {
      const a = paths[i]!.elements;
      const b = paths[j]!.elements;
      const n = Math.min(a.length, b.length);
      if (a.slice(0, n).every((e, k) => e === b[k])) {
        throw invalidParameter(
          `Invalid ${'UpdateExpression'}: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [${a.join(', ')}], path two: [${b.join(', ')}]`,
        );
      }
    }
  }
}
