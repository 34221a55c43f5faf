/**
 * SNS over the query protocol (its only protocol, SDK v3 included): flattened parameters shaped
 * into plain inputs — `X.member.N` lists become arrays, `X.entry.N.key/value` (and
 * `.Name/.Value`) maps become objects — and plain outputs written as the query protocol's XML:
 * arrays as `<X><member>`, attribute maps as `<entry><key/><value/></entry>`.
 */
import type { QueryTree } from '../../platform/aws/protocols/aws-query.js';
import type { XmlNode } from '../../platform/aws/protocols/xml.js';
import type { Input } from './sns-input.js';

type Node = QueryTree[string];

export function snsInputOfQuery(tree: QueryTree): Input {
  return shape(tree) as Input;
}

function shape(node: Node): unknown {
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) return node.map((n) => shape(n as Node));
  const keys = Object.keys(node);
  if (keys.length === 1 && keys[0] === 'member') {
    const members = node.member!;
    return Array.isArray(members) ? members.map((m) => shape(m as Node)) : [shape(members)];
  }
  if (keys.length === 1 && keys[0] === 'entry') {
    const entries = Array.isArray(node.entry) ? node.entry : [node.entry!];
    const map: Record<string, unknown> = {};
    for (const entry of entries) {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue;
      const e = entry as Record<string, Node>;
      const key = e.key ?? e.Name;
      if (typeof key !== 'string') continue;
      map[key] = shape((e.value ?? e.Value ?? '') as Node);
    }
    return map;
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, shape(v)]));
}

/** The children of `<ActionResult>` for a plain output. */
export function snsQueryResult(output: Record<string, unknown>): XmlNode[] {
  return Object.entries(output).flatMap(([name, value]) => nodes(name, value));
}

function nodes(name: string, value: unknown): XmlNode[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) {
    return [
      {
        name,
        children: value.map((member) => ({
          name: 'member',
          ...(typeof member === 'object' && member !== null
            ? { children: snsQueryResult(member as Record<string, unknown>) }
            : { text: String(member) }),
        })),
      },
    ];
  }
  if (typeof value === 'object') {
    return [
      {
        name,
        children: Object.entries(value as Record<string, unknown>).map(([k, v]) => ({
          name: 'entry',
          children: [
            { name: 'key', text: k },
            { name: 'value', text: String(v) },
          ],
        })),
      },
    ];
  }
  return [{ name, text: String(value) }];
}
