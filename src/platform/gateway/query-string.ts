import { decodeQueryPart } from './url-decode.js';

/**
 * Splits a raw query string (without `?`) into decoded key/value pairs, in order, keeping
 * repeats. `a` alone gives `['a', '']`; empty pieces (`a=1&&b=2`) are skipped.
 */
export function parseQuery(rawQuery: string): [string, string][] {
  const pairs: [string, string][] = [];
  if (rawQuery === '') return pairs;
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    if (eq < 0) pairs.push([decodeQueryPart(piece), '']);
    else pairs.push([decodeQueryPart(piece.slice(0, eq)), decodeQueryPart(piece.slice(eq + 1))]);
  }
  return pairs;
}
