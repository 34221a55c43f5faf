/**
 * When an asynchronous event runs again (docs/async.md). Pure, so every delay is tested without
 * a clock.
 */
export interface RetrySettings {
  /** Base delay between function-error retries: 1 min by default, then 2 min, 3 min, ... */
  functionErrorBaseMs: number;
  /** System errors (throttled, instance failed to start, platform restarted) back off from here... */
  systemErrorBaseMs: number;
  /** ...doubling up to this cap. */
  systemErrorCapMs: number;
}

export const defaultRetrySettings: RetrySettings = {
  functionErrorBaseMs: 60_000,
  systemErrorBaseMs: 500,
  systemErrorCapMs: 5 * 60_000,
};

/** Delay before the retry that follows function error number `failures` (1-based). */
export function functionErrorDelay(failures: number, s: RetrySettings): number {
  return s.functionErrorBaseMs * Math.max(1, failures);
}

/** Delay before the retry that follows system error number `count` (1-based): 0.5 s, 1 s, 2 s, ... */
export function systemErrorDelay(count: number, s: RetrySettings): number {
  return Math.min(s.systemErrorCapMs, s.systemErrorBaseMs * 2 ** Math.max(0, count - 1));
}

/** Lambda's defaults: 2 retries and 6 hours; Nimbus allows up to 8 retries and 24 hours. */
export const defaultMaximumRetryAttempts = 2;
export const defaultMaximumEventAgeSeconds = 6 * 60 * 60;
