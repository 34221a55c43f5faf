/** Admin* user operations and ListUsers (SigV4 callers only). */
import { randomInt, randomUUID } from 'node:crypto';
import { customMessage, deliver } from './codes.js';
import {
  attributeList,
  attributeMap,
  type CognitoCall,
  checkWritableAttributes,
  epochSeconds,
  optStr,
  requirePool,
  requireUser,
  str,
  usernameKey,
} from './cognito-call.js';
import { cognitoErrors } from './cognito-errors.js';
import type { PoolRow, UserRow } from './cognito-store.js';
import { checkPassword, type PasswordPolicy } from './passwords.js';
import { confirmed, passwordPolicy, postConfirmation, preSignUp } from './sign-up-operations.js';
import { passwordFields } from './srp-verifiers.js';

function userOut(user: UserRow, attributesField: 'Attributes' | 'UserAttributes') {
  return {
    Username: user.username,
    [attributesField]: attributeList(user),
    UserCreateDate: epochSeconds(user.createdAt),
    UserLastModifiedDate: epochSeconds(user.modifiedAt),
    Enabled: user.enabled,
    UserStatus: user.status,
  };
}

/** A temporary password that meets the pool's policy. */
function temporaryPassword(policy: PasswordPolicy): string {
  const sets = ['abcdefghijkmnopqrstuvwxyz', 'ABCDEFGHJKLMNPQRSTUVWXYZ', '23456789', '^$*.!@#%&'];
  const length = Math.max(12, policy.MinimumLength);
  const chars = sets.map((s) => s[randomInt(s.length)]);
  const all = sets.join('');
  while (chars.length < length) chars.push(all[randomInt(all.length)]);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

export async function adminCreateUser(call: CognitoCall) {
  const pool = await requirePool(call);
  const name = str(call.input, 'Username');
  const attributes = attributeMap(call.input.UserAttributes, 'UserAttributes');
  checkWritableAttributes(attributes);
  const policy = passwordPolicy(pool);
  const given = optStr(call.input, 'TemporaryPassword');
  if (given !== undefined) checkPassword(policy, given);
  const temporary = given ?? temporaryPassword(policy);
  const action = optStr(call.input, 'MessageAction');
  if (action === 'RESEND') throw cognitoErrors.unsupported('MessageAction RESEND');
  const emailAsUsername = ((pool.config.UsernameAttributes as string[] | undefined) ?? []).includes(
    'email',
  );
  if (emailAsUsername) {
    if (!name.includes('@')) throw cognitoErrors.invalidParameter('Username should be an email.');
    attributes.email = name;
    if ((await call.deps.store.findUsersByEmail(pool.id, name)).length > 0) {
      throw cognitoErrors.usernameExists();
    }
  }
  const sub = randomUUID();
  const username = emailAsUsername ? sub : name;
  if (await call.deps.store.findUser(pool.id, usernameKey(pool, username))) {
    throw cognitoErrors.usernameExists();
  }
  // Only its refusal counts: an admin-made user always starts with a temporary password.
  await preSignUp(call, pool, 'PreSignUp_AdminCreateUser', username, attributes);
  const now = call.deps.clock.now();
  const user: UserRow = {
    poolId: pool.id,
    usernameKey: usernameKey(pool, username),
    username,
    sub,
    status: 'FORCE_CHANGE_PASSWORD',
    enabled: true,
    ...(await passwordFields(call.deps, { poolId: pool.id, username, sub }, temporary)),
    attributes,
    failedAttempts: 0,
    createdAt: now,
    modifiedAt: now,
  };
  if (!(await call.deps.store.insertUser(user))) throw cognitoErrors.usernameExists();
  if (action !== 'SUPPRESS' && (attributes.email || attributes.phone_number)) {
    const custom = await customMessage(
      call.deps,
      pool,
      user,
      { triggerSource: 'CustomMessage_AdminCreateUser' },
      {
        message: 'Your username is {username} and temporary password is {####}.',
        subject: 'Your temporary password',
      },
      '{username}',
    );
    await deliver(
      call.deps,
      pool,
      user,
      'temporary-password',
      custom.message.replaceAll('{username}', name).replaceAll('{####}', temporary),
      custom.subject,
    );
  }
  return { User: userOut(user, 'Attributes') };
}

export async function adminGetUser(call: CognitoCall) {
  const pool = await requirePool(call);
  return userOut(await requireUser(call, pool), 'UserAttributes');
}

export async function adminUpdateUserAttributes(call: CognitoCall) {
  const pool = await requirePool(call);
  const user = await requireUser(call, pool);
  const updates = attributeMap(call.input.UserAttributes, 'UserAttributes');
  checkWritableAttributes(updates);
  await call.deps.store.updateUser({
    ...user,
    attributes: { ...user.attributes, ...updates },
    modifiedAt: call.deps.clock.now(),
  });
  return {};
}

export async function adminDeleteUser(call: CognitoCall) {
  const pool = await requirePool(call);
  const user = await requireUser(call, pool);
  await call.deps.store.deleteUser(pool.id, user.sub);
  return {};
}

async function setEnabled(call: CognitoCall, enabled: boolean) {
  const pool = await requirePool(call);
  const user = await requireUser(call, pool);
  const now = call.deps.clock.now();
  await call.deps.store.updateUser({ ...user, enabled, modifiedAt: now });
  if (!enabled) await call.deps.store.revokeUserSessions(pool.id, user.sub, now);
  return {};
}

export const adminDisableUser = (call: CognitoCall) => setEnabled(call, false);
export const adminEnableUser = (call: CognitoCall) => setEnabled(call, true);

export async function adminSetUserPassword(call: CognitoCall) {
  const pool = await requirePool(call);
  const user = await requireUser(call, pool);
  const password = str(call.input, 'Password');
  checkPassword(passwordPolicy(pool), password);
  const permanent = call.input.Permanent === true;
  const now = call.deps.clock.now();
  await call.deps.store.updateUser({
    ...user,
    ...(await passwordFields(call.deps, user, password)),
    status: permanent ? 'CONFIRMED' : 'FORCE_CHANGE_PASSWORD',
    failedAttempts: 0,
    modifiedAt: now,
  });
  await call.deps.store.revokeUserSessions(pool.id, user.sub, now);
  return {};
}

export async function adminConfirmSignUp(call: CognitoCall) {
  const pool = await requirePool(call);
  const user = await requireUser(call, pool);
  if (user.status !== 'UNCONFIRMED') {
    throw cognitoErrors.notAuthorized(`User cannot be confirmed. Current status is ${user.status}`);
  }
  const done = confirmed(user, call.deps.clock.now());
  await call.deps.store.updateUser(done);
  await postConfirmation(call, pool, done, 'PostConfirmation_ConfirmSignUp');
  return {};
}

export async function adminUserGlobalSignOut(call: CognitoCall) {
  const pool = await requirePool(call);
  const user = await requireUser(call, pool);
  await call.deps.store.revokeUserSessions(pool.id, user.sub, call.deps.clock.now());
  return {};
}

export async function adminAddUserToGroup(call: CognitoCall) {
  const pool = await requirePool(call);
  const user = await requireUser(call, pool);
  const group = str(call.input, 'GroupName');
  if (!(await call.deps.store.listGroups(pool.id)).some((g) => g.name === group)) {
    throw cognitoErrors.groupNotFound();
  }
  await call.deps.store.addMember(pool.id, group, user.sub);
  return {};
}

export async function adminListGroupsForUser(call: CognitoCall) {
  const pool = await requirePool(call);
  const user = await requireUser(call, pool);
  const names = new Set(await call.deps.store.groupsOf(pool.id, user.sub));
  const groups = (await call.deps.store.listGroups(pool.id)).filter((g) => names.has(g.name));
  return {
    Groups: groups.map((g) => ({
      GroupName: g.name,
      UserPoolId: pool.id,
      CreationDate: epochSeconds(g.createdAt),
      LastModifiedDate: epochSeconds(g.createdAt),
    })),
  };
}

/** ListUsers `Filter`: `attr = "value"` (exact) or `attr ^= "value"` (prefix), as Cognito. */
export function parseUserFilter(filter: string): { name: string; prefix: boolean; value: string } {
  const m = /^\s*([\w:]+)\s*(\^?=)\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(filter);
  if (!m) throw cognitoErrors.invalidParameter('Error while parsing filter.');
  const name = m[1]!;
  const searchable = new Set([
    'username',
    'email',
    'phone_number',
    'name',
    'given_name',
    'family_name',
    'preferred_username',
    'cognito:user_status',
    'status',
    'sub',
  ]);
  if (!searchable.has(name)) {
    throw cognitoErrors.invalidParameter(`Invalid search attribute: ${name}`);
  }
  return { name, prefix: m[2] === '^=', value: m[3]!.replace(/\\(.)/g, '$1') };
}

function filterValue(user: UserRow, name: string): string | undefined {
  if (name === 'username') return user.username;
  if (name === 'sub') return user.sub;
  if (name === 'cognito:user_status') return user.status;
  if (name === 'status') return user.enabled ? 'Enabled' : 'Disabled';
  return user.attributes[name];
}

export async function listUsers(call: CognitoCall) {
  const pool: PoolRow = await requirePool(call);
  const limit = call.input.Limit === undefined ? 60 : Number(call.input.Limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 60) {
    throw cognitoErrors.invalidParameter('Limit must be between 1 and 60');
  }
  const filterText = optStr(call.input, 'Filter');
  const filter = filterText ? parseUserFilter(filterText) : undefined;
  let users = await call.deps.store.listUsers(pool.id);
  if (filter) {
    users = users.filter((u) => {
      const value = filterValue(u, filter.name);
      return (
        value !== undefined &&
        (filter.prefix ? value.startsWith(filter.value) : value === filter.value)
      );
    });
  }
  const token = optStr(call.input, 'PaginationToken');
  if (token) users = users.filter((u) => u.usernameKey > token);
  const page = users.slice(0, limit);
  return {
    Users: page.map((u) => userOut(u, 'Attributes')),
    ...(users.length > limit ? { PaginationToken: page[page.length - 1]!.usernameKey } : {}),
  };
}
