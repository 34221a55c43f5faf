import { type Document, isAlias, isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import { expandCfnTag, isCfnTag } from './cfn-tags.js';

/**
 * Converts the parsed document to plain data ourselves (rather than `doc.toJS()`) so that
 * CloudFormation tags, merge keys and aliases come out the way Serverless loads them while
 * the node tree stays untouched for error positions.
 */
export function documentToJs(doc: Document): unknown {
  return nodeToJs(doc.contents as Node | null, doc, 0);
}

function nodeToJs(node: Node | null | undefined, doc: Document, depth: number): unknown {
  if (node == null) return null;
  if (depth > 200) throw new Error('YAML aliases nest too deeply');
  if (isAlias(node)) return nodeToJs(node.resolve(doc) as Node | undefined, doc, depth + 1);
  let value: unknown;
  if (isScalar(node)) value = node.value;
  else if (isMap(node)) value = mapToJs(node, doc, depth);
  else if (isSeq(node)) value = node.items.map((item) => nodeToJs(item as Node, doc, depth + 1));
  else value = null;
  return isCfnTag(node.tag) ? expandCfnTag(node.tag!, value) : value;
}

function mapToJs(map: YAMLMap, doc: Document, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const merged: Record<string, unknown>[] = [];
  for (const pair of map.items) {
    const key = keyToString(pair.key, doc);
    const value = nodeToJs(pair.value as Node | null, doc, depth + 1);
    if (isMergeKey(pair.key)) {
      for (const source of Array.isArray(value) ? value : [value]) {
        if (source && typeof source === 'object') merged.push(source as Record<string, unknown>);
      }
      continue;
    }
    out[key] = value;
  }
  if (merged.length === 0) return out;
  // Earlier merge sources win over later ones, and the map's own keys win over all.
  return Object.assign({}, ...merged.reverse(), out);
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === 'symbol';
}

export function keyToString(key: unknown, doc: Document): string {
  if (isMergeKey(key)) return '<<';
  if (isScalar(key)) return String(key.value);
  if (key && typeof key === 'object' && 'range' in key) {
    return JSON.stringify(nodeToJs(key as Node, doc, 0));
  }
  return String(key);
}
