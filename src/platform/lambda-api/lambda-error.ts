import type { ServerResponse } from 'node:http';
import { NimbusError } from '../../errors/nimbus-error.js';

/**
 * An error as the Lambda service answers it: a status, the exception name in `x-amzn-ErrorType`
 * (AWS SDK v3 takes the error's `name` from that header first), and a JSON body with `message`.
 * `fields` is the rest of the body: `{Type: "User"|"Service"}` by default, as Lambda writes it;
 * the 429 adds `Reason`; the signature errors carry `message` alone.
 */
export class LambdaApiError extends NimbusError {
  declare readonly status: number;
  declare readonly type: string;

  constructor(
    status: number,
    type: string,
    message: string,
    readonly fields: Record<string, unknown> = { Type: status >= 500 ? 'Service' : 'User' },
    headers: Record<string, string> = {},
  ) {
    super('NIMBUS_LAMBDA_ERROR', message, { status, headers });
    this.type = type;
  }
}

/** The exception Lambda names for a status, for errors that carry no AWS name of their own. */
const typeByStatus: Record<number, string> = {
  400: 'InvalidParameterValueException',
  404: 'ResourceNotFoundException',
  409: 'ResourceConflictException',
  413: 'RequestTooLargeException',
  429: 'TooManyRequestsException',
};

/**
 * Lambda's envelope for any thrown value: a NimbusError with a status keeps it, under its own
 * AWS name (`type`) or the one Lambda uses for that status; anything else is a 500
 * ServiceException that says nothing of its cause.
 */
export function lambdaErrorOf(error: unknown): LambdaApiError {
  if (error instanceof LambdaApiError) return error;
  if (error instanceof NimbusError && error.status !== undefined) {
    const service = error.status >= 500;
    const type =
      error.type ??
      (service ? 'ServiceException' : (typeByStatus[error.status] ?? typeByStatus[400]!));
    const fields: Record<string, unknown> = { Type: service ? 'Service' : 'User' };
    if (error.reason !== undefined) fields.Reason = error.reason;
    return new LambdaApiError(error.status, type, error.message, fields, error.headers);
  }
  return new LambdaApiError(
    500,
    'ServiceException',
    'An internal error occurred; see the server log.',
  );
}

/**
 * Lambda's API model spells the message `Message` on these exceptions and `message` on the rest;
 * the SDK reads either into `err.message`, but only the model's spelling into `err.Message`.
 */
const capitalMessage = new Set(['ResourceNotFoundException', 'ServiceException']);

export function sendLambdaError(res: ServerResponse, error: LambdaApiError, requestId: string) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const key = capitalMessage.has(error.type) ? 'Message' : 'message';
  const text = JSON.stringify({ ...error.fields, [key]: error.message });
  res.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': error.type,
    ...error.headers,
  });
  res.end(text);
}

export function invalidParameter(message: string): LambdaApiError {
  return new LambdaApiError(400, 'InvalidParameterValueException', message);
}

/** What Lambda answers when a parameter breaks its API model's constraints. */
export function validationError(value: string, field: string, constraint: string) {
  return new LambdaApiError(
    400,
    'ValidationException',
    `1 validation error detected: Value '${value}' at '${field}' failed to satisfy ` +
      `constraint: ${constraint}`,
  );
}
