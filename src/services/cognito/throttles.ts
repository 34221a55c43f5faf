/**
 * Brute-force defences: a fixed-window counter per source IP and operation class, and
 * Cognito's per-user lockout (after 5 failures, locked for 2^(n-5) s up to 15 min; forgotten
 * after a success or 15 quiet minutes).
 */
import type { CognitoStore, UserRow } from './cognito-store.js';

export interface IpLimit {
  max: number;
  windowMs: number;
}

/** Per source IP, as Supabase Auth's defaults: sign-ins 150 / 5 min, sends 30 / 5 min. */
export const defaultIpLimits: Record<'signIn' | 'send', IpLimit> = {
  signIn: { max: 150, windowMs: 5 * 60_000 },
  send: { max: 30, windowMs: 5 * 60_000 },
};

export class IpThrottle {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(readonly limits: Record<string, IpLimit>) {}

  /** Counts one attempt; false when the IP is over its limit for this class. */
  take(kind: string, ip: string, now: number): boolean {
    const limit = this.limits[kind];
    if (!limit) return true;
    const key = `${kind}\u0000${ip}`;
    const w = this.#windows.get(key);
    if (!w || now - w.start >= limit.windowMs) {
      if (this.#windows.size > 100_000) this.#sweep(now);
      this.#windows.set(key, { start: now, count: 1 });
      return true;
    }
    w.count += 1;
    return w.count <= limit.max;
  }

  #sweep(now: number): void {
    const longest = Math.max(...Object.values(this.limits).map((l) => l.windowMs));
    for (const [key, w] of this.#windows) if (now - w.start >= longest) this.#windows.delete(key);
  }
}

export const lockout = {
  freeFailures: 5,
  maxLockMs: 15 * 60_000,
  quietResetMs: 15 * 60_000,
};

/** True while the user is locked out. */
export function isLocked(user: UserRow, now: number): boolean {
  return user.lockedUntil !== undefined && user.lockedUntil > now;
}

/** When a user with this many consecutive failures is locked until (undefined: not locked). */
export function lockedUntilAfter(failures: number, now: number): number | undefined {
  const over = failures - lockout.freeFailures;
  return over >= 0 ? now + Math.min(lockout.maxLockMs, 1000 * 2 ** over) : undefined;
}

/** Counts a wrong password (atomically in the store) and locks the user when it is time. */
export async function recordFailure(store: CognitoStore, user: UserRow, now: number) {
  const failures = await store.recordFailure(
    user.poolId,
    user.usernameKey,
    now,
    lockout.quietResetMs,
  );
  const until = lockedUntilAfter(failures, now);
  if (until !== undefined) await store.lockUser(user.poolId, user.usernameKey, until);
}

export function afterSuccess(user: UserRow): UserRow {
  const { lastFailureAt: _f, lockedUntil: _l, ...rest } = user;
  return { ...rest, failedAttempts: 0 };
}
