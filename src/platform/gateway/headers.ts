/**
 * Request header shapes for the two payload versions, built from node's `rawHeaders` (the
 * only form that keeps repeated headers apart and names as sent).
 */

export interface V1Headers {
  /** Last value wins for a repeated name. */
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
}

/**
 * v1: names keep the case the client sent (the first spelling seen names the group);
 * repeats are grouped case-insensitively.
 */
export function v1Headers(raw: string[]): V1Headers {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  const nameOf = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const sent = raw[i]!;
    const value = raw[i + 1]!;
    const lower = sent.toLowerCase();
    const name = nameOf.get(lower);
    if (name === undefined) {
      nameOf.set(lower, sent);
      headers[sent] = value;
      multiValueHeaders[sent] = [value];
    } else {
      headers[name] = value;
      multiValueHeaders[name]!.push(value);
    }
  }
  return { headers, multiValueHeaders };
}

export interface V2Headers {
  /** Lower-case names; repeated values joined with `,`; no `cookie`. */
  headers: Record<string, string>;
  /** Every cookie pair from every `cookie` header, split on `; `; undefined when none. */
  cookies: string[] | undefined;
}

/** v2: lower-case names, repeats comma-joined, the cookie header moved to `cookies`. */
export function v2Headers(raw: string[]): V2Headers {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === 'cookie') {
      for (const part of value.split('; ')) {
        if (part === '') continue;
        if (cookies === undefined) cookies = [];
        cookies.push(part);
      }
      continue;
    }
    const seen = headers[name];
    headers[name] = seen === undefined ? value : `${seen},${value}`;
  }
  return { headers, cookies };
}

/** The first value of a header (case-insensitive), straight from rawHeaders. */
export function rawHeader(raw: string[], lowerName: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === lowerName) return raw[i + 1];
  }
  return undefined;
}
