/**
 * Runs a Lambda authorizer and reads its answer. Results are cached per authorizer and identity
 * values for the authorizer's TTL (the policy is cached, then judged against each request's
 * method ARN, as API Gateway does). A function error `Unauthorized` is API Gateway's 401; any
 * other error, a timeout, or an answer that is not the documented shape is the authorizer
 * failing (500), and is never cached.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../../model/clock.js';
import type { InvokeOutcome } from '../../../model/invocation.js';
import type { Invoker } from '../../invoker/invoker-port.js';
import type { GatewayRequest } from '../gateway-request.js';
import { authorizerEvent, methodArnOf } from './authorizer-events.js';
import { decide, type PolicyStatement, parsePolicy } from './iam-policy.js';
import type { LambdaAuthorizer } from './route-access.js';

/** What an authorizer said, kept in the cache. */
type Verdict =
  | { kind: 'simple'; authorized: boolean; context: Record<string, unknown> }
  | {
      kind: 'policy';
      principalId: string;
      statements: PolicyStatement[];
      context: Record<string, unknown>;
      usageIdentifierKey?: string;
    };

export type LambdaAuthOutcome =
  | {
      ok: true;
      principalId?: string;
      context: Record<string, unknown>;
      usageIdentifierKey?: string;
    }
  | {
      ok: false;
      /** unauthorized: 401; forbidden: 403 (HTTP API); deny: REST explicit deny; error: 500. */
      kind: 'unauthorized' | 'forbidden' | 'deny' | 'not-allowed' | 'error';
      reason: string;
    };

const maxCacheEntries = 10_000;

export class LambdaAuthorizerRunner {
  readonly #invoker: Invoker;
  readonly #clock: Clock;
  readonly #region: string;
  readonly #cache = new Map<string, { expiresAt: number; verdict: Verdict }>();

  constructor(deps: { invoker: Invoker; clock: Clock; region: string }) {
    this.#invoker = deps.invoker;
    this.#clock = deps.clock;
    this.#region = deps.region;
  }

  /** Cached results are for one deployment's authorizers; a new one starts afresh. */
  clear(): void {
    this.#cache.clear();
  }

  async authorize(
    config: LambdaAuthorizer,
    req: GatewayRequest,
    identity: (string | undefined)[],
  ): Promise<LambdaAuthOutcome> {
    if (identity.some((v) => v === undefined || v === '')) {
      return { ok: false, kind: 'unauthorized', reason: 'an identity source is missing' };
    }
    const values = identity as string[];
    if (config.validation && !config.validation.test(values[0]!)) {
      return {
        ok: false,
        kind: 'unauthorized',
        reason: 'the token fails identityValidationExpression',
      };
    }
    const cacheKey =
      config.ttlMs > 0
        ? `${config.functionName}:${config.qualifier ?? ''}:${config.api}:${JSON.stringify(values)}`
        : undefined;
    const now = this.#clock.now();
    let verdict: Verdict | undefined;
    if (cacheKey !== undefined) {
      const hit = this.#cache.get(cacheKey);
      if (hit && hit.expiresAt > now) verdict = hit.verdict;
      else if (hit) this.#cache.delete(cacheKey);
    }
    if (verdict === undefined) {
      const called = await this.#call(config, req, values);
      if ('fail' in called) return called.fail;
      verdict = called.verdict;
      if (cacheKey !== undefined) {
        if (this.#cache.size >= maxCacheEntries) {
          this.#cache.delete(this.#cache.keys().next().value as string);
        }
        this.#cache.set(cacheKey, { expiresAt: now + config.ttlMs, verdict });
      }
    }
    if (verdict.kind === 'simple') {
      return verdict.authorized
        ? { ok: true, context: verdict.context }
        : { ok: false, kind: 'forbidden', reason: 'the authorizer answered isAuthorized: false' };
    }
    const stage = config.api === 'http' ? req.match.route.stage : '$default';
    const decision = decide(verdict.statements, methodArnOf(req, this.#region, stage));
    if (decision === 'deny') {
      return {
        ok: false,
        kind: config.api === 'http' ? 'deny' : 'forbidden',
        reason: 'the policy denies this method',
      };
    }
    if (decision === 'implicit-deny') {
      return {
        ok: false,
        kind: config.api === 'http' ? 'not-allowed' : 'forbidden',
        reason: 'the policy allows no statement for this method',
      };
    }
    return {
      ok: true,
      principalId: verdict.principalId,
      context: verdict.context,
      ...(verdict.usageIdentifierKey === undefined
        ? {}
        : { usageIdentifierKey: verdict.usageIdentifierKey }),
    };
  }

  async #call(
    config: LambdaAuthorizer,
    req: GatewayRequest,
    identity: string[],
  ): Promise<{ verdict: Verdict } | { fail: LambdaAuthOutcome }> {
    const event = authorizerEvent(config, req, identity, this.#region);
    const failWith = (kind: 'unauthorized' | 'error', reason: string) => ({
      fail: { ok: false as const, kind, reason },
    });
    let outcome: InvokeOutcome;
    try {
      ({
        result: { outcome },
      } = await this.#invoker.invoke(config.functionName, config.qualifier, {
        payload: JSON.stringify(event),
        // Its own invocation: the authorizer's log lines must not pass for the function's.
        requestId: randomUUID(),
      }));
    } catch (error) {
      return failWith(
        'error',
        `authorizer ${config.functionName} could not run: ${(error as Error).message}`,
      );
    }
    if (outcome.status === 'error') {
      // `throw new Error('Unauthorized')` (callback('Unauthorized')) is the documented 401.
      if (outcome.error.errorMessage === 'Unauthorized') {
        return failWith('unauthorized', 'the authorizer answered Unauthorized');
      }
      return failWith(
        'error',
        `authorizer ${config.functionName} failed: ${outcome.error.errorType}`,
      );
    }
    let answer: unknown;
    try {
      answer = JSON.parse(outcome.payload);
    } catch {
      return failWith('error', 'the authorizer answer is not JSON');
    }
    const verdict = config.simpleResponses
      ? readSimple(answer)
      : readPolicy(answer, config.api === 'http');
    return typeof verdict === 'string'
      ? failWith('error', `authorizer answer refused: ${verdict}`)
      : { verdict };
  }
}

function readSimple(answer: unknown): Verdict | string {
  if (!isObject(answer) || typeof answer.isAuthorized !== 'boolean') {
    return 'a simple response needs isAuthorized: true|false';
  }
  const context = answer.context ?? {};
  if (!isObject(context)) return 'context must be a map';
  return { kind: 'simple', authorized: answer.isAuthorized, context };
}

function readPolicy(answer: unknown, rest: boolean): Verdict | string {
  if (!isObject(answer)) return 'the answer is not a map';
  const { principalId, policyDocument, usageIdentifierKey } = answer;
  if (typeof principalId !== 'string' || principalId === '') return 'principalId must be a string';
  const statements = parsePolicy(policyDocument);
  if (!statements) return 'policyDocument is not an IAM policy';
  const context = answer.context ?? {};
  if (!isObject(context)) return 'context must be a map';
  // REST passes context values through as strings, numbers or booleans only.
  if (rest && Object.values(context).some((v) => v !== null && typeof v === 'object')) {
    return 'context values must be strings, numbers or booleans';
  }
  return {
    kind: 'policy',
    principalId,
    statements,
    context,
    ...(typeof usageIdentifierKey === 'string' ? { usageIdentifierKey } : {}),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
