/**
 * What a user's password is stored as: the argon2id hash (USER_PASSWORD_AUTH and every other
 * clear-text check) and, beside it, the SRP salt and verifier (USER_SRP_AUTH) sealed with the
 * master key, so the database alone does not give an attacker a fast offline guess (the verifier
 * is one SHA-256 and one modular power away from the password).
 */
import { openSecret, sealSecret } from '../../platform/auth/secret-box.js';
import type { CognitoDeps } from './cognito-call.js';
import type { UserRow } from './cognito-store.js';
import { makeVerifier, type SrpVerifier } from './srp.js';

type UserKey = Pick<UserRow, 'poolId' | 'username' | 'sub'>;

/** Bound as associated data: a sealed verifier copied onto another user does not open. */
function context(user: Pick<UserRow, 'poolId' | 'sub'>): string {
  return `cognito-srp:${user.poolId}:${user.sub}`;
}

export function sealVerifier(deps: CognitoDeps, user: UserKey, password: string): string {
  const verifier = makeVerifier(user.poolId, user.username, password);
  return sealSecret(deps.masterKey, JSON.stringify(verifier), context(user));
}

/** Both stored forms of a new password, to spread into the user row. */
export async function passwordFields(
  deps: CognitoDeps,
  user: UserKey,
  password: string,
): Promise<{ passwordHash: string; srpVerifier: string }> {
  return {
    passwordHash: await deps.hasher.hash(password),
    srpVerifier: sealVerifier(deps, user, password),
  };
}

export function openVerifier(deps: CognitoDeps, user: UserRow): SrpVerifier | undefined {
  if (!user.srpVerifier) return undefined;
  return JSON.parse(openSecret(deps.masterKey, user.srpVerifier, context(user))) as SrpVerifier;
}
