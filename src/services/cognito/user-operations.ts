/**
 * What a signed-in user does with their access token (no SigV4): GetUser, ChangePassword,
 * UpdateUserAttributes, GetUserAttributeVerificationCode, VerifyUserAttribute, DeleteUser,
 * GlobalSignOut; and RevokeToken with a refresh token.
 */

import { sendCode, useCode } from './codes.js';
import {
  attributeList,
  attributeMap,
  type CognitoCall,
  checkWritableAttributes,
  requireClient,
  str,
  throttle,
} from './cognito-call.js';
import { cognitoErrors } from './cognito-errors.js';
import { checkPassword } from './passwords.js';
import { passwordPolicy } from './sign-up-operations.js';
import { passwordFields } from './srp-verifiers.js';
import { afterSuccess, isLocked, recordFailure } from './throttles.js';
import { sha256, userOfAccessToken } from './tokens.js';

async function signedIn(call: CognitoCall) {
  const { user, session } = await userOfAccessToken(call.deps, call.input.AccessToken);
  const pool = await call.deps.store.findPool(user.poolId);
  if (!pool) throw cognitoErrors.notAuthorized('Invalid Access Token');
  return { user, session, pool };
}

export async function getUser(call: CognitoCall) {
  const { user } = await signedIn(call);
  return { Username: user.username, UserAttributes: attributeList(user) };
}

export async function changePassword(call: CognitoCall) {
  throttle(call, 'signIn');
  const { user, pool, session } = await signedIn(call);
  const previous = str(call.input, 'PreviousPassword');
  const proposed = str(call.input, 'ProposedPassword');
  const now = call.deps.clock.now();
  if (isLocked(user, now)) throw cognitoErrors.limitExceeded();
  if (!user.passwordHash || !(await call.deps.hasher.verify(user.passwordHash, previous))) {
    await recordFailure(call.deps.store, user, now);
    throw cognitoErrors.notAuthorized();
  }
  checkPassword(passwordPolicy(pool), proposed);
  await call.deps.store.updateUser({
    ...afterSuccess(user),
    ...(await passwordFields(call.deps, user, proposed)),
    modifiedAt: now,
  });
  // Other sign-ins end; the one that changed the password goes on.
  await call.deps.store.revokeUserSessions(pool.id, user.sub, now, session.id);
  return {};
}

export async function updateUserAttributes(call: CognitoCall) {
  const { user, pool } = await signedIn(call);
  const updates = attributeMap(call.input.UserAttributes, 'UserAttributes');
  checkWritableAttributes(updates);
  delete updates.email_verified;
  delete updates.phone_number_verified;
  const attributes = { ...user.attributes, ...updates };
  const emailChanged = updates.email !== undefined && updates.email !== user.attributes.email;
  if (emailChanged) attributes.email_verified = 'false';
  const next = { ...user, attributes, modifiedAt: call.deps.clock.now() };
  await call.deps.store.updateUser(next);
  const delivery = emailChanged
    ? [
        await sendCode(call.deps, pool, next, 'verify:email', {
          triggerSource: 'CustomMessage_UpdateUserAttribute',
        }),
      ]
    : [];
  return { CodeDeliveryDetailsList: delivery };
}

export async function getUserAttributeVerificationCode(call: CognitoCall) {
  throttle(call, 'send');
  const { user, pool } = await signedIn(call);
  const attribute = str(call.input, 'AttributeName');
  if (attribute !== 'email') throw cognitoErrors.unsupported(`Verifying ${attribute}`);
  if (!user.attributes.email) throw cognitoErrors.invalidParameter('The user has no email');
  return { CodeDeliveryDetails: await sendCode(call.deps, pool, user, 'verify:email') };
}

export async function verifyUserAttribute(call: CognitoCall) {
  const { user } = await signedIn(call);
  const attribute = str(call.input, 'AttributeName');
  const code = str(call.input, 'Code');
  if (attribute !== 'email') throw cognitoErrors.unsupported(`Verifying ${attribute}`);
  await useCode(call.deps, user, 'verify:email', code);
  await call.deps.store.updateUser({
    ...user,
    attributes: { ...user.attributes, email_verified: 'true' },
    modifiedAt: call.deps.clock.now(),
  });
  return {};
}

export async function deleteUser(call: CognitoCall) {
  const { user } = await signedIn(call);
  await call.deps.store.deleteUser(user.poolId, user.sub);
  return {};
}

export async function globalSignOut(call: CognitoCall) {
  const { user } = await signedIn(call);
  await call.deps.store.revokeUserSessions(user.poolId, user.sub, call.deps.clock.now());
  return {};
}

export async function revokeToken(call: CognitoCall) {
  const client = await requireClient(call);
  const token = str(call.input, 'Token');
  const session = await call.deps.store.findSessionByRefresh(sha256(token));
  // An unknown or already revoked token is not an error: the token is unusable either way.
  if (session && session.clientId !== client.id) {
    throw cognitoErrors.invalidParameter('The token was not issued to this client');
  }
  if (session) await call.deps.store.revokeSession(session.id, call.deps.clock.now());
  return {};
}
