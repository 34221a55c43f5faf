/**
 * HTTP API JWT authorizers: the token from the identity source (a `Bearer ` prefix dropped) is
 * verified with jose against the issuer's keys. Only asymmetric algorithms are accepted, named
 * before any key is looked up, so `alg: none` and an HMAC token "signed" with a public RSA key
 * are refused outright. `iss` must be the issuer, `aud` (or, without one, `client_id`) one of the
 * audiences, `exp`/`nbf` hold with 60 s of skew. 401 for a bad or missing token, 403 when the
 * route's scopes are not in the token.
 */
import { errors, jwtVerify } from 'jose';
import type { Clock } from '../../../model/clock.js';
import type { JwksCache } from './jwks-cache.js';
import type { JwtAuthorizer } from './route-access.js';

const asymmetric = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];
const clockToleranceSeconds = 60;

export type JwtOutcome =
  | { ok: true; claims: Record<string, string>; scopes: string[] }
  | { ok: false; status: 401 | 403; reason: string };

export async function verifyJwt(
  config: JwtAuthorizer,
  identity: string | undefined,
  deps: { jwks: JwksCache; clock: Clock },
): Promise<JwtOutcome> {
  if (identity === undefined || identity.trim() === '') {
    return { ok: false, status: 401, reason: 'no token in the identity source' };
  }
  const token = identity.replace(/^\s*bearer\s+/i, '').trim();
  let keys: Awaited<ReturnType<JwksCache['keysOf']>>;
  try {
    keys = await deps.jwks.keysOf(config.issuer);
  } catch (error) {
    return {
      ok: false,
      status: 401,
      reason: `issuer keys unavailable: ${(error as Error).message}`,
    };
  }
  const options = {
    issuer: config.issuer,
    algorithms: asymmetric,
    clockTolerance: clockToleranceSeconds,
    currentDate: new Date(deps.clock.now()),
  };
  let payload: Record<string, unknown>;
  try {
    try {
      payload = (await jwtVerify(token, keys, options)).payload;
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      // A key id the cached set lacks: the issuer may have rotated its keys.
      const fresh = await deps.jwks.refresh(config.issuer);
      if (!fresh) throw error;
      payload = (await jwtVerify(token, fresh, options)).payload;
    }
  } catch (error) {
    return { ok: false, status: 401, reason: describe(error) };
  }
  const aud = payload.aud;
  const audiences = Array.isArray(aud) ? aud : aud === undefined ? [payload.client_id] : [aud];
  if (!audiences.some((a) => typeof a === 'string' && config.audience.includes(a))) {
    return { ok: false, status: 401, reason: 'aud/client_id is not one of the audiences' };
  }
  const scopes = scopesOf(payload);
  if (config.scopes.length > 0 && !config.scopes.some((s) => scopes.includes(s))) {
    return { ok: false, status: 403, reason: 'the token holds none of the route scopes' };
  }
  return { ok: true, claims: claimsOf(payload), scopes };
}

function scopesOf(payload: Record<string, unknown>): string[] {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === 'string') return raw.split(' ').filter(Boolean);
  return Array.isArray(raw) ? raw.filter((s): s is string => typeof s === 'string') : [];
}

/** As API Gateway passes them: every claim a string, lists as `[a b]`. */
function claimsOf(payload: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    out[name] = Array.isArray(value)
      ? `[${value.map(String).join(' ')}]`
      : typeof value === 'object' && value !== null
        ? JSON.stringify(value)
        : String(value);
  }
  return out;
}

/** jose's own wording names the check that failed, never the token. */
function describe(error: unknown): string {
  if (error instanceof errors.JOSEError) return `${error.code}: ${error.message}`;
  return `token rejected: ${(error as Error).message}`;
}
