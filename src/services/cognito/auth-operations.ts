/**
 * Sign-in: InitiateAuth (USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH), AdminInitiateAuth
 * (ADMIN_USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH) and RespondToAuthChallenge
 * (NEW_PASSWORD_REQUIRED). Password checks count per-IP attempts and per-user failures
 * (lockout); an unknown user costs the same hash and, with PreventUserExistenceErrors, gets the
 * same answer as a wrong password.
 */
import { randomBytes } from 'node:crypto';
import { postAuthentication, preAuthentication } from './auth-triggers.js';
import {
  attributeMap,
  authFlowAllowed,
  type CognitoCall,
  checkSecretHash,
  checkWritableAttributes,
  findUser,
  preventsUserExistenceErrors,
  requireClient,
  requirePool,
  str,
  throttle,
} from './cognito-call.js';
import { cognitoErrors } from './cognito-errors.js';
import type { ClientRow, PoolRow, UserRow } from './cognito-store.js';
import { checkPassword } from './passwords.js';
import { passwordPolicy } from './sign-up-operations.js';
import { answerPasswordVerifier, startSrp } from './srp-operations.js';
import { passwordFields, sealVerifier } from './srp-verifiers.js';
import { afterSuccess, isLocked, recordFailure } from './throttles.js';
import { refreshSession, sha256, startSession } from './tokens.js';

/** How long a challenge's Session answers (Cognito's default AuthSessionValidity, 3 min). */
const challengeMs = 3 * 60_000;

function authParameters(call: CognitoCall): Record<string, string> {
  const params = call.input.AuthParameters;
  if (typeof params !== 'object' || params === null) {
    throw cognitoErrors.invalidParameter('Missing required parameter AuthParameters');
  }
  return params as Record<string, string>;
}

function flowOf(call: CognitoCall): string {
  return str(call.input, 'AuthFlow');
}

export async function initiateAuth(call: CognitoCall) {
  throttle(call, 'signIn');
  const client = await requireClient(call);
  const pool = await call.deps.store.findPool(client.poolId);
  if (!pool) throw cognitoErrors.clientNotFound(client.id);
  const flow = flowOf(call);
  const params = authParameters(call);
  if (flow === 'USER_PASSWORD_AUTH') {
    if (!authFlowAllowed(client, 'USER_PASSWORD_AUTH')) {
      throw cognitoErrors.invalidParameter('USER_PASSWORD_AUTH flow not enabled for this client');
    }
    return passwordSignIn(call, pool, client, params);
  }
  if (flow === 'REFRESH_TOKEN_AUTH' || flow === 'REFRESH_TOKEN')
    return refresh(call, client, params);
  if (flow === 'USER_SRP_AUTH') {
    if (!authFlowAllowed(client, 'USER_SRP_AUTH')) {
      throw cognitoErrors.invalidParameter('USER_SRP_AUTH flow not enabled for this client');
    }
    return startSrp(call, pool, client, params);
  }
  throw cognitoErrors.invalidParameter(`Unsupported AuthFlow ${flow}`);
}

export async function adminInitiateAuth(call: CognitoCall) {
  const pool = await requirePool(call);
  const client = await requireClient(call, pool.id);
  const flow = flowOf(call);
  const params = authParameters(call);
  if (flow === 'ADMIN_USER_PASSWORD_AUTH' || flow === 'ADMIN_NO_SRP_AUTH') {
    if (!authFlowAllowed(client, 'ADMIN_USER_PASSWORD_AUTH')) {
      throw cognitoErrors.invalidParameter('Auth flow not enabled for this client');
    }
    return passwordSignIn(call, pool, client, params);
  }
  if (flow === 'REFRESH_TOKEN_AUTH' || flow === 'REFRESH_TOKEN')
    return refresh(call, client, params);
  throw cognitoErrors.invalidParameter(`Unsupported AuthFlow ${flow}`);
}

async function refresh(call: CognitoCall, client: ClientRow, params: Record<string, string>) {
  if (!authFlowAllowed(client, 'REFRESH_TOKEN_AUTH')) {
    throw cognitoErrors.invalidParameter('Refresh Token flow not enabled for this client');
  }
  const token = params.REFRESH_TOKEN;
  if (!token) throw cognitoErrors.invalidParameter('Missing required parameter REFRESH_TOKEN');
  const { result } = await refreshSession(call.deps, client, token);
  return { ChallengeParameters: {}, AuthenticationResult: result };
}

async function passwordSignIn(
  call: CognitoCall,
  pool: PoolRow,
  client: ClientRow,
  params: Record<string, string>,
) {
  const name = params.USERNAME;
  const password = params.PASSWORD;
  if (!name) throw cognitoErrors.invalidParameter('Missing required parameter USERNAME');
  if (!password) throw cognitoErrors.invalidParameter('Missing required parameter PASSWORD');
  checkSecretHash(call.deps, client, name, params.SECRET_HASH);
  if (call.deps.triggers.has(pool, 'PreAuthentication')) {
    const found = await findUser(call.deps, pool, name);
    if (found) await preAuthentication(call, pool, client, found);
  }
  const user = await checkUserPassword(call, pool, client, name, password);
  return afterPassword(call, pool, client, user);
}

/**
 * The user whose password this is; NotAuthorizedException (or UserNotFoundException for LEGACY
 * clients) otherwise. Locked users are refused without a check.
 */
export async function checkUserPassword(
  call: CognitoCall,
  pool: PoolRow,
  client: ClientRow | undefined,
  name: string,
  password: string,
): Promise<UserRow> {
  const { deps } = call;
  const user = await findUser(deps, pool, name);
  if (!user?.passwordHash) {
    await deps.hasher.verifyNobody(password);
    if (client && !preventsUserExistenceErrors(client)) throw cognitoErrors.userNotFound();
    throw cognitoErrors.notAuthorized();
  }
  const now = deps.clock.now();
  if (isLocked(user, now)) throw cognitoErrors.notAuthorized('Password attempts exceeded');
  if (!(await deps.hasher.verify(user.passwordHash, password))) {
    await recordFailure(deps.store, user, now);
    throw cognitoErrors.notAuthorized();
  }
  // A password set before SRP verifiers existed gets one now, so USER_SRP_AUTH works next time.
  const current = user.srpVerifier
    ? user
    : { ...user, srpVerifier: sealVerifier(deps, user, password) };
  if (current.failedAttempts > 0 || current !== user)
    await deps.store.updateUser(afterSuccess(current));
  return afterSuccess(current);
}

export async function afterPassword(
  call: CognitoCall,
  pool: PoolRow,
  client: ClientRow,
  user: UserRow,
) {
  if (!user.enabled) throw cognitoErrors.notAuthorized('User is disabled.');
  if (user.status === 'UNCONFIRMED') throw cognitoErrors.userNotConfirmed();
  if (user.status === 'RESET_REQUIRED') {
    throw cognitoErrors.passwordResetRequired();
  }
  if (user.status === 'FORCE_CHANGE_PASSWORD') {
    const validityDays = passwordPolicy(pool).TemporaryPasswordValidityDays;
    if (call.deps.clock.now() - user.modifiedAt > validityDays * 86_400_000) {
      throw cognitoErrors.notAuthorized(
        'Temporary password has expired and must be reset by an administrator.',
      );
    }
    const session = randomBytes(48).toString('base64url');
    await call.deps.store.putChallenge(sha256(session), {
      poolId: pool.id,
      clientId: client.id,
      sub: user.sub,
      challenge: 'NEW_PASSWORD_REQUIRED',
      data: {},
      expiresAt: call.deps.clock.now() + challengeMs,
    });
    const { email_verified: _v, ...shown } = user.attributes;
    return {
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      Session: session,
      ChallengeParameters: {
        USER_ID_FOR_SRP: user.username,
        requiredAttributes: '[]',
        userAttributes: JSON.stringify(shown),
      },
    };
  }
  await postAuthentication(call, pool, client, user);
  return {
    ChallengeParameters: {},
    AuthenticationResult: await startSession(call.deps, client, user),
  };
}

export async function respondToAuthChallenge(call: CognitoCall) {
  throttle(call, 'signIn');
  const client = await requireClient(call);
  return answerChallenge(call, client);
}

export async function adminRespondToAuthChallenge(call: CognitoCall) {
  const pool = await requirePool(call);
  return answerChallenge(call, await requireClient(call, pool.id));
}

async function answerChallenge(call: CognitoCall, client: ClientRow) {
  const name = str(call.input, 'ChallengeName');
  const responses = (call.input.ChallengeResponses ?? {}) as Record<string, string>;
  if (name === 'PASSWORD_VERIFIER') {
    const { pool, user } = await answerPasswordVerifier(call, client, responses);
    return afterPassword(call, pool, client, user);
  }
  if (name === 'DEVICE_SRP_AUTH' || name === 'DEVICE_PASSWORD_VERIFIER') {
    throw cognitoErrors.unsupported(
      `${name} (device tracking; sign in without remembered devices)`,
    );
  }
  const session = str(call.input, 'Session');
  const challenge = await call.deps.store.takeChallenge(sha256(session));
  const invalid = () =>
    cognitoErrors.notAuthorized('Invalid session for the user, session is expired.');
  if (
    !challenge ||
    challenge.clientId !== client.id ||
    challenge.challenge !== name ||
    challenge.expiresAt <= call.deps.clock.now()
  ) {
    throw invalid();
  }
  const pool = await call.deps.store.findPool(challenge.poolId);
  const user = pool && (await call.deps.store.findUserBySub(pool.id, challenge.sub));
  if (!pool || !user) throw invalid();
  if (responses.USERNAME !== undefined)
    checkSecretHash(call.deps, client, responses.USERNAME, responses.SECRET_HASH);
  if (name !== 'NEW_PASSWORD_REQUIRED') throw cognitoErrors.unsupported(`ChallengeName ${name}`);
  const password = responses.NEW_PASSWORD;
  if (!password) throw cognitoErrors.invalidParameter('Missing required parameter NEW_PASSWORD');
  checkPassword(passwordPolicy(pool), password);
  const updates: Record<string, string> = {};
  for (const [key, value] of Object.entries(responses)) {
    if (key.startsWith('userAttributes.')) updates[key.slice('userAttributes.'.length)] = value;
  }
  checkWritableAttributes(
    attributeMap(
      Object.entries(updates).map(([Name, Value]) => ({ Name, Value })),
      'userAttributes',
    ),
  );
  const now = call.deps.clock.now();
  const next: UserRow = {
    ...user,
    status: 'CONFIRMED',
    ...(await passwordFields(call.deps, user, password)),
    attributes: { ...user.attributes, ...updates },
    modifiedAt: now,
  };
  await call.deps.store.updateUser(next);
  await postAuthentication(call, pool, client, next);
  return {
    ChallengeParameters: {},
    AuthenticationResult: await startSession(
      call.deps,
      client,
      next,
      'TokenGeneration_NewPasswordChallenge',
    ),
  };
}
