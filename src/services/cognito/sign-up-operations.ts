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
import { stringMap, triggerAttributes } from './triggers.js';

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
  const sub = randomUUID();
  const username = emailAsUsername ? sub : name;
  if (await call.deps.store.findUser(pool.id, usernameKey(pool, username))) {
    throw cognitoErrors.usernameExists();
  }
  // The trigger sees the attributes as given (no email_verified yet), as Cognito sends them.
  const answer = await preSignUp(call, pool, 'PreSignUp_SignUp', username, attributes, client.id);
  const autoConfirm = answer?.autoConfirmUser === true;
  if (attributes.email !== undefined) attributes.email_verified = 'false';
  if (answer?.autoVerifyEmail === true && attributes.email !== undefined) {
    attributes.email_verified = 'true';
  }
  if (answer?.autoVerifyPhone === true && attributes.phone_number !== undefined) {
    attributes.phone_number_verified = 'true';
  }
  const now = call.deps.clock.now();
  const user: UserRow = {
    poolId: pool.id,
    usernameKey: usernameKey(pool, username),
    username,
    sub,
    status: autoConfirm ? 'CONFIRMED' : 'UNCONFIRMED',
    enabled: true,
    ...(await passwordFields(call.deps, { poolId: pool.id, username, sub }, password)),
    attributes,
    failedAttempts: 0,
    createdAt: now,
    modifiedAt: now,
  };
  if (!(await call.deps.store.insertUser(user))) throw cognitoErrors.usernameExists();
  const autoVerified = (pool.config.AutoVerifiedAttributes as string[] | undefined) ?? [];
  // An auto-confirmed user gets no code (and, as on AWS, no PostConfirmation call).
  const delivery =
    !autoConfirm && autoVerified.length > 0 && (attributes.email || attributes.phone_number)
      ? await sendCode(call.deps, pool, user, 'signup', {
          triggerSource: 'CustomMessage_SignUp',
          clientId: client.id,
          ...metadataOf(call),
        })
      : undefined;
  return {
    UserConfirmed: autoConfirm,
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
  const done = confirmed(user, call.deps.clock.now());
  await call.deps.store.updateUser(done);
  await postConfirmation(call, pool, done, 'PostConfirmation_ConfirmSignUp', client.id);
  return {};
}

function metadataOf(call: CognitoCall): { clientMetadata?: Record<string, string> } {
  const metadata = stringMap(call.input.ClientMetadata);
  return metadata ? { clientMetadata: metadata } : {};
}

/**
 * The pool's PreSignUp trigger, before the user exists: its error refuses the sign-up
 * (`UserLambdaValidationException: PreSignUp failed with error <message>.`); its response may
 * auto-confirm the user and mark the email or phone verified.
 */
export async function preSignUp(
  call: CognitoCall,
  pool: PoolRow,
  triggerSource: 'PreSignUp_SignUp' | 'PreSignUp_AdminCreateUser',
  userName: string,
  attributes: Record<string, string>,
  clientId?: string,
): Promise<Record<string, unknown> | undefined> {
  const validationData = stringMap(call.input.ValidationData);
  return call.deps.triggers.run(pool, 'PreSignUp', {
    triggerSource,
    userName,
    ...(clientId ? { clientId } : {}),
    request: {
      userAttributes: { ...attributes },
      validationData: validationData ?? null,
      ...metadataOf(call),
    },
    response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
  });
}

/**
 * The pool's PostConfirmation trigger, after the change is stored: as on AWS, its error is the
 * caller's answer but the user stays confirmed (or the new password set).
 */
export async function postConfirmation(
  call: CognitoCall,
  pool: PoolRow,
  user: UserRow,
  triggerSource: 'PostConfirmation_ConfirmSignUp' | 'PostConfirmation_ConfirmForgotPassword',
  clientId?: string,
): Promise<void> {
  await call.deps.triggers.run(pool, 'PostConfirmation', {
    triggerSource,
    userName: user.username,
    ...(clientId ? { clientId } : {}),
    request: { userAttributes: triggerAttributes(user), ...metadataOf(call) },
  });
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
  return {
    CodeDeliveryDetails: await sendCode(call.deps, pool, user, 'signup', {
      triggerSource: 'CustomMessage_ResendCode',
      clientId: client.id,
      ...metadataOf(call),
    }),
  };
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
  return {
    CodeDeliveryDetails: await sendCode(call.deps, pool, user, 'reset', {
      triggerSource: 'CustomMessage_ForgotPassword',
      clientId: client.id,
      ...metadataOf(call),
    }),
  };
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
  const next: UserRow = {
    ...user,
    status: user.status === 'UNCONFIRMED' ? 'UNCONFIRMED' : 'CONFIRMED',
    ...(await passwordFields(call.deps, user, password)),
    attributes,
    failedAttempts: 0,
    modifiedAt: now,
  };
  await call.deps.store.updateUser(next);
  // A reset ends every sign-in (Firebase's and the security defaults' behaviour).
  await call.deps.store.revokeUserSessions(pool.id, user.sub, now);
  await postConfirmation(call, pool, next, 'PostConfirmation_ConfirmForgotPassword', client.id);
  return {};
}
