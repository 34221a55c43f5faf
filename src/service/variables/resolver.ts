import type { ConfigError } from '../config-error.js';
import { getAt, isPlainObject, type PropertyPath, setAt } from '../property-path.js';
import type { SourceLocator } from '../source-locator.js';
import { parseTemplate } from './parse-template.js';
import { VariableSourceError } from './source-error.js';
import {
  isWholeValue,
  type ParamNode,
  type Template,
  type VariableNode,
  VariableSyntaxError,
} from './template.js';

/** What a source gets: its resolved params and address, and a way to read the config. */
export interface SourceCall {
  params: unknown[];
  address: string | undefined;
  /** Reads a config property, resolving whatever it depends on first. */
  self: (keys: string[]) => Promise<unknown>;
}

/** Returns the value, or null/undefined for "not found" (which falls through to fallbacks). */
export type VariableSource = (call: SourceCall) => unknown;

/** A whole-value result that itself holds variables may nest this deep (as in Serverless). */
const MAX_NEST_DEPTH = 10;

/**
 * Resolves every variable in a config object in place. Properties are resolved on demand,
 * so a `${self:...}` target that holds variables is resolved before it is read; a stack of
 * properties in progress turns self-reference loops into an error instead of a hang.
 */
export class VariableResolver {
  readonly #config: Record<string, unknown>;
  readonly #sources: Record<string, VariableSource>;
  readonly #locator: SourceLocator;
  readonly #done = new Set<string>();
  readonly #stack: string[] = [];
  readonly #depth = new Map<string, number>();

  constructor(
    config: Record<string, unknown>,
    sources: Record<string, VariableSource>,
    locator: SourceLocator,
  ) {
    this.#config = config;
    this.#sources = sources;
    this.#locator = locator;
  }

  async resolveAll(): Promise<Record<string, unknown>> {
    await this.resolveProperty([]);
    return this.#config;
  }

  async resolveProperty(path: PropertyPath): Promise<void> {
    const key = pathKey(path);
    if (this.#done.has(key)) return;
    const loopStart = this.#stack.indexOf(key);
    if (loopStart >= 0) throw new CycleError([...this.#stack.slice(loopStart), key]);
    this.#stack.push(key);
    try {
      const value = getAt(this.#config, path);
      const depth = this.#depth.get(key) ?? 0;
      if (typeof value === 'string') {
        const resolved = await this.#resolveString(path, value, depth);
        if (resolved !== value) setAt(this.#config, path, resolved);
        if (typeof resolved === 'object' && resolved !== null) {
          await this.#resolveChildren(path, resolved, depth + 1);
        }
      } else if (typeof value === 'object' && value !== null) {
        await this.#resolveChildren(path, value, depth);
      }
    } finally {
      this.#stack.pop();
    }
    this.#done.add(key);
  }

  async #resolveChildren(path: PropertyPath, value: object, depth: number): Promise<void> {
    const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
    for (const k of keys) {
      const child = [...path, k];
      if (depth > 0) this.#depth.set(pathKey(child), depth);
      await this.resolveProperty(child);
    }
  }

  /** Resolves a string; a whole-value string result is parsed again, as Serverless does. */
  async #resolveString(path: PropertyPath, text: string, depth: number): Promise<unknown> {
    let current = text;
    for (let d = depth; ; d++) {
      const template = this.#parse(path, current);
      if (!template) return current;
      if (d >= MAX_NEST_DEPTH) {
        throw this.#error(path, `Cannot resolve "${text}": variables nest deeper than 10 levels`);
      }
      const whole = isWholeValue(template);
      const value = await this.#evaluate(path, template);
      if (!whole || typeof value !== 'string') {
        return typeof value === 'object' && value !== null ? structuredClone(value) : value;
      }
      current = value;
    }
  }

  #parse(path: PropertyPath, text: string): Template | null {
    try {
      const template = parseTemplate(text);
      // A string with only escaped `\${` still needs its escapes cleared.
      if (!template && text.includes('\\${')) return { parts: [text.replaceAll('\\${', '${')] };
      return template;
    } catch (error) {
      if (error instanceof VariableSyntaxError) throw this.#error(path, error.message);
      throw error;
    }
  }

  async #evaluate(path: PropertyPath, template: Template): Promise<unknown> {
    if (isWholeValue(template)) return this.#resolveVariable(path, template.parts[0]);
    let out = '';
    for (const part of template.parts) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      const value = await this.#resolveVariable(path, part);
      if (!['string', 'number', 'boolean'].includes(typeof value)) {
        const got = value === null ? 'null' : Array.isArray(value) ? 'a list' : 'an object';
        throw this.#error(
          path,
          `Cannot resolve variable "${part.raw}": it is part of a longer string, so it must ` +
            `resolve to a string, number or boolean, not ${got}`,
        );
      }
      out += String(value);
    }
    return out;
  }

  async #resolveVariable(path: PropertyPath, variable: VariableNode): Promise<unknown> {
    let lastType = '';
    for (const source of variable.sources) {
      if (source.kind === 'literal') return source.value;
      lastType = source.type;
      const value = await this.#callSource(
        path,
        variable,
        source.type,
        source.params,
        source.address,
      );
      if (value !== null && value !== undefined) return value;
    }
    throw this.#error(
      path,
      `Cannot resolve variable "${variable.raw}": value not found at "${lastType}" source`,
    );
  }

  async #callSource(
    path: PropertyPath,
    variable: VariableNode,
    type: string,
    paramNodes: ParamNode[],
    addressNode: ParamNode | undefined,
  ): Promise<unknown> {
    const params: unknown[] = [];
    for (const p of paramNodes) params.push(await this.#param(path, p));
    const address = addressNode ? await this.#param(path, addressNode) : undefined;
    const source = this.#sources[type];
    try {
      if (!source) throw new VariableSourceError(`unknown variable source "${type}"`);
      if (address !== undefined && !['string', 'number'].includes(typeof address)) {
        throw new VariableSourceError('the address must resolve to a string');
      }
      const self = (keys: string[]) => this.#readSelf(keys);
      const addr = address === undefined ? undefined : String(address);
      return await source({ params, address: addr, self });
    } catch (error) {
      if (error instanceof CycleError) {
        throw this.#error(path, `Cannot resolve variable "${variable.raw}": ${error.message}`);
      }
      if (!(error instanceof VariableSourceError)) throw error;
      throw this.#error(path, `Cannot resolve variable "${variable.raw}": ${error.message}`);
    }
  }

  async #param(path: PropertyPath, node: ParamNode): Promise<unknown> {
    return 'value' in node ? node.value : this.#evaluate(path, node.template);
  }

  /** Walks to a property, resolving any variable-holding step on the way and the target. */
  async #readSelf(keys: string[]): Promise<unknown> {
    let cur: unknown = this.#config;
    for (let i = 0; i < keys.length; i++) {
      if (!isPlainObject(cur) && !Array.isArray(cur)) return undefined;
      const step = keys.slice(0, i + 1);
      if (typeof (cur as Record<string, unknown>)[keys[i]!] === 'string') {
        await this.resolveProperty(step);
      }
      cur = getAt(this.#config, step);
    }
    if (typeof cur === 'object' && cur !== null) {
      await this.resolveProperty(keys);
      cur = getAt(this.#config, keys);
    }
    return typeof cur === 'object' && cur !== null ? structuredClone(cur) : cur;
  }

  #error(path: PropertyPath, detail: string): ConfigError {
    return this.#locator.error('NIMBUS_CONFIG_VARIABLE', path, detail);
  }
}

/** Raised inside a self lookup; the variable that triggered it turns it into a ConfigError. */
class CycleError extends Error {
  constructor(keys: string[]) {
    const shown = keys.map((k) => k.split('\0').join('.') || '(whole config)');
    super(`circular reference: ${shown.join(' -> ')}`);
  }
}

function pathKey(path: PropertyPath): string {
  return path.join('\0');
}
