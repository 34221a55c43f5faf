import { BlockList, isIP } from 'node:net';
import { parseQuery } from '../query-string.js';
import { type AlbConditions, parseCidr } from './alb-rule-config.js';

/** What a listener rule looks at in a request. */
export interface AlbRequestFacts {
  method: string;
  /** The URL path as sent, without the query. */
  path: string;
  /** The Host header's name, without the port. */
  host: string;
  /** node's rawHeaders. */
  headers: string[];
  rawQuery: string;
  sourceIp: string;
}

export type AlbMatcher = (facts: AlbRequestFacts) => boolean;

/**
 * An ALB wildcard (`*` any run of characters, `?` exactly one) as an anchored RegExp, compiled
 * once per deployment. Everything else is literal.
 */
function wildcard(pattern: string, ignoreCase: boolean): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
}

function anyMatches(patterns: RegExp[], value: string): boolean {
  for (const p of patterns) if (p.test(value)) return true;
  return false;
}

/**
 * Compiles a rule's conditions as Elastic Load Balancing evaluates them: each condition is
 * satisfied when any of its values matches, and the rule when all its conditions are. Path
 * patterns are case-sensitive; host names, header names and values, and query keys and values
 * are not; methods compare exactly; source IPs are the connection's peer.
 */
export function compileConditions(conditions: AlbConditions): AlbMatcher {
  const checks: AlbMatcher[] = [];
  if (conditions.method) {
    const methods = new Set(conditions.method);
    checks.push((f) => methods.has(f.method));
  }
  if (conditions.path) {
    const paths = conditions.path.map((p) => wildcard(p, false));
    checks.push((f) => anyMatches(paths, f.path));
  }
  if (conditions.host) {
    const hosts = conditions.host.map((h) => wildcard(h, true));
    checks.push((f) => anyMatches(hosts, f.host));
  }
  if (conditions.header) {
    const name = conditions.header.name.toLowerCase();
    const values = conditions.header.values.map((v) => wildcard(v, true));
    checks.push((f) => {
      for (let i = 0; i + 1 < f.headers.length; i += 2) {
        if (f.headers[i]!.toLowerCase() === name && anyMatches(values, f.headers[i + 1]!)) {
          return true;
        }
      }
      return false;
    });
  }
  if (conditions.query) {
    const pairs = conditions.query.map(([k, v]) => [wildcard(k, true), wildcard(v, true)] as const);
    checks.push((f) => {
      const sent = parseQuery(f.rawQuery);
      return pairs.some(([k, v]) => sent.some(([sk, sv]) => k.test(sk) && v.test(sv)));
    });
  }
  if (conditions.ip) {
    const list = new BlockList();
    for (const cidr of conditions.ip) {
      const range = parseCidr(cidr)!;
      list.addSubnet(range.address, range.prefix, range.family);
    }
    checks.push((f) => {
      // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
      const ip = f.sourceIp.startsWith('::ffff:') ? f.sourceIp.slice(7) : f.sourceIp;
      const family = isIP(ip);
      return family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
    });
  }
  return (facts) => {
    for (const check of checks) if (!check(facts)) return false;
    return true;
  };
}
