/** Over the function's reserved concurrency or the platform-wide cap: Lambda's 429. */
export class TooManyRequestsError extends Error {
  readonly code = 'NIMBUS_POOL_THROTTLED';
  readonly type = 'TooManyRequestsException';
  constructor(
    readonly reason:
      | 'ReservedFunctionConcurrentInvocationLimitExceeded'
      | 'ConcurrentInvocationLimitExceeded',
    readonly retryAfterSeconds = 1,
  ) {
    super(
      reason === 'ConcurrentInvocationLimitExceeded'
        ? 'Rate Exceeded: the platform is running as many instances as it may'
        : 'Rate Exceeded: the function is at its reserved concurrency',
    );
  }
}

/** An instance could not be started (spawn failure, bad code dir): a system error, not the function's. */
export class InstanceStartError extends Error {
  readonly code = 'NIMBUS_POOL_START_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
