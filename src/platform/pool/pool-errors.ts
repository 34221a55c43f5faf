import { NimbusError } from '../../errors/nimbus-error.js';

/** Over the function's reserved concurrency or the platform-wide cap: Lambda's 429. */
export class TooManyRequestsError extends NimbusError {
  override readonly type = 'TooManyRequestsException';
  constructor(
    override readonly reason:
      | 'ReservedFunctionConcurrentInvocationLimitExceeded'
      | 'ConcurrentInvocationLimitExceeded',
    readonly retryAfterSeconds = 1,
  ) {
    super(
      'NIMBUS_POOL_THROTTLED',
      reason === 'ConcurrentInvocationLimitExceeded'
        ? 'Rate Exceeded: the platform is running as many instances as it may'
        : 'Rate Exceeded: the function is at its reserved concurrency',
      { headers: { 'retry-after': String(retryAfterSeconds) } },
    );
  }
}

/** An instance could not be started (spawn failure, bad code dir): a system error, not the function's. */
export class InstanceStartError extends NimbusError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NIMBUS_POOL_START_FAILED', `The function could not be started: ${message}`, options);
  }
}
