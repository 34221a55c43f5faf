/**
 * The AWS JSON 1.0 / 1.1 protocols (DynamoDB, and the next services that speak them): every call
 * is `POST /` with `X-Amz-Target: <prefix>.<Operation>` and a JSON document. This codec reads
 * and verifies the body, dispatches on the target, writes the JSON answer with its request id
 * (and CRC32, where the service sends one), and shapes errors into the JSON envelope
 * `{"__type": "<namespace>#<Code>", "message": ...}`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import type { AuthOutcome } from '../../auth/request-verifier.js';
import { RequestTooLargeError, readBody } from '../../http/read-body.js';
import { AwsError } from '../aws-error.js';

/** An AwsError whose envelope carries structured fields (DynamoDB: `CancellationReasons`, `Item`). */
export class AwsJsonError extends AwsError {
  constructor(
    status: number,
    awsCode: string,
    message: string,
    readonly jsonFields: Record<string, unknown> = {},
  ) {
    super(status, awsCode, message);
  }
}

export interface AwsJsonContext {
  requestId: string;
  principal: string;
}

export type AwsJsonOperation = (
  input: Record<string, unknown>,
  ctx: AwsJsonContext,
) => Promise<object>;

export interface AwsJsonHandlerOptions {
  version: '1.0' | '1.1';
  /** `DynamoDB_20120810`: the part of X-Amz-Target before the dot. */
  targetPrefix: string;
  operations: Record<string, AwsJsonOperation>;
  /** The namespace of the service's own error codes (`com.amazonaws.dynamodb.v20120810`). */
  errorNamespace: string;
  verify: (req: IncomingMessage, body: Buffer) => Promise<AuthOutcome>;
  maxBodyBytes: number;
  /** DynamoDB sends `x-amz-crc32` of every response body. */
  crc32?: boolean;
  /** Unexpected errors, answered as 500 InternalServerError without their details. */
  onError?: (error: unknown) => void;
}

/** Codes AWS's front end (coral) answers before any service sees the call. */
const coralCodes: Record<string, string> = {
  ValidationException: 'com.amazon.coral.validate',
  SerializationException: 'com.amazon.coral.service',
  UnknownOperationException: 'com.amazon.coral.service',
  UnrecognizedClientException: 'com.amazon.coral.service',
  InvalidSignatureException: 'com.amazon.coral.service',
  MissingAuthenticationTokenException: 'com.amazon.coral.service',
  IncompleteSignatureException: 'com.amazon.coral.service',
  AccessDeniedException: 'com.amazon.coral.service',
  InternalFailure: 'com.amazon.coral.service',
  RequestEntityTooLarge: 'com.amazon.coral.service',
};

export function createAwsJsonHandler(opts: AwsJsonHandlerOptions) {
  const contentType = `application/x-amz-json-${opts.version}`;
  const send = (res: ServerResponse, status: number, requestId: string, doc: object) => {
    const body = Buffer.from(JSON.stringify(doc), 'utf8');
    const headers: Record<string, string | number> = {
      'content-type': contentType,
      'content-length': body.length,
      'x-amzn-requestid': requestId,
    };
    if (opts.crc32) headers['x-amz-crc32'] = crc32(body);
    res.writeHead(status, headers);
    res.end(body);
  };
  const sendError = (res: ServerResponse, requestId: string, error: unknown) => {
    const aws = asJsonAwsError(error, opts.onError);
    const namespace = coralCodes[aws.awsCode] ?? opts.errorNamespace;
    const extra = aws instanceof AwsJsonError ? aws.jsonFields : {};
    send(res, aws.status, requestId, {
      __type: `${namespace}#${aws.awsCode}`,
      message: aws.message,
      ...extra,
    });
  };

  return async function handleAwsJson(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    try {
      if (req.method !== 'POST') {
        throw new AwsError(400, 'SerializationException', 'Only POST requests are accepted');
      }
      const body = await readBody(req, opts.maxBodyBytes, 'request body');
      const auth = await opts.verify(req, body);
      if (!auth.ok) throw authError(auth.type, auth.message);
      const target = String(req.headers['x-amz-target'] ?? '');
      const dot = target.indexOf('.');
      const operation =
        dot > 0 && target.slice(0, dot) === opts.targetPrefix
          ? opts.operations[target.slice(dot + 1)]
          : undefined;
      if (!operation || !Object.hasOwn(opts.operations, target.slice(dot + 1))) {
        throw new AwsError(400, 'UnknownOperationException', 'Unknown operation');
      }
      const input = parseInput(body);
      const output = await operation(input, { requestId, principal: auth.principal });
      send(res, 200, requestId, output);
    } catch (error) {
      if (!req.readableEnded) req.resume();
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendError(res, requestId, error);
    }
  };
}

function parseInput(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AwsError(
      400,
      'SerializationException',
      'Start of structure or map found where not expected.',
    );
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new AwsError(
      400,
      'SerializationException',
      'Start of structure or map found where not expected.',
    );
  }
  return doc as Record<string, unknown>;
}

function authError(type: string, message: string): AwsError {
  switch (type) {
    case 'UnrecognizedClientException':
      return new AwsError(
        400,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    case 'InvalidSignatureException':
      return new AwsError(400, 'InvalidSignatureException', message);
    case 'MissingAuthenticationTokenException':
      return new AwsError(
        400,
        'MissingAuthenticationTokenException',
        'Request is missing Authentication Token',
      );
    default:
      return new AwsError(400, type, message);
  }
}

function asJsonAwsError(error: unknown, onError?: (error: unknown) => void): AwsError {
  if (error instanceof AwsError) {
    if (error.status >= 500) onError?.(error);
    return error;
  }
  if (error instanceof RequestTooLargeError) {
    return new AwsError(
      413,
      'RequestEntityTooLarge',
      `Request payload size exceeds the limit of ${error.limit} bytes`,
    );
  }
  onError?.(error);
  return new AwsError(500, 'InternalServerError', 'Internal server error');
}
