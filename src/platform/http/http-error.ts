/**
 * An error that knows its HTTP status and a stable code (`NIMBUS_<AREA>_<WHAT>`); the listener
 * turns it into `{"error":{"code","message"}}`. Codes are listed in docs/http-api.md.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
