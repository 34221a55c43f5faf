/** One segment of a declared route path. */
export type RouteSegment =
  | { type: 'literal'; value: string }
  | { type: 'param'; name: string }
  | { type: 'greedy'; name: string };

export interface ParsedRoutePath {
  segments: RouteSegment[];
  /** The path with one leading slash, as API Gateway names it (`/users/{id}`, `/`). */
  resource: string;
}

/**
 * Parses a declared path (`users/{id}` from `http`, `/users/{id}` from `httpApi`). Throws
 * with a sentence naming the problem when the path cannot be a route: a greedy variable
 * that is not last, an empty or half-braced variable, an empty segment.
 */
export function parseRoutePath(path: string): ParsedRoutePath {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  const segments: RouteSegment[] = [];
  const parts = trimmed === '' ? [] : trimmed.split('/');
  parts.forEach((part, i) => {
    if (part === '') throw new Error(`path "${path}" has an empty segment`);
    if (part.startsWith('{') && part.endsWith('}')) {
      const inner = part.slice(1, -1);
      const greedy = inner.endsWith('+');
      const name = greedy ? inner.slice(0, -1) : inner;
      if (name === '' || /[{}/]/.test(name)) {
        throw new Error(`path "${path}" has an invalid variable "${part}"`);
      }
      if (greedy && i !== parts.length - 1) {
        throw new Error(`path "${path}": greedy variable "${part}" must be the last segment`);
      }
      segments.push(greedy ? { type: 'greedy', name } : { type: 'param', name });
      return;
    }
    if (part.includes('{') || part.includes('}')) {
      throw new Error(`path "${path}": a variable must fill a whole segment ("${part}")`);
    }
    segments.push({ type: 'literal', value: part });
  });
  return { segments, resource: `/${trimmed}` };
}
