import { randomBytes, randomInt } from 'node:crypto';

/** What may be shown about a key: never its secret. */
export interface AccessKey {
  /** `NIMB` + 16 upper-case letters and digits: the shape and length of an AWS access key id. */
  id: string;
  description?: string;
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601; updated at most once a minute per key (see createRequestVerifier). */
  lastUsedAt?: string;
  /** Absent: the key may call anything an access key can. */
  scope?: AccessKeyScope;
}

/**
 * What a key may reach (`nimbus keys create --service --stage --functions --read-only`). Every
 * field narrows; a call outside is answered AccessDeniedException (docs/authorizers.md).
 */
export interface AccessKeyScope {
  service?: string;
  stage?: string;
  /** Function keys (`hello`) or deployed names (`svc-dev-hello`). */
  functions?: string[];
  /** Reads only: no Invoke, no aws_iam route other than GET, HEAD and OPTIONS. */
  readOnly?: boolean;
}

/** The function a call reaches, as a scope judges it. */
export interface ScopeTarget {
  service: string;
  stage: string;
  functionKey: string;
  functionName: string;
  /** The call changes or runs something (Invoke, a POST to a route). */
  write: boolean;
}

/** True when `scope` (undefined: unrestricted) lets the key reach `target`. */
export function scopeAllows(scope: AccessKeyScope | undefined, target: ScopeTarget): boolean {
  if (scope === undefined) return true;
  if (scope.service !== undefined && scope.service !== target.service) return false;
  if (scope.stage !== undefined && scope.stage !== target.stage) return false;
  if (
    scope.functions !== undefined &&
    !scope.functions.includes(target.functionKey) &&
    !scope.functions.includes(target.functionName)
  ) {
    return false;
  }
  return !(scope.readOnly && target.write);
}

/** The service stage a resource other than a function belongs to (an S3 bucket today). */
export interface ResourceOwner {
  service: string;
  stage: string;
}

/**
 * True when `scope` (undefined: unrestricted) lets the caller reach a resource owned by `owner`
 * (undefined: shared by every caller). Session credentials (scoped to their function's service
 * stage) and `nimbus keys create --service/--stage` keys reach their own stage's resources and
 * shared ones; `--read-only` keys only read. `functions` does not narrow resources. The one
 * ownership check for AWS services behind the front door (docs/security.md).
 */
export function scopeAllowsResource(
  scope: AccessKeyScope | undefined,
  owner: ResourceOwner | undefined,
  write: boolean,
): boolean {
  if (scope === undefined) return true;
  if (scope.readOnly && write) return false;
  if (owner === undefined) return true;
  if (scope.service !== undefined && scope.service !== owner.service) return false;
  return scope.stage === undefined || scope.stage === owner.stage;
}

/** The owner a restricted caller gives what it creates: its service stage, when it names both. */
export function ownerOfScope(scope: AccessKeyScope | undefined): ResourceOwner | undefined {
  return scope?.service !== undefined && scope.stage !== undefined
    ? { service: scope.service, stage: scope.stage }
    : undefined;
}

/** True when the scope narrows anything at all. */
export function isRestricted(scope: AccessKeyScope | undefined): scope is AccessKeyScope {
  return (
    scope !== undefined &&
    (scope.service !== undefined ||
      scope.stage !== undefined ||
      scope.functions !== undefined ||
      scope.readOnly === true)
  );
}

/** The one time the secret is visible: the answer to create. */
export interface CreatedAccessKey extends AccessKey {
  secret: string;
}

/**
 * Access keys for the Lambda Invoke API. SigV4 verification needs each secret in clear (it is an
 * HMAC key), so adapters keep secrets encrypted at rest, never hashed, and hand them back only
 * to `findSecret`.
 */
export interface AccessKeyStore {
  create(opts?: { description?: string; scope?: AccessKeyScope }): Promise<CreatedAccessKey>;
  /** Oldest first. */
  list(): Promise<AccessKey[]>;
  /** False when there was no such key. */
  delete(id: string): Promise<boolean>;
  /**
   * The secret for SigV4 verification; undefined for an unknown id. `sessionToken` is the
   * request's X-Amz-Security-Token, which only session credentials need (session-credentials.ts).
   */
  findSecret(id: string, sessionToken?: string): Promise<string | undefined>;
  markUsed(id: string, atMs: number): Promise<void>;
  /** The key's scope; undefined for an unknown id or an unrestricted key. */
  scopeOf(id: string): Promise<AccessKeyScope | undefined>;
}

export const accessKeyIdPrefix = 'NIMB';
const idAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Uniform over the alphabet (randomInt rejects rather than taking a biased modulo). */
export function newAccessKeyId(): string {
  let id = accessKeyIdPrefix;
  for (let i = 0; i < 16; i++) id += idAlphabet[randomInt(idAlphabet.length)];
  return id;
}

/** 40 characters of base64 (30 random bytes, 240 bits): the shape of an AWS secret key. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64');
}

export function isAccessKeyId(text: string): boolean {
  return /^NIMB[A-Z0-9]{16}$/.test(text);
}
