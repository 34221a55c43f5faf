/**
 * Usage plans on the request path: a token bucket per key for `throttle` (in memory, per node,
 * as API Gateway's own throttling is approximate), and the store's counter for `quota` (shared
 * and durable, so a restart or a second node does not hand out a fresh allowance).
 */
import type { Clock } from '../../../model/clock.js';
import type { QuotaPeriod, UsagePlan } from './usage-plan-config.js';

export type UsageVerdict = 'ok' | 'throttled' | 'quota';

export interface QuotaCounter {
  take(keyId: string, periodStart: string, limit: number): Promise<boolean>;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class UsageLimiter {
  readonly #clock: Clock;
  readonly #counter: QuotaCounter;
  readonly #buckets = new Map<string, Bucket>();

  constructor(deps: { clock: Clock; counter: QuotaCounter }) {
    this.#clock = deps.clock;
    this.#counter = deps.counter;
  }

  async admit(keyId: string, plan: UsagePlan): Promise<UsageVerdict> {
    const now = this.#clock.now();
    if (plan.throttle && !this.#takeToken(`${keyId}:${plan.name}`, plan.throttle, now)) {
      return 'throttled';
    }
    if (plan.quota) {
      const start = periodStart(now, plan.quota.period, plan.quota.offset);
      if (!(await this.#counter.take(keyId, start, plan.quota.limit))) return 'quota';
    }
    return 'ok';
  }

  #takeToken(id: string, throttle: { rateLimit: number; burstLimit: number }, now: number) {
    let bucket = this.#buckets.get(id);
    if (!bucket) {
      bucket = { tokens: throttle.burstLimit, at: now };
      this.#buckets.set(id, bucket);
    }
    const refill = ((now - bucket.at) / 1000) * throttle.rateLimit;
    bucket.tokens = Math.min(throttle.burstLimit, bucket.tokens + refill);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/**
 * The UTC start of the quota period holding `now`, as an ISO date: DAY at midnight; WEEK on
 * Sunday plus `offset` days; MONTH on the 1st plus `offset` days.
 */
export function periodStart(now: number, period: QuotaPeriod, offset: number): string {
  const d = new Date(now);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const day = 86_400_000;
  if (period === 'DAY') return new Date(midnight).toISOString().slice(0, 10);
  if (period === 'WEEK') {
    const back = (d.getUTCDay() - offset + 7) % 7;
    return new Date(midnight - back * day).toISOString().slice(0, 10);
  }
  let start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1 + offset);
  if (start > midnight) start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1 + offset);
  return new Date(start).toISOString().slice(0, 10);
}
