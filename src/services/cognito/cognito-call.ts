/** What every user-pool operation gets, and the lookups most of them start with. */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import { openSecret } from '../../platform/auth/secret-box.js';
import type { Mailer } from '../../platform/mail/smtp-mailer.js';
import { cognitoErrors } from './cognito-errors.js';
import type { ClientRow, PoolRow, UserRow } from './cognito-store.js';
import type { PasswordHasher } from './passwords.js';
import type { IpThrottle } from './throttles.js';
import type { TokenDeps } from './tokens.js';
import type { PoolTriggers } from './triggers.js';

export interface CognitoDeps extends TokenDeps {
  region: string;
  masterKey: Buffer;
  hasher: PasswordHasher;
  throttle: IpThrottle;
  triggers: PoolTriggers;
  /** SMTP; none: email goes to the outbox. */
  mailer?: Mailer;
}

export type Input = Record<string, unknown>;

export interface CognitoCall {
  deps: CognitoDeps;
  input: Input;
  req: IncomingMessage;
}

export type CognitoOperation = (call: CognitoCall) => Promise<object>;

export function str(input: Input, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value === '') {
    throw cognitoErrors.invalidParameter(
      `1 validation error detected: Value at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

export function optStr(input: Input, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw cognitoErrors.invalidParameter(`${name} must be a string`);
  return value;
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

export function poolArn(region: string, poolId: string): string {
  return `arn:aws:cognito-idp:${region}:${NIMBUS_ACCOUNT_ID}:userpool/${poolId}`;
}

const poolIdPattern = /^[\w-]+_[0-9a-zA-Z]+$/;

export async function requirePool(call: CognitoCall, field = 'UserPoolId'): Promise<PoolRow> {
  const id = str(call.input, field);
  if (!poolIdPattern.test(id) || id.length > 55) {
    throw cognitoErrors.invalidParameter(
      `1 validation error detected: Value '${id.slice(0, 60)}' at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+`,
    );
  }
  const pool = await call.deps.store.findPool(id);
  if (!pool) throw cognitoErrors.poolNotFound(id);
  return pool;
}

export async function requireClient(call: CognitoCall, poolId?: string): Promise<ClientRow> {
  const id = str(call.input, 'ClientId');
  const client = /^[\w+]+$/.test(id) ? await call.deps.store.findClient(id) : undefined;
  if (!client || (poolId !== undefined && client.poolId !== poolId)) {
    throw cognitoErrors.clientNotFound(id);
  }
  return client;
}

/** A client with a secret needs SecretHash = Base64(HMAC-SHA256(secret, username + clientId)). */
export function checkSecretHash(
  deps: CognitoDeps,
  client: ClientRow,
  username: string,
  secretHash: unknown,
): void {
  if (!client.sealedSecret) return;
  const secret = openSecret(deps.masterKey, client.sealedSecret, client.id);
  const expected = createHmac('sha256', secret)
    .update(username + client.id)
    .digest();
  const given = Buffer.from(typeof secretHash === 'string' ? secretHash : '', 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw cognitoErrors.notAuthorized(
      `Client ${client.id} is configured with secret but SECRET_HASH was not received`,
    );
  }
}

export function preventsUserExistenceErrors(client: ClientRow): boolean {
  return client.config.PreventUserExistenceErrors !== 'LEGACY';
}

export function authFlowAllowed(client: ClientRow, flow: string): boolean {
  const flows = client.config.ExplicitAuthFlows as string[] | undefined;
  const allowed =
    flows && flows.length > 0
      ? flows
      : ['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_CUSTOM_AUTH'];
  if (allowed.includes(flow) || allowed.includes(`ALLOW_${flow}`)) return true;
  // The legacy names (without ALLOW_) Cognito still accepts.
  const legacy: Record<string, string> = {
    USER_PASSWORD_AUTH: 'USER_PASSWORD_AUTH',
    ADMIN_USER_PASSWORD_AUTH: 'ADMIN_NO_SRP_AUTH',
  };
  return legacy[flow] !== undefined && allowed.includes(legacy[flow]);
}

/** Usernames compare case-insensitively unless the pool says otherwise. */
export function usernameKey(pool: PoolRow, username: string): string {
  const config = pool.config.UsernameConfiguration as { CaseSensitive?: boolean } | undefined;
  return config?.CaseSensitive === true ? username : username.toLowerCase();
}

export function usesEmailAsUsername(pool: PoolRow): boolean {
  const attrs = [
    ...((pool.config.UsernameAttributes as string[] | undefined) ?? []),
    ...((pool.config.AliasAttributes as string[] | undefined) ?? []),
  ];
  return attrs.includes('email');
}

/** The user a name given at sign-in means: the username, or the email in email pools. */
export async function findUser(
  deps: CognitoDeps,
  pool: PoolRow,
  name: string,
): Promise<UserRow | undefined> {
  const direct = await deps.store.findUser(pool.id, usernameKey(pool, name));
  if (direct) return direct;
  if (!usesEmailAsUsername(pool) || !name.includes('@')) return undefined;
  const byEmail = await deps.store.findUsersByEmail(pool.id, name);
  return byEmail.find((u) => u.status !== 'UNCONFIRMED') ?? byEmail[0];
}

export async function requireUser(call: CognitoCall, pool: PoolRow, field = 'Username') {
  const user = await findUser(call.deps, pool, str(call.input, field));
  if (!user) throw cognitoErrors.userNotFound();
  return user;
}

export function sourceIp(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/** Counts the attempt against the caller's IP; TooManyRequestsException over the limit. */
export function throttle(call: CognitoCall, kind: 'signIn' | 'send'): void {
  if (!call.deps.throttle.take(kind, sourceIp(call.req), call.deps.clock.now())) {
    throw cognitoErrors.tooManyRequests();
  }
}

/** `[{Name, Value}]` → a map, names checked. */
export function attributeMap(list: unknown, field: string): Record<string, string> {
  if (list === undefined || list === null) return {};
  if (!Array.isArray(list)) throw cognitoErrors.invalidParameter(`${field} must be a list`);
  const out: Record<string, string> = {};
  for (const entry of list as { Name?: unknown; Value?: unknown }[]) {
    if (
      typeof entry?.Name !== 'string' ||
      !/^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,32}$/u.test(entry.Name)
    ) {
      throw cognitoErrors.invalidParameter(`${field}: an attribute name is missing or invalid`);
    }
    const value = entry.Value === undefined || entry.Value === null ? '' : String(entry.Value);
    if (value.length > 2048) {
      throw cognitoErrors.invalidParameter(`${field}: the value of ${entry.Name} is too long`);
    }
    out[entry.Name] = value;
  }
  return out;
}

export function attributeList(user: UserRow): { Name: string; Value: string }[] {
  return [
    { Name: 'sub', Value: user.sub },
    ...Object.entries(user.attributes)
      .filter(([name]) => name !== 'sub')
      .map(([Name, Value]) => ({ Name, Value })),
  ];
}

/** Attributes a user may not set themselves. */
export function checkWritableAttributes(attrs: Record<string, string>): void {
  for (const name of Object.keys(attrs)) {
    if (name === 'sub' || name === 'cognito:username' || name === 'identities') {
      throw cognitoErrors.invalidParameter(`Cannot modify the non-mutable attribute ${name}`);
    }
    if (!/^(custom:)?[\w.:-]+$/.test(name)) {
      throw cognitoErrors.invalidParameter(`Attribute ${name} is not a valid attribute name`);
    }
  }
}

export function epochSeconds(ms: number): number {
  return ms / 1000;
}

/** A random string of `length` characters from `alphabet` (crypto-random). */
export function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}
