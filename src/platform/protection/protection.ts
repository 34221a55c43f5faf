/**
 * Rate limits, circuit breakers and fallbacks of every deployed stage, as `custom.nimbus` sets
 * them (docs/protection.md). A stage reaction keeps them current; the gateway asks for a route's
 * guard (none, at the cost of one map lookup, for stages that configure nothing) and the Invoke
 * API for a function's limits.
 */

import type { BlockList } from 'node:net';
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  circuitBreaker,
  handleWhen,
  SamplingBreaker,
} from 'cockatiel';
import type { Logger } from 'pino';
import { BurstyRateLimiter, type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { ServiceDefinition } from '../../model/service-definition.js';
import {
  type BreakerSettings,
  type FallbackSettings,
  protectionRules,
  quotaPeriodSeconds,
  type RateLimitRule,
} from '../../service/protection-rules.js';
import { type CallerFacts, callerKey } from './callers.js';
import type { Counters } from './counters.js';
import { BreakerOpenError, RateLimitedError } from './protection-errors.js';

/** A caller's facts, or how to get them when a limit first needs them. */
export type CallerFactsSource = CallerFacts | (() => CallerFacts);

/** What a guard needs to know of the route or call it protects. */
export interface GuardTarget {
  service: string;
  stage: string;
  functionKey: string;
  functionName: string;
  /** `GET /items/{id}`; absent for Invoke API calls. */
  routeKey?: string;
}

export type BreakerStateName = 'closed' | 'open' | 'half-open';

export interface ProtectionEvents {
  /** A request refused by a rate limit. */
  limited(functionName: string, rule: string): void;
  /** A breaker changed state. */
  breaker(functionName: string, state: BreakerStateName): void;
}

interface CompiledLimit {
  id: string;
  rule: RateLimitRule;
  /** The rule's route as the gateway keys routes (`* /x` is `ANY /x`). */
  routeKey?: string;
  rate?: RateLimiterAbstract | BurstyRateLimiter;
  quota?: RateLimiterAbstract;
}

interface Breaker {
  policy: CircuitBreakerPolicy;
  settings: BreakerSettings;
  state: BreakerStateName;
}

/** A response the breaker counts as failed, carried through cockatiel and answered anyway. */
class CountedFailure<R> extends Error {
  constructor(readonly response: R) {
    super('counted failure');
  }
}

/**
 * How the caller of a guard runs things: the function (or another one, for a fallback), a
 * static answer, and which answers count as failures.
 */
export interface GuardedCall<R> {
  invoke(functionName: string): Promise<R>;
  staticAnswer(fallback: Extract<FallbackSettings, { statusCode: number }>): R;
  failed(response: R): boolean;
  /** True for the function's own throttle (concurrency): the fallback answers it too. */
  throttled(error: unknown): boolean;
}

class StageProtection {
  readonly limits: CompiledLimit[];
  readonly breakers = new Map<string, Breaker>();
  /** By function key. */
  readonly fallbacks = new Map<string, FallbackSettings>();
  readonly names: Map<string, string>;
  /** Function name → key, for the Invoke API's calls. */
  readonly keys: Map<string, string>;
  /**
   * The limits that apply to a target, found once per target: the gateway passes its route
   * object, the same one for every request of a deployment, so a warm request pays one lookup.
   */
  readonly #applicable = new WeakMap<GuardTarget, readonly CompiledLimit[]>();
  readonly #byKey = new Map<string, readonly CompiledLimit[]>();

  constructor(
    readonly definition: ServiceDefinition,
    readonly signature: string,
    settings: ReturnType<typeof protectionRules.parse>,
    counters: Counters,
    events: ProtectionEvents,
    logger: Logger,
  ) {
    this.names = new Map(Object.values(definition.functions).map((f) => [f.key, f.name]));
    this.keys = new Map(Object.values(definition.functions).map((f) => [f.name, f.key]));
    const prefix = `${definition.service}/${definition.stage}`;
    this.limits = (settings.rateLimits ?? []).map((rule, i) => {
      // A changed rule gets fresh counters; an unchanged one keeps its count across deploys.
      const id = `${prefix}/${rule.name ?? i}/${shortHash(JSON.stringify(rule))}`;
      const compiled: CompiledLimit = { id, rule };
      if (rule.route !== undefined) compiled.routeKey = rule.route.replace(/^\*/, 'ANY');
      if (rule.rate) {
        const steady = counters.make({
          keyPrefix: `${id}/r`,
          points: rule.rate.points,
          duration: rule.rate.durationSec,
        });
        compiled.rate =
          rule.burst === undefined
            ? steady
            : new BurstyRateLimiter(
                steady,
                counters.make({
                  keyPrefix: `${id}/b`,
                  points: rule.burst,
                  duration: Math.ceil((rule.burstWindow ?? 10_000) / 1000),
                }),
              );
      }
      if (rule.quota) {
        compiled.quota = counters.make({
          keyPrefix: `${id}/q`,
          points: rule.quota.limit,
          duration: quotaPeriodSeconds[rule.quota.period],
        });
      }
      return compiled;
    });
    for (const [key, value] of Object.entries(settings.fallbacks ?? {})) {
      this.fallbacks.set(key, value);
    }
    for (const [key, value] of Object.entries(settings.breakers ?? {})) {
      const name = this.names.get(key);
      if (!name) continue;
      const policy = circuitBreaker(
        handleWhen((error) => error instanceof CountedFailure),
        {
          halfOpenAfter: value.cooldown,
          breaker: new SamplingBreaker({
            threshold: value.errorRate / 100,
            duration: value.window,
            // cockatiel judges a rate; minimumRequests over the window is that rate.
            minimumRps: value.minimumRequests / (value.window / 1000),
          }),
        },
      );
      const breaker: Breaker = { policy, settings: value, state: 'closed' };
      policy.onStateChange((state) => {
        breaker.state =
          state === CircuitState.Open || state === CircuitState.Isolated
            ? 'open'
            : state === CircuitState.HalfOpen
              ? 'half-open'
              : 'closed';
        const level = breaker.state === 'open' ? 'warn' : 'info';
        logger[level](
          { function: name, breaker: breaker.state },
          `circuit breaker ${breaker.state}`,
        );
        events.breaker(name, breaker.state);
      });
      this.breakers.set(name, breaker);
    }
  }

  /** The limits on a gateway target, found once per route object. */
  limitsFor(target: GuardTarget): readonly CompiledLimit[] {
    let found = this.#applicable.get(target);
    if (found === undefined) {
      found = this.limits.filter((limit) => applies(limit, target));
      this.#applicable.set(target, found);
    }
    return found;
  }

  /** The limits on Invoke API calls of a function (no route), found once per function. */
  invokeLimits(functionKey: string, target: GuardTarget): readonly CompiledLimit[] {
    let found = this.#byKey.get(functionKey);
    if (found === undefined) {
      found = this.limits.filter((limit) => applies(limit, target));
      this.#byKey.set(functionKey, found);
    }
    return found;
  }

  get empty(): boolean {
    return this.limits.length === 0 && this.breakers.size === 0 && this.fallbacks.size === 0;
  }
}

export class Protection {
  readonly #stages = new Map<string, StageProtection>();
  /** Function name → its stage's protection, for the hot path's single lookup. */
  readonly #byFunction = new Map<string, StageProtection>();
  readonly #o: {
    counters: Counters;
    proxies: BlockList;
    logger: Logger;
    events: ProtectionEvents;
  };

  constructor(opts: {
    counters: Counters;
    proxies: BlockList;
    logger: Logger;
    events?: ProtectionEvents;
  }) {
    this.#o = { events: { limited() {}, breaker() {} }, ...opts };
  }

  get counters(): Counters {
    return this.#o.counters;
  }

  /** The stage's current definition (undefined: removed). Unchanged settings keep their state. */
  setStage(service: string, stage: string, definition: ServiceDefinition | undefined): void {
    const id = `${service}/${stage}`;
    const previous = this.#stages.get(id);
    const raw = (definition?.custom as { nimbus?: unknown } | undefined)?.nimbus;
    const parsed = definition && raw !== undefined ? protectionRules.safeParse(raw) : undefined;
    if (parsed && !parsed.success) {
      // Deploys are checked with the same rules, so this is a definition from before them.
      this.#o.logger.error(
        { stage: id, problem: parsed.error.issues[0]?.message },
        'custom.nimbus protection settings ignored: they do not pass the rules',
      );
    }
    const settings = parsed?.success ? parsed.data : undefined;
    const names = definition ? Object.values(definition.functions).map((f) => f.name) : [];
    const signature = JSON.stringify([settings ?? null, names]);
    if (previous?.signature === signature) return;
    if (previous) for (const name of previous.names.values()) this.#byFunction.delete(name);
    this.#stages.delete(id);
    if (!definition || !settings) return;
    const compiled = new StageProtection(
      definition,
      signature,
      settings,
      this.#o.counters,
      this.#o.events,
      this.#o.logger,
    );
    if (compiled.empty) return;
    this.#stages.set(id, compiled);
    for (const name of compiled.names.values()) this.#byFunction.set(name, compiled);
  }

  /** True when the function's stage configures any protection (the gateway's fast check). */
  protects(functionName: string): boolean {
    return this.#byFunction.has(functionName);
  }

  /** Breaker states of every function that has one, for `/metrics` and the info view. */
  breakerStates(): { functionName: string; state: BreakerStateName }[] {
    const out: { functionName: string; state: BreakerStateName }[] = [];
    for (const stage of this.#stages.values()) {
      for (const [functionName, breaker] of stage.breakers) {
        out.push({ functionName, state: breaker.state });
      }
    }
    return out;
  }

  /** The Invoke API: throws RateLimitedError when a limit of the function refuses the caller. */
  async admitInvoke(functionName: string, facts: CallerFacts): Promise<void> {
    const stage = this.#byFunction.get(functionName);
    if (!stage || stage.limits.length === 0) return;
    const functionKey = stage.keys.get(functionName);
    if (functionKey === undefined) return;
    const target: GuardTarget = {
      service: stage.definition.service,
      stage: stage.definition.stage,
      functionKey,
      functionName,
    };
    const limits = stage.invokeLimits(functionKey, target);
    if (limits.length > 0) await this.#admit(limits, target, facts);
  }

  /**
   * Runs a gateway call under the function's limits, breaker and fallback. Errors other than
   * refusals propagate; a refusal with no fallback throws RateLimitedError / BreakerOpenError.
   * `facts` may be a function: it is called only when a limit counts callers apart (a limit
   * `per: all` never needs to know who calls).
   */
  run<R>(target: GuardTarget, facts: CallerFactsSource, call: GuardedCall<R>): Promise<R> {
    const stage = this.#byFunction.get(target.functionName);
    if (!stage) return call.invoke(target.functionName);
    const limits = stage.limitsFor(target);
    if (limits.length === 0) return this.#guarded(stage, target, call);
    return this.#admitThenRun(stage, limits, target, facts, call);
  }

  async #admitThenRun<R>(
    stage: StageProtection,
    limits: readonly CompiledLimit[],
    target: GuardTarget,
    facts: CallerFactsSource,
    call: GuardedCall<R>,
  ): Promise<R> {
    try {
      await this.#admit(limits, target, facts);
    } catch (error) {
      if (error instanceof RateLimitedError) return this.#fallback(stage, target, call, error);
      throw error;
    }
    return this.#guarded(stage, target, call);
  }

  /** The call under the function's breaker, if it has one; its throttle answered by the fallback. */
  async #guarded<R>(stage: StageProtection, target: GuardTarget, call: GuardedCall<R>): Promise<R> {
    const breaker = stage.breakers.get(target.functionName);
    try {
      if (!breaker) return await call.invoke(target.functionName);
      return await breaker.policy.execute(async () => {
        const started = performance.now();
        const response = await call.invoke(target.functionName);
        const slow =
          breaker.settings.latency !== undefined &&
          performance.now() - started > breaker.settings.latency;
        if (slow || call.failed(response)) throw new CountedFailure(response);
        return response;
      });
    } catch (error) {
      if (error instanceof CountedFailure) return error.response as R;
      if (error instanceof BrokenCircuitError) {
        const retryAfter = Math.ceil((breaker?.settings.cooldown ?? 1000) / 1000);
        return this.#fallback(
          stage,
          target,
          call,
          new BreakerOpenError(`the circuit breaker of ${target.functionName} is open`, retryAfter),
        );
      }
      if (call.throttled(error)) return this.#fallback(stage, target, call, error);
      throw error;
    }
  }

  /** The configured fallback's answer to a refused call; without one, the refusal itself. */
  #fallback<R>(
    stage: StageProtection,
    target: GuardTarget,
    call: GuardedCall<R>,
    why: unknown,
  ): Promise<R> {
    const fallback = stage.fallbacks.get(target.functionKey);
    if (!fallback) throw why;
    this.#o.logger.info(
      { function: target.functionName, reason: (why as Error).name },
      'fallback answered',
    );
    if ('statusCode' in fallback) return Promise.resolve(call.staticAnswer(fallback));
    return call.invoke(stage.names.get(fallback.function)!);
  }

  async #admit(
    limits: readonly CompiledLimit[],
    target: GuardTarget,
    source: CallerFactsSource,
  ): Promise<void> {
    let facts: CallerFacts | undefined;
    for (const limit of limits) {
      const per = limit.rule.per;
      // Counted for everyone: who calls is never read, so the caller's facts are not built.
      if (per !== 'all' && facts === undefined) {
        facts = typeof source === 'function' ? source() : source;
      }
      const key = facts === undefined ? '*' : callerKey(per, facts, this.#o.proxies);
      try {
        if (limit.rate) await limit.rate.consume(key);
        if (limit.quota) await limit.quota.consume(key);
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) {
          // The shared counters are unreachable: serve rather than refuse everyone (logged).
          this.#o.logger.error(
            { err: rejection, limit: limit.id },
            'rate limit counters unavailable; request let through',
          );
          continue;
        }
        this.#o.events.limited(target.functionName, limit.rule.name ?? limit.id);
        throw new RateLimitedError(
          `rate limit ${limit.rule.name ?? limit.id} exceeded`,
          Math.ceil(rejection.msBeforeNext / 1000),
        );
      }
    }
  }
}

function applies(limit: CompiledLimit, target: GuardTarget): boolean {
  if (limit.rule.function !== undefined && limit.rule.function !== target.functionKey) {
    return false;
  }
  if (limit.routeKey !== undefined && limit.routeKey !== target.routeKey) return false;
  return true;
}

function shortHash(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0).toString(36);
}
