import { type Document, isAlias, isMap, isSeq, type LineCounter, type Node, type Pair } from 'yaml';
import { ConfigError, type ConfigErrorCode, formatConfigMessage } from './config-error.js';
import { formatPath, type PropertyPath } from './property-path.js';
import { keyToString } from './yaml-to-js.js';

export interface Position {
  line: number;
  column: number;
}

/** Unknown for configs that are not YAML/JSON text (serverless.js, .ts): no line to point to. */
export type MaybePosition = Position | { line?: undefined; column?: undefined };

interface Found {
  node: Node;
  pair?: Pair;
}

/**
 * Maps property paths back to line:column in the original document. A path that does not
 * exist there (a default, or a value produced by a variable) falls back to its nearest
 * existing ancestor, so every message can still point somewhere useful.
 */
export class SourceLocator {
  readonly file: string;
  readonly #doc: Document | undefined;
  readonly #lines: LineCounter | undefined;

  constructor(file: string, doc?: Document, lines?: LineCounter) {
    this.file = file;
    this.#doc = doc;
    this.#lines = lines;
  }

  /** For a config built by code: messages name the file and the property path only. */
  static withoutPositions(file: string): SourceLocator {
    return new SourceLocator(file);
  }

  /** Position of the value at `path` (or of its nearest existing ancestor). */
  position(path: PropertyPath): MaybePosition {
    if (!this.#doc) return {};
    const found = this.#find(path);
    return this.#pos(found?.node);
  }

  /** Position of the key that names `path`, for messages about the key itself. */
  keyPosition(path: PropertyPath): MaybePosition {
    if (!this.#doc) return {};
    const found = this.#find(path);
    const key = found?.pair?.key as Node | undefined;
    return this.#pos(key?.range ? key : found?.node);
  }

  offsetPosition(offset: number): Position {
    const { line, col } = this.#lines!.linePos(offset);
    return { line, column: col };
  }

  error(code: ConfigErrorCode, path: PropertyPath, detail: string, atKey = false): ConfigError {
    const { line, column } = atKey ? this.keyPosition(path) : this.position(path);
    return new ConfigError({ code, file: this.file, line, column, path: formatPath(path), detail });
  }

  /** `file:line:col path: detail`; `shownPath` overrides the path printed (empty for none). */
  warning(
    path: PropertyPath,
    detail: string,
    opts: { atKey?: boolean; shownPath?: PropertyPath } = {},
  ) {
    const { line, column } = opts.atKey ? this.keyPosition(path) : this.position(path);
    const shown = formatPath(opts.shownPath ?? path);
    return formatConfigMessage({ file: this.file, line, column, path: shown, detail });
  }

  #pos(node: Node | undefined): Position {
    const offset = node?.range?.[0] ?? 0;
    return this.offsetPosition(offset);
  }

  #find(path: PropertyPath): Found | undefined {
    const root = this.#doc?.contents as Node | null | undefined;
    if (!root) return undefined;
    let found: Found = { node: root };
    for (const key of path) {
      const next = this.#child(found.node, key);
      if (!next) break;
      found = next;
    }
    return found;
  }

  #child(parent: Node, key: string | number): Found | undefined {
    const node = this.#deref(parent);
    if (isSeq(node)) {
      const item = node.items[Number(key)] as Node | undefined;
      return item ? { node: item } : undefined;
    }
    if (!isMap(node)) return undefined;
    const merges: Node[] = [];
    for (const pair of node.items) {
      const name = keyToString(pair.key, this.#doc!);
      if (name === '<<') merges.push(pair.value as Node);
      else if (name === String(key) && pair.value) return { node: pair.value as Node, pair };
    }
    for (const merge of merges) {
      const source = this.#deref(merge);
      const sources = isSeq(source) ? (source.items as Node[]) : [source];
      for (const s of sources) {
        const hit = this.#child(s, key);
        if (hit) return hit;
      }
    }
    return undefined;
  }

  #deref(node: Node): Node {
    return isAlias(node) ? ((node.resolve(this.#doc!) as Node | undefined) ?? node) : node;
  }
}
