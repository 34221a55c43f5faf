/**
 * Who a request comes from, as a rate limit counts it (docs/protection.md): the API key, the
 * JWT subject, the access key or the client address. `X-Forwarded-For` is believed only when
 * the connection comes from a configured trusted proxy, so a client cannot pick its own bucket.
 */
import { createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { CallerKind } from '../../service/protection-rules.js';
import { ProtectionConfigError } from './protection-errors.js';

/** What the front door knows about a caller once access checks ran. */
export interface CallerFacts {
  /** The socket's peer address. */
  peer: string;
  /** The raw `X-Forwarded-For` header, if any. */
  forwardedFor?: string | undefined;
  apiKey?: string | undefined;
  jwtSubject?: string | undefined;
  accessKey?: string | undefined;
  /** A Lambda authorizer's principalId. */
  principal?: string | undefined;
}

/** Parses `--trusted-proxies 10.0.0.0/8,127.0.0.1`. */
export function trustedProxies(text: string | undefined): BlockList {
  const list = new BlockList();
  for (const entry of (text ?? '').split(',').map((s) => s.trim())) {
    if (entry === '') continue;
    const [address, bits] = entry.split('/');
    const family = isIP(address ?? '');
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (
      family === 0 ||
      !Number.isInteger(prefix) ||
      prefix < 0 ||
      prefix > (family === 6 ? 128 : 32)
    ) {
      throw new ProtectionConfigError(
        `--trusted-proxies entries are addresses or CIDR ranges, not "${entry}"`,
      );
    }
    list.addSubnet(address!, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

function trusted(list: BlockList, address: string): boolean {
  const bare = address.startsWith('::ffff:') ? address.slice(7) : address;
  const family = isIP(bare);
  return family !== 0 && list.check(bare, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The client address: the peer, or, when the peer is a trusted proxy, the right-most address of
 * `X-Forwarded-For` that is not itself a trusted proxy (the left part is the client's to forge).
 */
export function clientAddress(facts: CallerFacts, proxies: BlockList): string {
  if (facts.forwardedFor === undefined || !trusted(proxies, facts.peer)) return facts.peer;
  const hops = facts.forwardedFor
    .split(',')
    .map((s) => s.trim())
    .filter((s) => isIP(s) !== 0);
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!trusted(proxies, hops[i]!)) return hops[i]!;
  }
  return hops[0] ?? facts.peer;
}

/**
 * The counter key of a caller for one kind of limit. A caller without that identity (no API
 * key on a per-apiKey limit) is counted by address, so leaving the key off never escapes it.
 */
export function callerKey(kind: CallerKind, facts: CallerFacts, proxies: BlockList): string {
  const ip = () => `ip:${clientAddress(facts, proxies)}`;
  switch (kind) {
    case 'all':
      return '*';
    case 'ip':
      return ip();
    case 'apiKey':
      return facts.apiKey ? `key:${digest(facts.apiKey)}` : ip();
    case 'jwt':
      return facts.jwtSubject ? `sub:${digest(facts.jwtSubject)}` : ip();
    case 'accessKey':
      return facts.accessKey ? `ak:${facts.accessKey}` : ip();
    case 'caller':
      if (facts.apiKey) return `key:${digest(facts.apiKey)}`;
      if (facts.jwtSubject) return `sub:${digest(facts.jwtSubject)}`;
      if (facts.accessKey) return `ak:${facts.accessKey}`;
      if (facts.principal) return `pr:${digest(facts.principal)}`;
      return ip();
  }
}

/** Keys are stored (PostgreSQL, 255 characters) and logged: never the secret itself. */
function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22);
}
