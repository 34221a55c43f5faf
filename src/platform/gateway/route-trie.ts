import type { RouteSegment } from './route-path.js';
import { decodePathPart } from './url-decode.js';

/** The method key that stands for `ANY` (v1) and `*` (v2). */
export const ANY_METHOD = '*';

/**
 * A per-segment trie: a request walks one node per path segment, so matching costs the
 * depth of the path, not the number of routes. Values hang off nodes by method.
 */
export interface TrieNode<T> {
  literals: Map<string, TrieNode<T>> | undefined;
  param: TrieNode<T> | undefined;
  /** Routes whose last segment is `{name+}`, by method. */
  greedy: Map<string, T> | undefined;
  /** Routes ending exactly at this node, by method. */
  leaves: Map<string, T> | undefined;
}

export function createNode<T>(): TrieNode<T> {
  return { literals: undefined, param: undefined, greedy: undefined, leaves: undefined };
}

/** `ANY` and `*` share one key; everything else is the upper-case method. */
export function methodKey(method: string): string {
  const upper = method.toUpperCase();
  return upper === 'ANY' ? ANY_METHOD : upper;
}

/**
 * Adds a value under a parsed path and method. Returns the value already there (and leaves
 * it in place) when the slot is taken, so the caller can report the duplicate.
 */
export function insert<T>(
  root: TrieNode<T>,
  segments: RouteSegment[],
  method: string,
  value: T,
): T | undefined {
  let node = root;
  let slots: 'leaves' | 'greedy' = 'leaves';
  for (const segment of segments) {
    if (segment.type === 'greedy') {
      slots = 'greedy';
      break;
    }
    if (segment.type === 'param') {
      node.param ??= createNode();
      node = node.param;
      continue;
    }
    node.literals ??= new Map();
    let next = node.literals.get(segment.value);
    if (next === undefined) {
      next = createNode();
      node.literals.set(segment.value, next);
    }
    node = next;
  }
  const map = node[slots] ?? new Map<string, T>();
  node[slots] = map;
  const key = methodKey(method);
  const existing = map.get(key);
  if (existing !== undefined) return existing;
  map.set(key, value);
  return undefined;
}

function pick<T>(
  map: Map<string, T> | undefined,
  method: string,
  accept: (value: T) => boolean,
): T | undefined {
  if (map === undefined) return undefined;
  const exact = map.get(method);
  if (exact !== undefined && accept(exact)) return exact;
  const any = map.get(ANY_METHOD);
  return any !== undefined && accept(any) ? any : undefined;
}

/**
 * Finds the most specific value for decoded `segments` and `method`: at each depth a literal
 * beats a `{param}`, which beats a greedy `{proxy+}`; at one node an exact method beats ANY.
 * A branch that cannot finish (wrong depth, no acceptable method) backtracks to the next
 * kind. Captured variable values are pushed onto `values` in path order. An empty segment
 * (`//`, a kept trailing slash) is only ever taken by a greedy variable.
 */
export function find<T>(
  node: TrieNode<T>,
  segments: string[],
  index: number,
  method: string,
  accept: (value: T) => boolean,
  values: string[],
): T | undefined {
  if (index === segments.length) return pick(node.leaves, method, accept);
  const segment = segments[index]!;
  if (segment !== '') {
    const literal = node.literals?.get(segment);
    if (literal !== undefined) {
      const found = find(literal, segments, index + 1, method, accept, values);
      if (found !== undefined) return found;
    }
    if (node.param !== undefined) {
      values.push(segment);
      const found = find(node.param, segments, index + 1, method, accept, values);
      if (found !== undefined) return found;
      values.pop();
    }
  }
  const greedy = pick(node.greedy, method, accept);
  if (greedy !== undefined) values.push(segments.slice(index).join('/'));
  return greedy;
}

/**
 * `/users/a%20b/` → `['users', 'a b', '']`; `/` → `[]`. Each segment is decoded on its own,
 * so an encoded `/` (`%2F`) stays inside its segment.
 */
export function splitPath(path: string): string[] {
  if (path === '/' || path === '') return [];
  const parts = path.slice(1).split('/');
  for (let i = 0; i < parts.length; i++) parts[i] = decodePathPart(parts[i]!);
  return parts;
}
