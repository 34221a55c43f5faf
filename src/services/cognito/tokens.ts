/**
 * ID and access tokens as Cognito issues them (RS256 JWTs with `kid`, Cognito's claim sets,
 * `iss = <platform URL>/<poolId>`), opaque refresh tokens, and the check of an access token a
 * user presents (GetUser, ChangePassword, GlobalSignOut...).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../../model/clock.js';
import { cognitoErrors } from './cognito-errors.js';
import type { ClientRow, CognitoStore, SessionRow, UserRow } from './cognito-store.js';
import type { TokenKeys } from './token-keys.js';
import { applyClaimOverrides, type PoolTriggers, triggerAttributes } from './triggers.js';

export interface TokenDeps {
  store: CognitoStore;
  keys: TokenKeys;
  clock: Clock;
  /** `http://host:port` as clients reach the platform: the issuer's base. */
  platformUrl: () => string;
  /** PreTokenGeneration; none: tokens as issued. */
  triggers?: PoolTriggers;
}

/** Why tokens are issued (PreTokenGeneration's triggerSource). */
export type TokenSource =
  | 'TokenGeneration_Authentication'
  | 'TokenGeneration_NewPasswordChallenge'
  | 'TokenGeneration_RefreshTokens';

export function issuerOf(platformUrl: string, poolId: string): string {
  return `${platformUrl.replace(/\/+$/, '')}/${poolId}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/** Validity of a client's tokens in seconds (TokenValidityUnits honoured). */
export function tokenValidity(client: ClientRow): { access: number; id: number; refresh: number } {
  const units = (client.config.TokenValidityUnits ?? {}) as Record<string, string>;
  const seconds = (value: unknown, unit: string | undefined, fallback: number) => {
    if (typeof value !== 'number') return fallback;
    const scale = { seconds: 1, minutes: 60, hours: 3600, days: 86_400 }[unit ?? ''];
    return value * (scale ?? 1);
  };
  return {
    access: seconds(client.config.AccessTokenValidity, units.AccessToken ?? 'hours', 3600),
    id: seconds(client.config.IdTokenValidity, units.IdToken ?? 'hours', 3600),
    refresh: seconds(client.config.RefreshTokenValidity, units.RefreshToken ?? 'days', 30 * 86_400),
  };
}

export interface AuthenticationResult {
  AccessToken: string;
  IdToken: string;
  RefreshToken?: string;
  ExpiresIn: number;
  TokenType: 'Bearer';
}

/** A new sign-in: a session with its refresh token, and the first ID and access tokens. */
export async function startSession(
  deps: TokenDeps,
  client: ClientRow,
  user: UserRow,
  source: TokenSource = 'TokenGeneration_Authentication',
): Promise<AuthenticationResult> {
  const now = deps.clock.now();
  const validity = tokenValidity(client);
  // Before the session exists, so a PreTokenGeneration refusal leaves no sign-in behind.
  const claims = await claimsFor(deps, client, user, source);
  const refreshToken = randomBytes(32).toString('base64url');
  const session: SessionRow = {
    id: randomUUID(),
    poolId: client.poolId,
    clientId: client.id,
    sub: user.sub,
    authTime: now,
    expiresAt: now + validity.refresh * 1000,
  };
  await deps.store.insertSession({ ...session, refreshHash: sha256(refreshToken) });
  return {
    ...(await issueTokens(deps, client, user, session, claims)),
    RefreshToken: refreshToken,
  };
}

/** REFRESH_TOKEN_AUTH: new ID and access tokens for a live session (no new refresh token). */
export async function refreshSession(
  deps: TokenDeps,
  client: ClientRow,
  refreshToken: string,
): Promise<{ result: AuthenticationResult; user: UserRow }> {
  const session = await deps.store.findSessionByRefresh(sha256(refreshToken));
  const now = deps.clock.now();
  if (
    !session ||
    session.clientId !== client.id ||
    session.revokedAt !== undefined ||
    session.expiresAt <= now
  ) {
    throw cognitoErrors.notAuthorized('Invalid Refresh Token');
  }
  const user = await deps.store.findUserBySub(session.poolId, session.sub);
  if (!user) throw cognitoErrors.notAuthorized('Invalid Refresh Token');
  if (!user.enabled) throw cognitoErrors.notAuthorized('User is disabled.');
  const claims = await claimsFor(deps, client, user, 'TokenGeneration_RefreshTokens');
  return { result: await issueTokens(deps, client, user, session, claims), user };
}

interface TokenClaims {
  groups: string[];
  /** PreTokenGeneration's answer, applied to the ID token. */
  override?: Record<string, unknown>;
}

/** The user's groups, and what the pool's PreTokenGeneration trigger makes of the claims. */
async function claimsFor(
  deps: TokenDeps,
  client: ClientRow,
  user: UserRow,
  source: TokenSource,
): Promise<TokenClaims> {
  const groups = await deps.store.groupsOf(client.poolId, user.sub);
  const pool = deps.triggers && (await deps.store.findPool(client.poolId));
  if (!pool || !deps.triggers?.has(pool, 'PreTokenGeneration')) return { groups };
  const response = await deps.triggers.run(pool, 'PreTokenGeneration', {
    triggerSource: source,
    userName: user.username,
    clientId: client.id,
    request: {
      userAttributes: triggerAttributes(user),
      groupConfiguration: { groupsToOverride: groups, iamRolesToOverride: [], preferredRole: null },
    },
    response: { claimsOverrideDetails: null },
  });
  const details = response?.claimsOverrideDetails;
  return typeof details === 'object' && details !== null && !Array.isArray(details)
    ? { groups, override: details as Record<string, unknown> }
    : { groups };
}

async function issueTokens(
  deps: TokenDeps,
  client: ClientRow,
  user: UserRow,
  session: SessionRow,
  claims: TokenClaims,
): Promise<AuthenticationResult> {
  const now = deps.clock.now();
  const iat = Math.floor(now / 1000);
  const validity = tokenValidity(client);
  const { kid, key } = await deps.keys.signingKey(client.poolId);
  const iss = issuerOf(deps.platformUrl(), client.poolId);
  const { groups } = claims;
  const eventId = randomUUID();
  const common = {
    sub: user.sub,
    ...(groups.length > 0 ? { 'cognito:groups': groups } : {}),
    origin_jti: session.id,
    event_id: eventId,
    auth_time: Math.floor(session.authTime / 1000),
  };
  const idClaims: Record<string, unknown> = {
    ...userClaims(user),
    ...common,
    'cognito:username': user.username,
    aud: client.id,
    token_use: 'id',
  };
  const accessClaims: Record<string, unknown> = {
    ...common,
    client_id: client.id,
    token_use: 'access',
    scope: 'aws.cognito.signin.user.admin',
    username: user.username,
  };
  if (claims.override) applyClaimOverrides(claims.override, idClaims, accessClaims);
  const sign = (body: Record<string, unknown>, seconds: number) =>
    new SignJWT(body)
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(iss)
      .setIssuedAt(iat)
      .setExpirationTime(iat + seconds)
      .setJti(randomUUID())
      .sign(key);
  return {
    IdToken: await sign(idClaims, validity.id),
    AccessToken: await sign(accessClaims, validity.access),
    ExpiresIn: validity.access,
    TokenType: 'Bearer',
  };
}

/** The user's attributes as ID-token claims (`email_verified` as a boolean, as Cognito). */
function userClaims(user: UserRow): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(user.attributes)) {
    if (name === 'sub') continue;
    claims[name] =
      name === 'email_verified' || name === 'phone_number_verified' ? value === 'true' : value;
  }
  return claims;
}

/**
 * The user an access token belongs to: signature by one of its pool's keys, `token_use`
 * access, not expired, its sign-in session neither revoked (GlobalSignOut, RevokeToken) nor gone.
 */
export async function userOfAccessToken(
  deps: TokenDeps,
  token: unknown,
): Promise<{ user: UserRow; session: SessionRow }> {
  const invalid = () => cognitoErrors.notAuthorized('Invalid Access Token');
  if (typeof token !== 'string' || token === '') throw invalid();
  let poolId: string;
  try {
    const iss = decodeJwt(token).iss ?? '';
    poolId = iss.slice(iss.lastIndexOf('/') + 1);
  } catch {
    throw invalid();
  }
  const jwks = await deps.keys.jwks(poolId).catch(() => ({ keys: [] }));
  if (jwks.keys.length === 0) throw invalid();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, createLocalJWKSet(jwks as never), {
      algorithms: ['RS256'],
      issuer: issuerOf(deps.platformUrl(), poolId),
      currentDate: new Date(deps.clock.now()),
    }));
  } catch {
    throw invalid();
  }
  if (payload.token_use !== 'access') throw invalid();
  const session = await deps.store.findSession(String(payload.origin_jti ?? ''));
  if (!session || session.poolId !== poolId || session.sub !== payload.sub) throw invalid();
  if (session.revokedAt !== undefined) {
    throw cognitoErrors.notAuthorized('Access Token has been revoked');
  }
  const user = await deps.store.findUserBySub(poolId, session.sub);
  if (!user) throw cognitoErrors.notAuthorized('Access Token has been revoked');
  if (!user.enabled) throw cognitoErrors.notAuthorized('User is disabled.');
  return { user, session };
}
