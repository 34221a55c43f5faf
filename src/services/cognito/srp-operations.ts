/**
 * USER_SRP_AUTH: InitiateAuth answers with the PASSWORD_VERIFIER challenge (SRP_B, SALT,
 * SECRET_BLOCK, USER_ID_FOR_SRP), RespondToAuthChallenge checks the client's claim. The password
 * never crosses the wire. The challenge is found again by its SECRET_BLOCK (random, single-use,
 * stored hashed, 3 minutes), so clients that do not echo a Session work as with Cognito. Unknown
 * users (and users whose password predates SRP verifiers) get a decoy challenge that fails at the
 * answer, unless the client is LEGACY about user existence errors.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { openSecret, sealSecret } from '../../platform/auth/secret-box.js';
import { preAuthentication } from './auth-triggers.js';
import {
  type CognitoCall,
  checkSecretHash,
  findUser,
  preventsUserExistenceErrors,
} from './cognito-call.js';
import { cognitoErrors } from './cognito-errors.js';
import type { ClientRow, PoolRow } from './cognito-store.js';
import {
  claimMatches,
  clientPublicOk,
  g,
  modPow,
  N,
  serverEphemeral,
  sessionKey,
  timestampPattern,
} from './srp.js';
import { openVerifier } from './srp-verifiers.js';
import { afterSuccess, isLocked, recordFailure } from './throttles.js';
import { sha256 } from './tokens.js';

/** Cognito's default AuthSessionValidity (3 minutes). */
const challengeMs = 3 * 60_000;
const ephemeralContext = 'cognito-srp-ephemeral';

export async function startSrp(
  call: CognitoCall,
  pool: PoolRow,
  client: ClientRow,
  params: Record<string, string>,
) {
  const { deps } = call;
  const name = params.USERNAME;
  const aHex = params.SRP_A;
  if (!name) throw cognitoErrors.invalidParameter('Missing required parameter USERNAME');
  if (!aHex) throw cognitoErrors.invalidParameter('Missing required parameter SRP_A');
  if (!clientPublicOk(aHex)) throw cognitoErrors.invalidParameter('SRP_A is not a valid value.');
  checkSecretHash(deps, client, name, params.SECRET_HASH);
  const now = deps.clock.now();
  const user = await findUser(deps, pool, name);
  if (!user && !preventsUserExistenceErrors(client)) throw cognitoErrors.userNotFound();
  if (user && isLocked(user, now)) throw cognitoErrors.notAuthorized('Password attempts exceeded');
  if (user) await preAuthentication(call, pool, client, user);
  const stored = user && openVerifier(deps, user);
  // A decoy: a salt stable per name (so repeated tries look like one real user) and a verifier
  // of nothing; the answer is refused like a wrong password.
  const salt =
    stored?.salt ??
    createHmac('sha256', deps.masterKey)
      .update(`srp-decoy:${pool.id}:${name}`)
      .digest('hex')
      .slice(0, 32);
  const verifier =
    stored?.verifier ?? modPow(g, BigInt(`0x${randomBytes(32).toString('hex')}`), N).toString(16);
  const ephemeral = serverEphemeral(verifier);
  const userId = user?.username ?? name;
  const secretBlock = randomBytes(96).toString('base64');
  await deps.store.putChallenge(sha256(secretBlock), {
    poolId: pool.id,
    clientId: client.id,
    sub: stored && user ? user.sub : '',
    challenge: 'PASSWORD_VERIFIER',
    data: {
      a: aHex,
      bPublic: ephemeral.public,
      bSecret: sealSecret(deps.masterKey, ephemeral.secret, ephemeralContext),
      salt,
      userId,
    },
    expiresAt: now + challengeMs,
  });
  return {
    ChallengeName: 'PASSWORD_VERIFIER',
    ChallengeParameters: {
      SALT: salt,
      SECRET_BLOCK: secretBlock,
      SRP_B: ephemeral.public,
      USERNAME: userId,
      USER_ID_FOR_SRP: userId,
    },
  };
}

/** The user the claim proves, with failures counted; NotAuthorizedException otherwise. */
export async function answerPasswordVerifier(
  call: CognitoCall,
  client: ClientRow,
  responses: Record<string, string>,
) {
  const { deps } = call;
  for (const field of [
    'USERNAME',
    'PASSWORD_CLAIM_SECRET_BLOCK',
    'PASSWORD_CLAIM_SIGNATURE',
    'TIMESTAMP',
  ]) {
    if (typeof responses[field] !== 'string' || responses[field] === '') {
      throw cognitoErrors.invalidParameter(`Missing required parameter ${field}`);
    }
  }
  const block = responses.PASSWORD_CLAIM_SECRET_BLOCK as string;
  const timestamp = responses.TIMESTAMP as string;
  if (!timestampPattern.test(timestamp)) {
    throw cognitoErrors.invalidParameter('TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy');
  }
  checkSecretHash(deps, client, responses.USERNAME as string, responses.SECRET_HASH);
  const challenge = await deps.store.takeChallenge(sha256(block));
  const now = deps.clock.now();
  if (
    !challenge ||
    challenge.clientId !== client.id ||
    challenge.challenge !== 'PASSWORD_VERIFIER' ||
    challenge.expiresAt <= now
  ) {
    throw cognitoErrors.notAuthorized('Invalid session for the user, session is expired.');
  }
  const pool = await deps.store.findPool(challenge.poolId);
  const user = pool && challenge.sub && (await deps.store.findUserBySub(pool.id, challenge.sub));
  if (!pool || !user) throw cognitoErrors.notAuthorized();
  if (isLocked(user, now)) throw cognitoErrors.notAuthorized('Password attempts exceeded');
  const stored = openVerifier(deps, user);
  const data = challenge.data;
  const key =
    stored &&
    stored.salt === data.salt &&
    sessionKey(
      data.a as string,
      {
        public: data.bPublic as string,
        secret: openSecret(deps.masterKey, data.bSecret as string, ephemeralContext),
      },
      stored.verifier,
    );
  const signature = responses.PASSWORD_CLAIM_SIGNATURE as string;
  if (!key || !claimMatches(key, pool.id, data.userId as string, block, timestamp, signature)) {
    await recordFailure(deps.store, user, now);
    throw cognitoErrors.notAuthorized();
  }
  if (user.failedAttempts > 0) await deps.store.updateUser(afterSuccess(user));
  return { pool, user: afterSuccess(user) };
}
