/**
 * The REST-JSON protocol's answers (IoT data plane, and later API Gateway-style services): the
 * operation is chosen by method and path, not by a header, so each service routes itself and
 * uses these for its replies. An error is its HTTP status, `x-amzn-ErrorType: <Code>` (which
 * the SDKs read first) and a JSON body `{"message": ...}`.
 */
import type { ServerResponse } from 'node:http';
import { AwsError } from '../aws-error.js';

export function sendRestJson(res: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Answers `error` in the REST-JSON shape; anything not an AwsError is a 500 without details. */
export function sendRestJsonError(res: ServerResponse, error: unknown, fallbackCode: string): void {
  const aws =
    error instanceof AwsError
      ? error
      : new AwsError(500, fallbackCode, 'An internal error occurred.');
  const text = JSON.stringify({ message: aws.message });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(aws.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-errortype': aws.awsCode,
  });
  res.end(text);
}
