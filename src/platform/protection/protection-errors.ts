import { NimbusError } from '../../errors/nimbus-error.js';

/**
 * A request over a rate limit: 429 with `Retry-After`. The gateway answers API Gateway's
 * `{"message":"Too Many Requests"}`, the Invoke API Lambda's TooManyRequestsException.
 */
export class RateLimitedError extends NimbusError {
  override readonly type = 'TooManyRequestsException';
  override readonly reason = 'CallerRateLimitExceeded';
  constructor(message: string, retryAfterSec: number) {
    super('NIMBUS_RATE_LIMITED', message, {
      headers: { 'retry-after': String(Math.max(1, retryAfterSec)) },
    });
  }
}

/** The function's circuit breaker is open and it has no fallback: 503 until it half-opens. */
export class BreakerOpenError extends NimbusError {
  constructor(message: string, retryAfterSec: number) {
    super('NIMBUS_BREAKER_OPEN', message, {
      headers: { 'retry-after': String(Math.max(1, retryAfterSec)) },
    });
  }
}

/** A platform option about protection (trusted proxies) that cannot be honoured. */
export class ProtectionConfigError extends NimbusError {
  constructor(message: string) {
    super('NIMBUS_PROTECTION_CONFIG', message);
  }
}
