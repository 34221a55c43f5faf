import { execFile } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { IsolationError } from './isolation-error.js';
import type { UidRange } from './uid-range.js';

/** A TCP destination function processes must not reach. */
export interface GuardedEndpoint {
  host: string;
  port: number;
  /** Why, for the log: `store`, `--network-guard-deny`. */
  what: string;
}

/** Runs `nft -f -` with a script; injected so the rule text is tested without root. */
export type NftRunner = (script: string) => Promise<void>;

export const runNft: NftRunner = (script) =>
  new Promise((resolve, reject) => {
    const child = execFile('nft', ['-f', '-'], (error, _stdout, stderr) => {
      if (error) reject(new Error(`nft failed: ${stderr.trim() || error.message}`));
      else resolve();
    });
    child.stdin?.end(script);
  });

/**
 * Refuses, in the kernel, TCP connections from the function uid range to the platform's own
 * backends (the PostgreSQL store, anything the operator names), so a function that finds a
 * trust-authenticated database on the host still cannot reach it. Functions and the platform
 * share the host's network namespace; the uid a socket belongs to is what tells them apart, so
 * the guard needs per-stage uids (root). It is one nftables table per uid range (each platform
 * on a host has its own range): replaced whole at start, so a table left by a platform killed
 * with -9 is taken over, and deleted at stop.
 *
 * Unix sockets (PostgreSQL's local socket) are not covered: their file permissions and
 * pg_hba.conf are (docs/security.md).
 */
export class NetworkGuard {
  readonly #o: {
    uids: UidRange;
    endpoints: GuardedEndpoint[];
    logger: Logger;
    nft: NftRunner;
    resolve: (host: string) => Promise<string[]>;
  };
  #installed = false;

  constructor(opts: {
    uids: UidRange;
    endpoints: GuardedEndpoint[];
    logger: Logger;
    nft?: NftRunner;
    resolve?: (host: string) => Promise<string[]>;
  }) {
    this.#o = { nft: runNft, resolve: resolveAll, ...opts };
  }

  get table(): string {
    return `nimbus_guard_${this.#o.uids.first}`;
  }

  async start(): Promise<void> {
    const targets: { address: string; port: number; what: string }[] = [];
    for (const endpoint of this.#o.endpoints) {
      for (const address of await this.#o.resolve(endpoint.host)) {
        targets.push({ address, port: endpoint.port, what: endpoint.what });
      }
    }
    try {
      await this.#o.nft(guardScript(this.table, this.#o.uids, targets));
    } catch (error) {
      throw new IsolationError(
        `--network-guard could not install its nftables rules (${(error as Error).message}); ` +
          'it needs root and the nft command (Debian: apt-get install nftables)',
      );
    }
    this.#installed = true;
    this.#o.logger.info(
      { table: this.table, denied: targets.map((t) => `${t.what} ${t.address}:${t.port}`) },
      'network guard: function uids cannot connect to these endpoints',
    );
  }

  async stop(): Promise<void> {
    if (!this.#installed) return;
    this.#installed = false;
    await this.#o.nft(`delete table inet ${this.table}\n`);
  }
}

/**
 * The nftables script: declare-then-delete makes the replacement one atomic transaction whether
 * or not a table of that name exists, so there is never a moment without the rules.
 */
export function guardScript(
  table: string,
  uids: UidRange,
  targets: { address: string; port: number }[],
): string {
  const lines = [
    `table inet ${table} {}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
  ];
  for (const { address, port } of targets) {
    const family = isIP(address) === 6 ? 'ip6' : 'ip';
    lines.push(
      `    meta skuid ${uids.first}-${uids.last} ${family} daddr ${address} tcp dport ${port} reject with tcp reset`,
    );
  }
  lines.push('  }', '}', '');
  return lines.join('\n');
}

async function resolveAll(host: string): Promise<string[]> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) return [bare];
  const found = await lookup(bare, { all: true });
  return [...new Set(found.map((a) => a.address))];
}

/** Parses `--network-guard-deny host:port[,host:port...]`. */
export function parseGuardedEndpoints(text: string): GuardedEndpoint[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((entry) => {
      const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
      const port = Number(match?.[2]);
      if (!match || port < 1 || port > 65535) {
        throw new IsolationError(`--network-guard-deny entries are host:port, not "${entry}"`);
      }
      return { host: match[1]!, port, what: '--network-guard-deny' };
    });
}

/** The store's TCP endpoint, from its URL (none for SQLite or a Unix-socket URL). */
export function storeEndpoint(databaseUrl: string): GuardedEndpoint | undefined {
  if (!/^postgres(ql)?:/.test(databaseUrl)) return undefined;
  try {
    const url = new URL(databaseUrl);
    if (url.hostname === '') return undefined;
    return { host: url.hostname, port: Number(url.port || 5432), what: 'store' };
  } catch {
    return undefined;
  }
}
