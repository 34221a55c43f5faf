/**
 * REST `cognito_user_pools` authorizers: the token in the identity source (the header value
 * itself, as API Gateway takes it; a `Bearer ` prefix is tolerated) must be an RS256 JWT of the
 * named Nimbus user pool: signed by one of its published keys, `iss` the pool's issuer, not
 * expired. Without scopes the route takes ID tokens (as API Gateway); with scopes, access tokens
 * holding one of them. Claims reach the function under `requestContext.authorizer.claims`, every
 * value a string as API Gateway passes them (`exp`/`iat` as dates, lists comma-joined). Anything
 * else is 401 {"message":"Unauthorized"}.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, jwtVerify } from 'jose';
import type { Clock } from '../../../model/clock.js';
import type { CognitoAuthorizer } from './route-access.js';

/** The platform's user pools as the gateway sees them. */
export interface UserPoolKeySource {
  /** The pool's issuer URL and published keys; undefined for a pool that does not exist. */
  keysOf(poolId: string): Promise<{ issuer: string; jwks: JSONWebKeySet } | undefined>;
}

export type CognitoOutcome =
  | { ok: true; claims: Record<string, string> }
  | { ok: false; reason: string };

const clockToleranceSeconds = 60;
/** Keys are read again after this long (a rotation keeps the previous key published). */
const keysMaxAgeMs = 60_000;

export class CognitoAuthorizerVerifier {
  /** Per pool: its issuer and keys (null: no such pool), and when they were read. */
  readonly #cache = new Map<
    string,
    { issuer: string; keys: ReturnType<typeof createLocalJWKSet> } | null
  >();
  readonly #cacheAt = new Map<string, number>();

  constructor(private readonly deps: { pools: UserPoolKeySource; clock: Clock }) {}

  async verify(config: CognitoAuthorizer, identity: string | undefined): Promise<CognitoOutcome> {
    if (identity === undefined || identity.trim() === '') {
      return { ok: false, reason: 'no token in the identity source' };
    }
    const token = identity.replace(/^\s*bearer\s+/i, '').trim();
    const pool = await this.#keys(config.poolId);
    if (!pool) return { ok: false, reason: `user pool ${config.poolId} does not exist` };
    let payload: Record<string, unknown>;
    try {
      payload = (
        await jwtVerify(token, pool.keys, {
          issuer: pool.issuer,
          algorithms: ['RS256'],
          clockTolerance: clockToleranceSeconds,
          currentDate: new Date(this.deps.clock.now()),
        })
      ).payload;
    } catch (error) {
      return {
        ok: false,
        reason:
          error instanceof errors.JOSEError
            ? `${error.code}: ${error.message}`
            : `token rejected: ${(error as Error).message}`,
      };
    }
    if (config.scopes.length === 0) {
      if (payload.token_use !== 'id') return { ok: false, reason: 'not an ID token' };
    } else {
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
      if (payload.token_use !== 'access' || !config.scopes.some((s) => scopes.includes(s))) {
        return { ok: false, reason: 'not an access token holding one of the route scopes' };
      }
    }
    return { ok: true, claims: restClaims(payload) };
  }

  async #keys(poolId: string) {
    const now = this.deps.clock.now();
    const cached = this.#cache.get(poolId);
    if (cached !== undefined && now - (this.#cacheAt.get(poolId) ?? 0) < keysMaxAgeMs) {
      return cached;
    }
    const found = await this.deps.pools.keysOf(poolId);
    const entry = found ? { issuer: found.issuer, keys: createLocalJWKSet(found.jwks) } : null;
    this.#cache.set(poolId, entry);
    this.#cacheAt.set(poolId, now);
    return entry;
  }
}

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Wed Dec 02 21:59:11 UTC 2026`, the way REST API Gateway renders `exp` and `iat`. */
function restDate(seconds: number): string {
  const d = new Date(seconds * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** Every claim a string, as REST API Gateway passes `requestContext.authorizer.claims`. */
export function restClaims(payload: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if ((name === 'exp' || name === 'iat') && typeof value === 'number') {
      out[name] = restDate(value);
    } else if (Array.isArray(value)) {
      out[name] = value.map(String).join(',');
    } else if (typeof value === 'object' && value !== null) {
      out[name] = JSON.stringify(value);
    } else {
      out[name] = String(value);
    }
  }
  return out;
}
