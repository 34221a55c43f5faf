import {
  type LiteralSource,
  type ParamNode,
  type SourceNode,
  type Template,
  type VariableNode,
  VariableSyntaxError,
} from './template.js';

const TYPE = /^[a-z][a-zA-Z0-9]*$/;
const WORD = /[a-zA-Z0-9._+-]/;

/**
 * Parses the variables out of a string value, following Serverless v3's grammar:
 * `${type:address}`, `${type(p1, p2):address}`, comma fallbacks ending in a literal, and
 * nesting inside params and addresses. Anything that does not start like a variable
 * (`${AWS::Region}`, `${Foo}`) is left as text. Returns null when there is no variable.
 */
export function parseTemplate(text: string): Template | null {
  if (!text.includes('${')) return null;
  const parts: (string | VariableNode)[] = [];
  let buf = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] === '\\' && text.startsWith('${', i + 1)) {
      buf += '${';
      i += 3;
      continue;
    }
    if (text.startsWith('${', i)) {
      const found = new VariableParser(text, i).parse();
      if (found) {
        if (buf) parts.push(buf);
        buf = '';
        parts.push(found.node);
        i = found.end;
        continue;
      }
    }
    buf += text[i];
    i += 1;
  }
  if (!parts.length) return null;
  if (buf) parts.push(buf);
  return { parts };
}

/** Parses `true`, `false`, `null` and numbers; any other word stays a string. */
function parseLiteral(word: string): LiteralSource['value'] {
  if (word === 'true') return true;
  if (word === 'false') return false;
  if (word === 'null') return null;
  if (word !== '' && !Number.isNaN(Number(word))) return Number(word);
  return word;
}

class VariableParser {
  #text: string;
  #start: number;
  #i: number;

  constructor(text: string, start: number) {
    this.#text = text;
    this.#start = start;
    this.#i = start + 2;
  }

  parse(): { node: VariableNode; end: number } | null {
    const first = this.#typedSource(true);
    if (!first) return null;
    const sources: SourceNode[] = [first];
    for (;;) {
      this.#skipSpaces();
      const c = this.#peek();
      if (c === '}') break;
      if (c !== ',') this.#fail(c === undefined ? 'missing closing "}"' : `unexpected "${c}"`);
      this.#i += 1;
      sources.push(this.#fallbackSource());
    }
    this.#i += 1;
    const raw = this.#text.slice(this.#start, this.#i);
    return { node: { raw, sources }, end: this.#i };
  }

  /** `type:address` or `type(params):address`; null on the first source means "not a variable". */
  #typedSource(first: boolean): SourceNode | null {
    const typeStart = this.#i;
    while (this.#peek() !== undefined && /[a-zA-Z0-9]/.test(this.#peek()!)) this.#i += 1;
    const type = this.#text.slice(typeStart, this.#i);
    const next = this.#peek();
    if (!TYPE.test(type) || (next !== ':' && next !== '(')) {
      if (first) return null;
      this.#fail(`invalid variable source "${type}"`);
    }
    const params = next === '(' ? this.#params() : [];
    if (this.#peek() !== ':') return { kind: 'source', type, params };
    this.#i += 1;
    if (first && params.length === 0 && this.#peek() === ':') return null;
    const address = this.#address();
    return address ? { kind: 'source', type, params, address } : { kind: 'source', type, params };
  }

  #fallbackSource(): SourceNode {
    this.#skipSpaces();
    const c = this.#peek();
    if (c === '"' || c === "'") return { kind: 'literal', value: this.#quoted() };
    const wordStart = this.#i;
    while (this.#peek() !== undefined && WORD.test(this.#peek()!)) this.#i += 1;
    const word = this.#text.slice(wordStart, this.#i);
    const next = this.#peek();
    if (next === ':' || next === '(') {
      this.#i = wordStart;
      return this.#typedSource(false)!;
    }
    if (!word) this.#fail(next === undefined ? 'missing closing "}"' : `unexpected "${next}"`);
    const value = parseLiteral(word);
    if (typeof value === 'string') {
      this.#fail(`"${word}" is neither a variable source nor a literal (quote text: '${word}')`);
    }
    return { kind: 'literal', value };
  }

  #params(): ParamNode[] {
    this.#i += 1;
    const params: ParamNode[] = [];
    for (;;) {
      this.#skipSpaces();
      const c = this.#peek();
      if (c === ')') break;
      if (c === '"' || c === "'") params.push({ value: this.#quoted() });
      else params.push(this.#rawNode(',)', true));
      this.#skipSpaces();
      if (this.#peek() === ',') this.#i += 1;
      else if (this.#peek() !== ')') this.#fail('missing ")"');
    }
    this.#i += 1;
    return params;
  }

  #address(): ParamNode | undefined {
    this.#skipSpaces();
    const c = this.#peek();
    if (c === '"' || c === "'") return { value: this.#quoted() };
    const node = this.#rawNode(',}', false);
    return 'value' in node && node.value === '' ? undefined : node;
  }

  /** Text up to a terminator outside any nested `${...}`; nested variables make a template. */
  #rawNode(terminators: string, literal: boolean): ParamNode {
    const from = this.#i;
    let depth = 0;
    for (;;) {
      const c = this.#peek();
      if (c === undefined) this.#fail('missing closing "}"');
      if (depth === 0 && terminators.includes(c)) break;
      if (this.#text.startsWith('${', this.#i)) {
        depth += 1;
        this.#i += 2;
        continue;
      }
      if (c === '}') depth -= 1;
      this.#i += 1;
    }
    const raw = this.#text.slice(from, this.#i).trim();
    const template = parseTemplate(raw);
    if (template) return { template };
    return { value: literal ? parseLiteral(raw) : raw };
  }

  #quoted(): string {
    const quote = this.#peek()!;
    const from = this.#i;
    this.#i += 1;
    while (this.#peek() !== quote) {
      if (this.#peek() === undefined) this.#fail('unterminated string literal');
      if (quote === '"' && this.#peek() === '\\') this.#i += 1;
      this.#i += 1;
    }
    this.#i += 1;
    const body = this.#text.slice(from, this.#i);
    if (quote === "'") return body.slice(1, -1);
    try {
      return JSON.parse(body) as string;
    } catch {
      return this.#fail(`invalid string literal ${body}`);
    }
  }

  #skipSpaces(): void {
    while (this.#peek() === ' ') this.#i += 1;
  }

  #peek(): string | undefined {
    return this.#text[this.#i];
  }

  #fail(reason: string): never {
    throw new VariableSyntaxError(`invalid variable syntax in "${this.#text}": ${reason}`);
  }
}
