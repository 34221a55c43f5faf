/** User pools, app clients and groups: the administration operations (SigV4 callers only). */
import { randomBytes } from 'node:crypto';
import { openSecret, sealSecret } from '../../platform/auth/secret-box.js';
import {
  type CognitoCall,
  epochSeconds,
  optStr,
  poolArn,
  randomString,
  requireClient,
  requirePool,
  str,
} from './cognito-call.js';
import { cognitoErrors } from './cognito-errors.js';
import type { ClientRow, PoolRow } from './cognito-store.js';
import { defaultPasswordPolicy } from './passwords.js';
import { isSupportedTrigger, unsupportedTriggers } from './triggers.js';

const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const lowerAlnum = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Settings of CreateUserPool kept as given (and echoed by DescribeUserPool). */
const poolSettings = [
  'Policies',
  'AutoVerifiedAttributes',
  'AliasAttributes',
  'UsernameAttributes',
  'UsernameConfiguration',
  'EmailVerificationMessage',
  'EmailVerificationSubject',
  'VerificationMessageTemplate',
  'MfaConfiguration',
  'AdminCreateUserConfig',
  'Schema',
  'AccountRecoverySetting',
  'UserPoolTags',
  'LambdaConfig',
  'EmailConfiguration',
  'DeletionProtection',
] as const;

export function poolConfigOf(input: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const key of poolSettings) if (input[key] !== undefined) config[key] = input[key];
  const mfa = config.MfaConfiguration;
  if (mfa !== undefined && mfa !== 'OFF')
    throw cognitoErrors.unsupported(`MfaConfiguration ${String(mfa)}`);
  const usernameAttrs = (config.UsernameAttributes as unknown[] | undefined) ?? [];
  if (usernameAttrs.some((a) => a !== 'email' && a !== 'phone_number')) {
    throw cognitoErrors.invalidParameter('UsernameAttributes may be email and phone_number only');
  }
  const policy =
    (config.Policies as { PasswordPolicy?: Record<string, unknown> } | undefined)?.PasswordPolicy ??
    {};
  const min = policy.MinimumLength;
  if (min !== undefined && (typeof min !== 'number' || min < 6 || min > 99)) {
    throw cognitoErrors.invalidParameter('PasswordPolicy.MinimumLength must be between 6 and 99');
  }
  config.Policies = { PasswordPolicy: { ...defaultPasswordPolicy, ...policy } };
  checkLambdaConfig(config.LambdaConfig);
  return config;
}

/** Triggers name a function (name or ARN); those Nimbus does not call are refused by name. */
function checkLambdaConfig(value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw cognitoErrors.invalidParameter('LambdaConfig must be a map of trigger to function ARN');
  }
  for (const [trigger, fn] of Object.entries(value)) {
    if (!isSupportedTrigger(trigger)) {
      throw cognitoErrors.unsupported(
        unsupportedTriggers.includes(trigger)
          ? `The ${trigger} trigger`
          : `LambdaConfig key ${trigger.slice(0, 64)}`,
      );
    }
    if (typeof fn !== 'string' || fn === '' || fn.length > 2048) {
      throw cognitoErrors.invalidParameter(`LambdaConfig.${trigger} must be a function ARN`);
    }
  }
}

export async function createUserPool(call: CognitoCall) {
  const name = str(call.input, 'PoolName');
  if (name.length > 128 || !/^[\w\s+=,.@-]+$/.test(name)) {
    throw cognitoErrors.invalidParameter(`Invalid PoolName ${JSON.stringify(name.slice(0, 140))}`);
  }
  const now = call.deps.clock.now();
  const pool: PoolRow = {
    id: `${call.deps.region}_${randomString(alnum, 9)}`,
    name,
    config: poolConfigOf(call.input),
    createdAt: now,
    modifiedAt: now,
  };
  await call.deps.store.insertPool(pool);
  await call.deps.keys.rotate(pool.id);
  return { UserPool: await describePool(call, pool) };
}

async function describePool(call: CognitoCall, pool: PoolRow) {
  const users = await call.deps.store.listUsers(pool.id);
  return {
    Id: pool.id,
    Name: pool.name,
    Arn: poolArn(call.deps.region, pool.id),
    ...pool.config,
    MfaConfiguration: 'OFF',
    LambdaConfig: pool.config.LambdaConfig ?? {},
    CreationDate: epochSeconds(pool.createdAt),
    LastModifiedDate: epochSeconds(pool.modifiedAt),
    EstimatedNumberOfUsers: users.length,
  };
}

/**
 * UpdateUserPool: as on AWS, the settings given replace the pool's, and a setting left out goes
 * back to its default (so give LambdaConfig again to keep the triggers). The name stays.
 */
export async function updateUserPool(call: CognitoCall) {
  const pool = await requirePool(call);
  const { UserPoolId: _id, ...input } = call.input;
  await call.deps.store.updatePool(pool.id, pool.name, poolConfigOf(input), call.deps.clock.now());
  return {};
}

export async function describeUserPool(call: CognitoCall) {
  return { UserPool: await describePool(call, await requirePool(call)) };
}

export async function listUserPools(call: CognitoCall) {
  const max = call.input.MaxResults;
  if (typeof max !== 'number' || max < 1 || max > 60) {
    throw cognitoErrors.invalidParameter('MaxResults must be a number between 1 and 60');
  }
  const pools = await call.deps.store.listPools();
  const after = optStr(call.input, 'NextToken');
  const start = after ? pools.findIndex((p) => p.id > after) : 0;
  const page = start < 0 ? [] : pools.slice(start, start + max);
  const next = start >= 0 && start + max < pools.length ? page[page.length - 1]?.id : undefined;
  return {
    UserPools: page.map((p) => ({
      Id: p.id,
      Name: p.name,
      LambdaConfig: p.config.LambdaConfig ?? {},
      CreationDate: epochSeconds(p.createdAt),
      LastModifiedDate: epochSeconds(p.modifiedAt),
    })),
    ...(next ? { NextToken: next } : {}),
  };
}

export async function deleteUserPool(call: CognitoCall) {
  const pool = await requirePool(call);
  if (pool.config.DeletionProtection === 'ACTIVE') {
    throw cognitoErrors.invalidParameter(
      'The user pool cannot be deleted because deletion protection is activated.',
    );
  }
  await call.deps.store.deletePool(pool.id);
  call.deps.keys.forget(pool.id);
  return {};
}

/** App-client settings kept as given (CreateUserPoolClient, UpdateUserPoolClient, and the provisioner). */
export const clientSettings = [
  'ExplicitAuthFlows',
  'RefreshTokenValidity',
  'AccessTokenValidity',
  'IdTokenValidity',
  'TokenValidityUnits',
  'ReadAttributes',
  'WriteAttributes',
  'PreventUserExistenceErrors',
  'EnableTokenRevocation',
  'SupportedIdentityProviders',
  'CallbackURLs',
  'LogoutURLs',
  'AllowedOAuthFlows',
  'AllowedOAuthScopes',
  'AllowedOAuthFlowsUserPoolClient',
  'AuthSessionValidity',
] as const;

const knownFlows = new Set([
  'ALLOW_USER_PASSWORD_AUTH',
  'ALLOW_ADMIN_USER_PASSWORD_AUTH',
  'ALLOW_REFRESH_TOKEN_AUTH',
  'ALLOW_USER_SRP_AUTH',
  'ALLOW_CUSTOM_AUTH',
  'ALLOW_USER_AUTH',
  'USER_PASSWORD_AUTH',
  'ADMIN_NO_SRP_AUTH',
  'CUSTOM_AUTH_FLOW_ONLY',
]);

export function clientConfigOf(input: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const key of clientSettings) if (input[key] !== undefined) config[key] = input[key];
  const flows = config.ExplicitAuthFlows;
  if (flows !== undefined) {
    if (!Array.isArray(flows) || flows.some((f) => !knownFlows.has(String(f)))) {
      throw cognitoErrors.invalidParameter(
        `ExplicitAuthFlows ${JSON.stringify(flows)} is not valid`,
      );
    }
  }
  const prevent = config.PreventUserExistenceErrors;
  if (prevent !== undefined && prevent !== 'ENABLED' && prevent !== 'LEGACY') {
    throw cognitoErrors.invalidParameter('PreventUserExistenceErrors must be ENABLED or LEGACY');
  }
  // Enumeration-safe unless a client asks for LEGACY (docs/cognito.md).
  config.PreventUserExistenceErrors = prevent ?? 'ENABLED';
  config.EnableTokenRevocation = config.EnableTokenRevocation ?? true;
  return config;
}

export async function createUserPoolClient(call: CognitoCall) {
  const pool = await requirePool(call);
  const name = str(call.input, 'ClientName');
  if (name.length > 128) throw cognitoErrors.invalidParameter('ClientName is too long');
  const now = call.deps.clock.now();
  const id = randomString(lowerAlnum, 26);
  const secret =
    call.input.GenerateSecret === true
      ? randomBytes(38).toString('base64url').slice(0, 51)
      : undefined;
  const client: ClientRow = {
    id,
    poolId: pool.id,
    name,
    ...(secret ? { sealedSecret: sealSecret(call.deps.masterKey, secret, id) } : {}),
    config: clientConfigOf(call.input),
    createdAt: now,
    modifiedAt: now,
  };
  await call.deps.store.insertClient(client);
  return { UserPoolClient: describeClient(call, client) };
}

function describeClient(call: CognitoCall, client: ClientRow) {
  return {
    UserPoolId: client.poolId,
    ClientName: client.name,
    ClientId: client.id,
    ...(client.sealedSecret
      ? { ClientSecret: openSecret(call.deps.masterKey, client.sealedSecret, client.id) }
      : {}),
    ...client.config,
    CreationDate: epochSeconds(client.createdAt),
    LastModifiedDate: epochSeconds(client.modifiedAt),
  };
}

export async function describeUserPoolClient(call: CognitoCall) {
  const pool = await requirePool(call);
  return { UserPoolClient: describeClient(call, await requireClient(call, pool.id)) };
}

export async function listUserPoolClients(call: CognitoCall) {
  const pool = await requirePool(call);
  const clients = await call.deps.store.listClients(pool.id);
  return {
    UserPoolClients: clients.map((c) => ({
      ClientId: c.id,
      UserPoolId: c.poolId,
      ClientName: c.name,
    })),
  };
}

export async function deleteUserPoolClient(call: CognitoCall) {
  const pool = await requirePool(call);
  const client = await requireClient(call, pool.id);
  await call.deps.store.deleteClient(client.id);
  return {};
}

export async function createGroup(call: CognitoCall) {
  const pool = await requirePool(call);
  const name = str(call.input, 'GroupName');
  if (name.length > 128 || !/^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u.test(name)) {
    throw cognitoErrors.invalidParameter('Invalid GroupName');
  }
  const description = optStr(call.input, 'Description');
  const precedence = call.input.Precedence;
  const now = call.deps.clock.now();
  const row = {
    poolId: pool.id,
    name,
    ...(description ? { description } : {}),
    ...(typeof precedence === 'number' ? { precedence } : {}),
    createdAt: now,
  };
  if (!(await call.deps.store.insertGroup(row))) throw cognitoErrors.groupExists(name);
  return { Group: groupOut(row) };
}

function groupOut(g: {
  poolId: string;
  name: string;
  description?: string;
  precedence?: number;
  createdAt: number;
}) {
  return {
    GroupName: g.name,
    UserPoolId: g.poolId,
    ...(g.description ? { Description: g.description } : {}),
    ...(g.precedence !== undefined ? { Precedence: g.precedence } : {}),
    CreationDate: epochSeconds(g.createdAt),
    LastModifiedDate: epochSeconds(g.createdAt),
  };
}

export async function listGroups(call: CognitoCall) {
  const pool = await requirePool(call);
  return { Groups: (await call.deps.store.listGroups(pool.id)).map(groupOut) };
}
