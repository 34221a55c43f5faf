/**
 * The AWS JSON 1.0 / 1.1 protocols (DynamoDB, SQS, and the next services that speak them): every
 * call is `POST /` with `X-Amz-Target: <prefix>.<Operation>` and a JSON document. This one codec
 * reads and verifies the body (before parsing anything), dispatches on the target, writes the
 * JSON answer with its request id (and CRC32, where the service sends one), and shapes errors
 * into the JSON envelope `{"__type": "<namespace>#<Code>", "message": ...}`, with the
 * `x-amzn-query-error: <Code>;<Sender|Receiver>` header for services that moved from the query
 * protocol (awsQueryCompatible: SQS), whose SDKs read the old error code from it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { type AccessKeyScope, isRestricted } from '../../auth/access-key-store.js';
import type { CallerScopes } from '../../auth/caller-scopes.js';
import type { AuthOutcome } from '../../auth/request-verifier.js';
import type { SigV4ErrorType } from '../../auth/sigv4.js';
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

/**
 * An answer already in JSON text (a GetItem splicing in the item as stored): sent as it is,
 * where another answer is stringified.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

export interface AwsJsonContext {
  requestId: string;
  principal: string;
  /** The operation named by the target, and the request (its URL and headers). */
  operation: string;
  req: IncomingMessage;
  /** The signer's scope when it is restricted (session credentials, scoped keys). */
  scope?: AccessKeyScope;
}

export type AwsJsonOperation = (
  input: Record<string, unknown>,
  ctx: AwsJsonContext,
) => Promise<object>;

export interface AwsJsonHandlerOptions {
  version: '1.0' | '1.1';
  /** `DynamoDB_20120810`: the part of X-Amz-Target before the dot. */
  targetPrefix: string;
  /**
   * The service's operations by name; an unknown one is UnknownOperationException. A service
   * with its own answer to unknown or unsupported names gives `dispatch` instead.
   */
  operations?: Record<string, AwsJsonOperation>;
  dispatch?: (
    operation: string,
    input: Record<string, unknown>,
    ctx: AwsJsonContext,
  ) => Promise<object>;
  /** The namespace of the service's own error codes (`com.amazonaws.dynamodb.v20120810`). */
  errorNamespace: string;
  verify: (req: IncomingMessage, body: Buffer) => Promise<AuthOutcome>;
  /** The shared scope lookup: operations see a restricted caller's scope in `ctx.scope`. */
  scopeOf?: CallerScopes;
  maxBodyBytes: number;
  /** DynamoDB sends `x-amz-crc32` of every response body. */
  crc32?: boolean;
  /**
   * Front-end refusals (bad JSON, unknown operation, signature) carry the coral namespaces, as
   * DynamoDB answers them; otherwise every code is in errorNamespace.
   */
  coralNamespaces?: boolean;
  /** The service's own answer to a refused signature (default: the coral front end's). */
  authError?: (failure: { type: SigV4ErrorType; message: string }) => AwsError;
  /** awsQueryCompatible: the query-protocol code and fault of an error, for the header. */
  queryError?: (error: AwsError) => { code: string; fault: 'Sender' | 'Receiver' } | undefined;
  /** Unexpected errors, answered as 500 InternalServerError without their details. */
  onError?: (error: unknown) => void;
}

/** True when the request is an AWS JSON call (what a service with two protocols tells apart). */
export function isAwsJsonRequest(req: IncomingMessage): boolean {
  return typeof req.headers['x-amz-target'] === 'string';
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
  const send = (
    res: ServerResponse,
    status: number,
    requestId: string,
    doc: object,
    extraHeaders: Record<string, string> = {},
  ) => {
    // Kept a string: node writes the head and a string body in one write (a Buffer body goes
    // out by writev, beside the head), and crc32 reads the string's UTF-8 as the client will.
    const body = doc instanceof JsonText ? doc.text : JSON.stringify(doc);
    const headers: Record<string, string | number> = {
      'content-type': contentType,
      'content-length': Buffer.byteLength(body, 'utf8'),
      'x-amzn-requestid': requestId,
      ...extraHeaders,
    };
    if (opts.crc32) headers['x-amz-crc32'] = crc32(body);
    res.writeHead(status, headers);
    res.end(body, 'utf8');
  };
  const sendError = (res: ServerResponse, requestId: string, error: unknown) => {
    const aws = asJsonAwsError(error, opts.onError);
    const namespace = (opts.coralNamespaces && coralCodes[aws.awsCode]) || opts.errorNamespace;
    const extra = aws instanceof AwsJsonError ? aws.jsonFields : {};
    const query = opts.queryError?.(aws);
    send(
      res,
      aws.status,
      requestId,
      { __type: `${namespace}#${aws.awsCode}`, message: aws.message, ...aws.fields, ...extra },
      {
        ...(query ? { 'x-amzn-query-error': `${query.code};${query.fault}` } : {}),
        ...aws.headers,
      },
    );
  };
  const dispatch =
    opts.dispatch ??
    ((operation: string, input: Record<string, unknown>, ctx: AwsJsonContext) => {
      const run =
        opts.operations && Object.hasOwn(opts.operations, operation)
          ? opts.operations[operation]
          : undefined;
      if (!run) throw new AwsError(400, 'UnknownOperationException', 'Unknown operation');
      return run(input, ctx);
    });

  return async function handleAwsJson(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    try {
      if (req.method !== 'POST') {
        throw new AwsError(400, 'SerializationException', 'Only POST requests are accepted');
      }
      const body = await readBody(req, opts.maxBodyBytes, 'request body');
      const auth = await opts.verify(req, body);
      if (!auth.ok) {
        throw (opts.authError ?? ((f) => authError(f.type, f.message)))({
          type: auth.type,
          message: auth.message,
        });
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      const dot = target.indexOf('.');
      if (dot <= 0 || target.slice(0, dot) !== opts.targetPrefix) {
        throw new AwsError(400, 'UnknownOperationException', 'Unknown operation');
      }
      const operation = target.slice(dot + 1);
      const input = parseInput(body);
      const found = opts.scopeOf?.(auth.principal);
      const scope = found instanceof Promise ? await found : found;
      const output = await dispatch(operation, input, {
        requestId,
        principal: auth.principal,
        operation,
        req,
        ...(isRestricted(scope) ? { scope } : {}),
      });
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
