import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../model/clock.js';

export interface ConsoleSession {
  id: string;
  /** Sent back by the console in `x-nimbus-csrf` on every write: a cross-site page cannot read it. */
  csrfToken: string;
  expiresAt: number;
  /** Signed in with a read-only access key: reads only, and only while the key exists. */
  readOnly?: { keyId: string };
}

/**
 * Console sign-ins, kept in this process's memory: a random id is all the browser holds (in an
 * HttpOnly cookie), never the admin token. A platform restart signs everyone out; in a cluster a
 * session belongs to the node that made it (docs/console.md).
 */
export class ConsoleSessions {
  readonly #sessions = new Map<string, ConsoleSession>();
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #max: number;

  constructor(deps: { clock: Clock; ttlMs?: number; maxSessions?: number }) {
    this.#clock = deps.clock;
    this.#ttlMs = deps.ttlMs ?? 8 * 3_600_000;
    this.#max = deps.maxSessions ?? 1000;
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  create(opts: { readOnly?: { keyId: string } } = {}): ConsoleSession {
    this.#prune();
    // Past the cap the oldest sign-in goes (Map keeps insertion order): memory stays bounded.
    while (this.#sessions.size >= this.#max) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
    const session: ConsoleSession = {
      id: randomBytes(32).toString('base64url'),
      csrfToken: randomBytes(32).toString('base64url'),
      expiresAt: this.#clock.now() + this.#ttlMs,
      ...(opts.readOnly ? { readOnly: opts.readOnly } : {}),
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id, or undefined (unknown or expired: an expired one is dropped). */
  find(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.#clock.now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return session;
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }

  #prune(): void {
    const now = this.#clock.now();
    for (const [id, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(id);
  }
}

/** Constant-time comparison of two secrets sent as text. */
export function sameSecret(given: string | undefined, expected: string): boolean {
  if (!given || !expected) return false;
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
