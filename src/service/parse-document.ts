import { type Document, isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { isCfnTag } from './cfn-tags.js';
import { ConfigError } from './config-error.js';
import type { PropertyPath } from './property-path.js';
import { SourceLocator } from './source-locator.js';
import { documentToJs, keyToString } from './yaml-to-js.js';

export interface ParsedConfig {
  data: Record<string, unknown>;
  locator: SourceLocator;
  /** Parser warnings worth showing (unknown tags and the like), already formatted. */
  warnings: string[];
}

/**
 * Parses a serverless.yml/.yaml/.json text (JSON is valid YAML, so one parser keeps
 * positions for both). `file` is the name used in messages.
 */
export function parseConfigText(text: string, file: string): ParsedConfig {
  const lines = new LineCounter();
  // uniqueKeys is off so that duplicates get our own, more specific message below.
  const doc = parseDocument(text, {
    lineCounter: lines,
    uniqueKeys: false,
    merge: true,
    prettyErrors: false,
  });
  const locator = new SourceLocator(file, doc, lines);
  const [first] = doc.errors;
  if (first) {
    const { line, column } = locator.offsetPosition(first.pos[0]);
    throw new ConfigError({
      code: 'NIMBUS_CONFIG_YAML',
      file,
      line,
      column,
      detail: first.message,
    });
  }
  checkDuplicateKeys(doc, doc.contents as Node | null, [], locator);
  const data = documentToJs(doc);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError({
      code: 'NIMBUS_CONFIG_INVALID',
      file,
      line: 1,
      column: 1,
      detail: 'the configuration must be a mapping of keys (service, provider, functions, ...)',
    });
  }
  const warnings = doc.warnings
    .filter((w) => !(w.code === 'TAG_RESOLVE_FAILED' && isCfnTag(tagOf(w.message))))
    .map((w) => {
      const { line, column } = locator.offsetPosition(w.pos[0]);
      return `${file}:${line}:${column} ${w.message}`;
    });
  return { data: data as Record<string, unknown>, locator, warnings };
}

function tagOf(message: string): string | undefined {
  return /Unresolved tag: (\S+)/.exec(message)?.[1];
}

function checkDuplicateKeys(
  doc: Document,
  node: Node | null,
  path: PropertyPath,
  loc: SourceLocator,
) {
  if (isSeq(node)) {
    node.items.forEach((item, i) => {
      checkDuplicateKeys(doc, item as Node, [...path, i], loc);
    });
    return;
  }
  if (!isMap(node)) return;
  const seen = new Set<string>();
  for (const pair of node.items) {
    const key = keyToString(pair.key, doc);
    if (key !== '<<' && seen.has(key)) throw duplicateError(pair.key as Node, key, path, loc);
    seen.add(key);
    checkDuplicateKeys(doc, pair.value as Node | null, [...path, key], loc);
  }
}

function duplicateError(keyNode: Node, key: string, parent: PropertyPath, loc: SourceLocator) {
  const { line, column } = loc.offsetPosition(keyNode.range?.[0] ?? 0);
  const isFunction = parent.length === 1 && parent[0] === 'functions';
  const detail = isFunction ? `duplicate function name "${key}"` : `duplicate key "${key}"`;
  const path = [...parent, key].join('.');
  return new ConfigError({
    code: 'NIMBUS_CONFIG_DUPLICATE',
    file: loc.file,
    line,
    column,
    path,
    detail,
  });
}
