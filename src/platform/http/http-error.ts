import type { ErrorCode } from '../../errors/codes.js';
import { NimbusError } from '../../errors/nimbus-error.js';

/**
 * A NimbusError thrown where the answer is decided on the spot (a route's own checks), so the
 * call site names its status. The catalogue test holds that status to the code's in
 * src/errors/codes.ts, so docs/errors.md stays true.
 */
export class HttpError extends NimbusError {
  declare readonly status: number;

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(code, message, { status, headers });
  }
}
