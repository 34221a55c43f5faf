/**
 * `custom.nimbus` protection settings of serverless.yml: rate limits, circuit breakers and
 * fallbacks (docs/protection.md). One zod schema, used by the CLI (file:line) and the deploy API
 * (400 naming the field) through definition-rules.ts, and by the platform to compile them.
 */
import { z } from 'zod';
import { parseDuration } from '../model/duration.js';

/** Rate windows a limit may be written in: `100` (per second) or `600/minute`. */
const windowSeconds = { second: 1, minute: 60, hour: 3600, day: 86_400 } as const;
const quotaSeconds = { ...windowSeconds, week: 7 * 86_400, month: 30 * 86_400 } as const;

export type CallerKind = 'caller' | 'ip' | 'apiKey' | 'jwt' | 'accessKey' | 'all';

const durationMs = (what: string, max: number) =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    const ms = typeof value === 'number' ? value * 1000 : parseDuration(value);
    if (ms === undefined || !Number.isFinite(ms) || ms <= 0 || ms > max) {
      ctx.addIssue({
        code: 'custom',
        message: `${what} must be seconds or a duration like 500ms, 30s, 5m (at most ${max / 1000} s)`,
      });
      return z.NEVER;
    }
    return ms;
  });

/** `rate: 10` or `rate: "600/minute"` → points per window. */
const rate = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const match =
    typeof value === 'number'
      ? { count: value, window: 'second' as const }
      : (() => {
          const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(second|minute|hour|day)\s*$/.exec(value);
          return m
            ? { count: Number(m[1]), window: m[2] as keyof typeof windowSeconds }
            : undefined;
        })();
  if (!match || !(match.count > 0) || match.count > 1_000_000) {
    ctx.addIssue({
      code: 'custom',
      message:
        'rate must be requests per second (a number) or "N/second|minute|hour|day", N from 1',
    });
    return z.NEVER;
  }
  // A fractional per-second rate becomes whole requests over a longer window: 0.5 → 1 per 2 s.
  const seconds = windowSeconds[match.window];
  if (!Number.isInteger(match.count)) {
    return { points: 1, durationSec: Math.ceil(seconds / match.count) };
  }
  return { points: match.count, durationSec: seconds };
});

const intIn = (min: number, max: number) =>
  z
    .number({ error: `must be an integer from ${min} to ${max}` })
    .int({ error: `must be an integer from ${min} to ${max}` })
    .min(min, { error: `must be an integer from ${min} to ${max}` })
    .max(max, { error: `must be an integer from ${min} to ${max}` });

const routeKey = z
  .string()
  .regex(/^(ANY|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|\*) \/\S{0,2047}$/, {
    error: 'must be a route as `METHOD /path` (e.g. `GET /items/{id}`, `ANY /{proxy+}`)',
  });

const rateLimitRule = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'must be 1 to 64 letters, digits, _ or -' })
      .optional(),
    function: z.string().min(1).max(200).optional(),
    route: routeKey.optional(),
    per: z.enum(['caller', 'ip', 'apiKey', 'jwt', 'accessKey', 'all']).default('caller'),
    rate: rate.optional(),
    /** Requests allowed beyond `rate` within `burstWindow` (default 10 s). */
    burst: intIn(1, 10_000_000).optional(),
    burstWindow: durationMs('burstWindow', 3_600_000).optional(),
    quota: z
      .strictObject({
        limit: intIn(1, 1_000_000_000),
        period: z.enum(['second', 'minute', 'hour', 'day', 'week', 'month']),
      })
      .optional(),
  })
  .superRefine((rule, ctx) => {
    if (rule.rate === undefined && rule.quota === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a rate limit needs `rate`, `quota` or both' });
    }
    if (rule.burst !== undefined && rule.rate === undefined) {
      ctx.addIssue({ code: 'custom', path: ['burst'], message: '`burst` needs a `rate`' });
    }
  });

const breaker = z.strictObject({
  /** Percent of failed calls in the window that opens the breaker. */
  errorRate: z.number().min(1).max(100).default(50),
  /** Calls the window must hold before errorRate is judged. */
  minimumRequests: intIn(1, 1_000_000).default(10),
  window: durationMs('window', 3_600_000).default(30_000),
  /** How long the breaker stays open before letting a probe through. */
  cooldown: durationMs('cooldown', 3_600_000).default(10_000),
  /** A call slower than this counts as failed (the latency budget). */
  latency: durationMs('latency', 900_000).optional(),
});

const fallback = z.union([
  z.strictObject({ function: z.string().min(1).max(200) }),
  z.strictObject({
    statusCode: intIn(100, 599),
    headers: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/), z.string()).optional(),
    body: z
      .string()
      .max(256 * 1024)
      .optional(),
  }),
]);

export const protectionRules = z.looseObject({
  rateLimits: z.array(rateLimitRule).max(100).optional(),
  breakers: z.record(z.string(), breaker).optional(),
  fallbacks: z.record(z.string(), fallback).optional(),
});

export type ProtectionSettings = z.output<typeof protectionRules>;
export type RateLimitRule = z.output<typeof rateLimitRule>;
export type BreakerSettings = z.output<typeof breaker>;
export type FallbackSettings = z.output<typeof fallback>;

export const quotaPeriodSeconds = quotaSeconds;

/**
 * Cross-field rules the per-field schema cannot see: every function named must exist, and a
 * fallback cannot be its own function. Paths are under `custom.nimbus`.
 */
export function protectionProblems(
  settings: ProtectionSettings,
  functionKeys: Set<string>,
): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const known = (key: string) => functionKeys.has(key);
  settings.rateLimits?.forEach((rule, i) => {
    if (rule.function !== undefined && !known(rule.function)) {
      problems.push({
        path: ['rateLimits', i, 'function'],
        message: `no function "${rule.function}"`,
      });
    }
  });
  for (const key of Object.keys(settings.breakers ?? {})) {
    if (!known(key)) problems.push({ path: ['breakers', key], message: `no function "${key}"` });
  }
  for (const [key, value] of Object.entries(settings.fallbacks ?? {})) {
    if (!known(key)) problems.push({ path: ['fallbacks', key], message: `no function "${key}"` });
    if ('function' in value) {
      if (!known(value.function)) {
        problems.push({
          path: ['fallbacks', key, 'function'],
          message: `no function "${value.function}"`,
        });
      } else if (value.function === key) {
        problems.push({
          path: ['fallbacks', key, 'function'],
          message: 'a function cannot be its own fallback',
        });
      }
    }
  }
  return problems;
}
