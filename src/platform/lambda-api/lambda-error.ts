import type { ServerResponse } from 'node:http';

/**
 * An error as the Lambda service answers it: a status, the exception name in `x-amzn-ErrorType`
 * (AWS SDK v3 takes the error's `name` from that header first), and a JSON body with `message`.
 * `fields` is the rest of the body: `{Type: "User"|"Service"}` by default, as Lambda writes it;
 * the 429 adds `Reason`; the signature errors carry `message` alone.
 */
export class LambdaApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly fields: Record<string, unknown> = { Type: status >= 500 ? 'Service' : 'User' },
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
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
