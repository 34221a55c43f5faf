/**
 * Self-service registration and recovery (called without SigV4, with a client id): SignUp,
 * ConfirmSignUp, ResendConfirmationCode, ForgotPassword, ConfirmForgotPassword. With
 * PreventUserExistenceErrors (the default), answers about unknown users look like answers
 * about real ones.
 */
import { randomUUID } from 'node:crypto';
import { maskedDelivery, sendCode, useCode } from './codes.js';
import {
  attributeMap,
  type CognitoCall,
  checkSecretHash,
  checkWritableAttributes,
  findUser,
  preventsUserExistenceErrors,
  requireClient,
  str,
  throttle,
  usernameKey,
} from './cognito-call.js';
import { cognitoErrors } from './cognito-errors.js';
import type { PoolRow, UserRow } from './cognito-store.js';
import { checkPassword, type PasswordPolicy } from './passwords.js';
import { passwordFields } from './srp-verifiers.js';

export function passwordPolicy(pool: PoolRow): PasswordPolicy {
  return (pool.config.Policies as { PasswordPolicy: PasswordPolicy }).PasswordPolicy;
}

async function clientAndPool(call: CognitoCall) {
  const client = await requireClient(call);
  const pool = await call.deps.store.findPool(client.poolId);
  if (!pool) throw cognitoErrors.clientNotFound(client.id);
  return { client, pool };
}

export async function signUp(call: CognitoCall) {
  throttle(call, 'send');
  const { client, pool } = await clientAndPool(call);
  const name = str(call.input, 'Username');
  const password = str(call.input, 'Password');
  checkSecretHash(call.deps, client, name, call.input.SecretHash);
  if (name.length > 128) throw cognitoErrors.invalidParameter('Username is too long');
  const attributes = attributeMap(call.input.UserAttributes, 'UserAttributes');
  checkWritableAttributes(attributes);
  const emailAsUsername = ((pool.config.UsernameAttributes as string[] | undefined) ?? []).includes(
    'email',
  );
  if (emailAsUsername) {
    if (!/^[^@\s]+@[^@\s]+$/.test(name)) {
      throw cognitoErrors.invalidParameter('Username should be an email.');
    }
    attributes.email = name;
    if ((await call.deps.store.findUsersByEmail(pool.id, name)).length > 0) {
      throw cognitoErrors.aliasExists();
    }
  }
  checkPassword(passwordPolicy(pool), password);
  if (attributes.email !== undefined) attributes.email_verified = 'false';
  const sub = randomUUID();
  const username = emailAsUsername ? sub : name;
  const now = call.deps.clock.now();
  const user: UserRow = {
    poolId: pool.id,
    usernameKey: usernameKey(pool, username),
    username,
    sub,
    status: 'UNCONFIRMED',
    enabled: true,
    ...(await passwordFields(call.deps, { poolId: pool.id, username, sub }, password)),
    attributes,
    failedAttempts: 0,
    createdAt: now,
    modifiedAt: now,
  };
  if (!(await call.deps.store.insertUser(user))) throw cognitoErrors.usernameExists();
  const autoVerified = (pool.config.AutoVerifiedAttributes as string[] | undefined) ?? [];
  const delivery =
    autoVerified.length > 0 && (attributes.email || attributes.phone_number)
      ? await sendCode(call.deps, pool, user, 'signup')
      : undefined;
  return {
    UserConfirmed: false,
    UserSub: sub,
    ...(delivery ? { CodeDeliveryDetails: delivery } : {}),
  };
}

export async function confirmSignUp(call: CognitoCall) {
  throttle(call, 'send');
  const { client, pool } = await clientAndPool(call);
  const name = str(call.input, 'Username');
  const code = str(call.input, 'ConfirmationCode');
  checkSecretHash(call.deps, client, name, call.input.SecretHash);
  const user = await findUser(call.deps, pool, name);
  if (!user) {
    throw preventsUserExistenceErrors(client)
      ? cognitoErrors.codeMismatch()
      : cognitoErrors.userNotFound();
  }
  if (user.status !== 'UNCONFIRMED') {
    throw cognitoErrors.notAuthorized('User cannot be confirmed. Current status is CONFIRMED');
  }
  await useCode(call.deps, user, 'signup', code);
  await call.deps.store.updateUser(confirmed(user, call.deps.clock.now()));
  return {};
}

/** The user after confirmation: its delivery address counts as verified. */
export function confirmed(user: UserRow, now: number): UserRow {
  const attributes = { ...user.attributes };
  if (attributes.email !== undefined) attributes.email_verified = 'true';
  return { ...user, status: 'CONFIRMED', attributes, modifiedAt: now };
}

export async function resendConfirmationCode(call: CognitoCall) {
  throttle(call, 'send');
  const { client, pool } = await clientAndPool(call);
  const name = str(call.input, 'Username');
  checkSecretHash(call.deps, client, name, call.input.SecretHash);
  const user = await findUser(call.deps, pool, name);
  if (user?.status !== 'UNCONFIRMED') {
    if (!preventsUserExistenceErrors(client)) {
      throw user
        ? cognitoErrors.invalidParameter('User is already confirmed.')
        : cognitoErrors.userNotFound();
    }
    return { CodeDeliveryDetails: fakeDelivery(name) };
  }
  return { CodeDeliveryDetails: await sendCode(call.deps, pool, user, 'signup') };
}

/** What an unknown user's "delivery" looks like, so it matches a real one. */
function fakeDelivery(name: string) {
  return maskedDelivery(name.includes('@') ? name : `${name}@example.com`, 'email');
}

export async function forgotPassword(call: CognitoCall) {
  throttle(call, 'send');
  const { client, pool } = await clientAndPool(call);
  const name = str(call.input, 'Username');
  checkSecretHash(call.deps, client, name, call.input.SecretHash);
  const user = await findUser(call.deps, pool, name);
  if (!user?.enabled) {
    if (!preventsUserExistenceErrors(client)) throw cognitoErrors.userNotFound();
    return { CodeDeliveryDetails: fakeDelivery(name) };
  }
  return { CodeDeliveryDetails: await sendCode(call.deps, pool, user, 'reset') };
}

export async function confirmForgotPassword(call: CognitoCall) {
  throttle(call, 'send');
  const { client, pool } = await clientAndPool(call);
  const name = str(call.input, 'Username');
  const code = str(call.input, 'ConfirmationCode');
  const password = str(call.input, 'Password');
  checkSecretHash(call.deps, client, name, call.input.SecretHash);
  const user = await findUser(call.deps, pool, name);
  if (!user) {
    throw preventsUserExistenceErrors(client)
      ? cognitoErrors.codeMismatch()
      : cognitoErrors.userNotFound();
  }
  checkPassword(passwordPolicy(pool), password);
  await useCode(call.deps, user, 'reset', code);
  const now = call.deps.clock.now();
  const attributes = { ...user.attributes };
  // The code reached the user's address, so it is verified, as Cognito does.
  if (attributes.email !== undefined) attributes.email_verified = 'true';
  await call.deps.store.updateUser({
    ...user,
    status: user.status === 'UNCONFIRMED' ? 'UNCONFIRMED' : 'CONFIRMED',
    ...(await passwordFields(call.deps, user, password)),
    attributes,
    failedAttempts: 0,
    modifiedAt: now,
  });
  // A reset ends every sign-in (Firebase's and the security defaults' behaviour).
  await call.deps.store.revokeUserSessions(pool.id, user.sub, now);
  return {};
}
