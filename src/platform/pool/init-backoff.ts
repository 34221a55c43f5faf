import type { FunctionErrorBody } from '../../model/invocation.js';

/** The first wait after an init failure; it doubles with each failure in a row. */
export const INIT_BACKOFF_MIN_MS = 100;
/** Past this the wait stops growing: a fixed deploy is picked up by its new version anyway. */
export const INIT_BACKOFF_MAX_MS = 30_000;

/** The last init failure of a version, and how long starts of it are held back. */
export interface InitFailure {
  error: FunctionErrorBody;
  /** Failures in a row; starts that overlapped count once. */
  count: number;
  failedAt: number;
  /** No instance of the version is started before this (clock ms). */
  retryAt: number;
}

/**
 * What the pool knows about one version's init. Kept apart from the instances, which scale to
 * zero, so that neither a failure streak nor a proven version is forgotten when the last
 * instance goes.
 */
export class InitHealth {
  /** An init has succeeded since the last failure: starts may run in parallel. */
  proven = false;
  failure: InitFailure | undefined;

  succeeded(): void {
    this.proven = true;
    this.failure = undefined;
  }

  /** `startedAt`: when the failed start began, so that a burst failing together is one failure. */
  failed(error: FunctionErrorBody, startedAt: number, now: number): InitFailure {
    const prev = this.failure;
    const count = !prev ? 1 : startedAt > prev.failedAt ? prev.count + 1 : prev.count;
    const wait = Math.min(INIT_BACKOFF_MAX_MS, INIT_BACKOFF_MIN_MS * 2 ** (count - 1));
    this.proven = false;
    this.failure = { error, count, failedAt: now, retryAt: now + wait };
    return this.failure;
  }

  /** The failure requests get instead of a start, while its back-off lasts. */
  holdingBack(now: number): InitFailure | undefined {
    return this.failure && now < this.failure.retryAt ? this.failure : undefined;
  }
}

/**
 * A factory error that is the function's own fault (a provided package without a bootstrap,
 * Runtime.InvalidEntrypoint): answered and backed off like any init failure.
 */
export function functionErrorOf(error: unknown): FunctionErrorBody | undefined {
  if (typeof error !== 'object' || error === null || !('functionError' in error)) return undefined;
  const body = (error as { functionError: unknown }).functionError as FunctionErrorBody | undefined;
  return body && typeof body.errorType === 'string' ? body : undefined;
}
