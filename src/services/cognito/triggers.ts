/**
 * User-pool Lambda triggers: which function a pool calls at a step (its `LambdaConfig`, set by
 * CreateUserPool/UpdateUserPool or a resource, or a `cognitoUserPool` event with `existing:
 * true` naming the pool), the event Cognito sends it, and how its failure reaches the caller.
 * Calls are synchronous and bounded by Cognito's 5 s; the answer's `response` is returned for
 * the step to honour.
 */
import { AwsError } from '../../platform/aws/aws-error.js';
import type { PoolRow, UserRow } from './cognito-store.js';

/** The triggers Nimbus calls (LambdaConfig keys and `cognitoUserPool` trigger names). */
export const supportedTriggers = [
  'PreSignUp',
  'PostConfirmation',
  'PreAuthentication',
  'PostAuthentication',
  'PreTokenGeneration',
  'CustomMessage',
] as const;

export type TriggerName = (typeof supportedTriggers)[number];

/** Triggers Cognito has and Nimbus does not call yet (custom auth, migration, senders). */
export const unsupportedTriggers = [
  'DefineAuthChallenge',
  'CreateAuthChallenge',
  'VerifyAuthChallengeResponse',
  'UserMigration',
  'CustomSMSSender',
  'CustomEmailSender',
  'PreTokenGenerationConfig',
  'KMSKeyID',
];

export function isSupportedTrigger(name: string): name is TriggerName {
  return (supportedTriggers as readonly string[]).includes(name);
}

/** What running a function gives back (the invoker's outcome, reduced). */
export type TriggerOutcome =
  | { status: 'ok'; payload: string }
  | { status: 'error'; error: { errorType: string; errorMessage: string } };

/** Runs a function by name or ARN, synchronously. */
export type InvokeFunction = (functionRef: string, payload: string) => Promise<TriggerOutcome>;

/** A `cognitoUserPool` event with `existing: true`: the pool is found by name when it fires. */
export interface AttachedTrigger {
  pool: string;
  trigger: TriggerName;
  functionName: string;
}

export interface PoolTriggersOptions {
  region: string;
  invoke?: InvokeFunction;
  /** Cognito gives a trigger 5 seconds. */
  timeoutMs?: number;
  onProblem?: (message: string) => void;
}

/** What a step hands the trigger besides the pool. */
export interface TriggerCall {
  triggerSource: string;
  userName: string;
  clientId?: string;
  request: Record<string, unknown>;
  response?: Record<string, unknown>;
}

const triggerError = (code: string, message: string) => new AwsError(400, code, message);

export class PoolTriggers {
  readonly #opts: PoolTriggersOptions;
  /** `service/stage` -> the triggers its `existing: true` events attach. */
  readonly #byStage = new Map<string, AttachedTrigger[]>();

  constructor(opts: PoolTriggersOptions) {
    this.#opts = opts;
  }

  setStage(stageKey: string, attached: AttachedTrigger[]): void {
    if (attached.length === 0) this.#byStage.delete(stageKey);
    else this.#byStage.set(stageKey, attached);
  }

  /** The function a pool calls at `trigger`: its LambdaConfig first, then attached events. */
  functionFor(pool: PoolRow, trigger: TriggerName): string | undefined {
    const config = pool.config.LambdaConfig as Record<string, unknown> | undefined;
    const own = config?.[trigger];
    if (typeof own === 'string' && own !== '') return own;
    for (const list of this.#byStage.values()) {
      const found = list.find((a) => a.pool === pool.name && a.trigger === trigger);
      if (found) return found.functionName;
    }
    return undefined;
  }

  has(pool: PoolRow, trigger: TriggerName): boolean {
    return this.functionFor(pool, trigger) !== undefined;
  }

  /**
   * Calls the pool's function for `trigger`, if it has one, and returns the `response` of its
   * answer (undefined when no function is set). A function error is
   * `UserLambdaValidationException: <Trigger> failed with error <message>.`, as Cognito says it.
   */
  async run(
    pool: PoolRow,
    trigger: TriggerName,
    call: TriggerCall,
  ): Promise<Record<string, unknown> | undefined> {
    const fn = this.functionFor(pool, trigger);
    if (!fn) return undefined;
    const event = {
      version: '1',
      triggerSource: call.triggerSource,
      region: this.#opts.region,
      userPoolId: pool.id,
      userName: call.userName,
      callerContext: {
        awsSdkVersion: 'aws-sdk-unknown-unknown',
        clientId: call.clientId ?? 'CLIENT_ID_NOT_APPLICABLE',
      },
      request: call.request,
      response: call.response ?? {},
    };
    const outcome = await this.#invoke(trigger, fn, JSON.stringify(event));
    if (outcome.status === 'error') {
      throw triggerError(
        'UserLambdaValidationException',
        `${trigger} failed with error ${outcome.error.errorMessage}.`,
      );
    }
    let answer: unknown;
    try {
      answer = JSON.parse(outcome.payload);
    } catch {
      throw triggerError('InvalidLambdaResponseException', 'Invalid lambda response received');
    }
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
      throw triggerError('InvalidLambdaResponseException', 'Invalid lambda response received');
    }
    const response = (answer as { response?: unknown }).response ?? {};
    if (typeof response !== 'object' || response === null || Array.isArray(response)) {
      throw triggerError('InvalidLambdaResponseException', 'Invalid lambda response received');
    }
    return response as Record<string, unknown>;
  }

  async #invoke(trigger: TriggerName, fn: string, payload: string): Promise<TriggerOutcome> {
    const invoke = this.#opts.invoke;
    if (!invoke) {
      throw triggerError('UnexpectedLambdaException', `${trigger} invocation failed.`);
    }
    const timeoutMs = this.#opts.timeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      timer.unref();
    });
    try {
      const outcome = await Promise.race([invoke(fn, payload), timedOut]);
      if (outcome === 'timeout') {
        this.#opts.onProblem?.(`${trigger} function ${fn} did not answer within ${timeoutMs} ms`);
        throw triggerError(
          'UnexpectedLambdaException',
          `${trigger} invocation failed due to a timeout.`,
        );
      }
      return outcome;
    } catch (error) {
      if (error instanceof AwsError) throw error;
      this.#opts.onProblem?.(
        `${trigger} function ${fn} could not run: ${(error as Error).message}`,
      );
      throw triggerError('UnexpectedLambdaException', `${trigger} invocation failed.`);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The user's attributes as triggers see them (sub and status included, as Cognito sends). */
export function triggerAttributes(user: UserRow): Record<string, string> {
  return {
    sub: user.sub,
    ...user.attributes,
    'cognito:user_status': user.status,
  };
}

/** `ClientMetadata` / `ValidationData` as the map a trigger gets (strings only, as Cognito). */
export function stringMap(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    // ValidationData is a list of {Name, Value}.
    const out: Record<string, string> = {};
    for (const e of value as { Name?: unknown; Value?: unknown }[]) {
      if (typeof e?.Name === 'string') out[e.Name] = String(e.Value ?? '');
    }
    return out;
  }
  if (typeof value !== 'object') return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Claims PreTokenGeneration may neither add, override nor suppress (Cognito's list). */
const protectedClaims = new Set([
  'acr',
  'amr',
  'aud',
  'at_hash',
  'auth_time',
  'azp',
  'client_id',
  'cognito:username',
  'cognito:groups',
  'cognito:roles',
  'cognito:preferred_role',
  'event_id',
  'exp',
  'iat',
  'identities',
  'iss',
  'jti',
  'nbf',
  'nonce',
  'origin_jti',
  'scope',
  'sub',
  'token_use',
  'username',
]);

/**
 * PreTokenGeneration's `claimsOverrideDetails` (event version 1): `claimsToAddOrOverride` and
 * `claimsToSuppress` change the ID token; `groupOverrideDetails` replaces `cognito:groups` (and
 * sets `cognito:roles` / `cognito:preferred_role`) in both tokens. Protected claims are left
 * as issued, so a trigger cannot change who the token is for.
 */
export function applyClaimOverrides(
  details: Record<string, unknown>,
  idClaims: Record<string, unknown>,
  accessClaims: Record<string, unknown>,
): void {
  const add = details.claimsToAddOrOverride;
  if (typeof add === 'object' && add !== null && !Array.isArray(add)) {
    for (const [name, value] of Object.entries(add)) {
      if (protectedClaims.has(name)) continue;
      if (['string', 'number', 'boolean'].includes(typeof value)) idClaims[name] = value;
    }
  }
  const suppress = details.claimsToSuppress;
  if (Array.isArray(suppress)) {
    for (const name of suppress) {
      if (typeof name === 'string' && !protectedClaims.has(name)) delete idClaims[name];
    }
  }
  const groups = details.groupOverrideDetails;
  if (typeof groups !== 'object' || groups === null || Array.isArray(groups)) return;
  const { groupsToOverride, iamRolesToOverride, preferredRole } = groups as Record<string, unknown>;
  const strings = (v: unknown) =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
  for (const claims of [idClaims, accessClaims]) {
    const list = strings(groupsToOverride);
    if (list) {
      if (list.length > 0) claims['cognito:groups'] = list;
      else delete claims['cognito:groups'];
    }
  }
  const roles = strings(iamRolesToOverride);
  if (roles && roles.length > 0) idClaims['cognito:roles'] = roles;
  if (typeof preferredRole === 'string' && preferredRole !== '') {
    idClaims['cognito:preferred_role'] = preferredRole;
  }
}
