import { type ErrorCode, errorCodes } from './codes.js';

export interface NimbusErrorOptions {
  cause?: unknown;
  /** Overrides the status the catalogue gives the code (HttpError and the Lambda API need it). */
  status?: number;
  /** Headers the answer must carry whatever its envelope (retry-after, www-authenticate...). */
  headers?: Record<string, string>;
}

/**
 * The base of every error Nimbus raises on purpose. Domain code throws these; only the edges
 * (control API, gateway, Invoke API) turn them into an HTTP answer, each in its own envelope,
 * from `status`, `code` and `message` alone, so a new error needs no edge change.
 * `status` is undefined for errors not meant to reach a caller: edges answer those as 500.
 */
export class NimbusError extends Error {
  readonly code: ErrorCode;
  readonly status: number | undefined;
  readonly headers: Record<string, string>;
  /** The AWS exception name, for errors that have one on an AWS-shaped edge. */
  readonly type?: string;
  /** AWS's machine-readable sub-reason (Lambda's 429 `Reason`). */
  readonly reason?: string;

  constructor(code: ErrorCode, message: string, options: NimbusErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? errorCodes[code] ?? undefined;
    this.headers = options.headers ?? {};
  }
}
