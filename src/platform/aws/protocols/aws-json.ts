/**
 * The AWS JSON 1.0 / 1.1 protocols (SQS, and the next services that speak them): a POST whose
 * `X-Amz-Target: <Prefix>.<Operation>` names the operation and whose body is the input object.
 * The service answers an output object or throws an AwsError; this codec writes the JSON and
 * shapes errors into `{"__type": "<namespace>#<Code>", "message": "..."}`, with the
 * `x-amzn-query-error: <Code>;<Sender|Receiver>` header for services that moved from the query
 * protocol (awsQueryCompatible), whose SDKs read the old error code from it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../../http/read-body.js';
import { AwsError } from '../aws-error.js';
import { asAwsError } from './rest-xml.js';

export interface AwsJsonCall {
  operation: string;
  input: Record<string, unknown>;
  /** The raw body, which SigV4 verification hashes. */
  body: Buffer;
  req: IncomingMessage;
  requestId: string;
}

export interface AwsJsonHandlerOptions {
  /** `1.0` or `1.1`: the content type answered. */
  version: '1.0' | '1.1';
  /** The X-Amz-Target prefix, `AmazonSQS`. */
  targetPrefix: string;
  /** The `__type` namespace of errors, `com.amazonaws.sqs`. */
  errorNamespace: string;
  maxBodyBytes: number;
  /** Checks the caller (SigV4 over the whole body) before anything else is read; throws. */
  authenticate: (req: IncomingMessage, body: Buffer) => Promise<void>;
  serve: (call: AwsJsonCall) => Promise<object>;
  /** awsQueryCompatible: the query-protocol code and fault of an error, for the header. */
  queryError?: (error: AwsError) => { code: string; fault: 'Sender' | 'Receiver' } | undefined;
  onError?: (error: unknown) => void;
}

/** True when the request is an AWS JSON call (what the service tells apart from query calls). */
export function isAwsJsonRequest(req: IncomingMessage): boolean {
  return typeof req.headers['x-amz-target'] === 'string';
}

export function createAwsJsonHandler(opts: AwsJsonHandlerOptions) {
  return async function handleAwsJson(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    let output: object;
    try {
      const body = await readJsonBody(req, opts.maxBodyBytes);
      await opts.authenticate(req, body);
      const operation = operationOf(req, opts.targetPrefix);
      output = await opts.serve({ operation, input: parseInput(body), body, req, requestId });
    } catch (error) {
      if (!req.readableEnded) req.resume();
      sendAwsJsonError(res, asJsonError(error, opts.onError), requestId, opts);
      return;
    }
    const bytes = Buffer.from(JSON.stringify(output), 'utf8');
    res.writeHead(200, {
      'content-type': `application/x-amz-json-${opts.version}`,
      'content-length': bytes.length,
      'x-amzn-requestid': requestId,
    });
    res.end(bytes);
  };
}

export function sendAwsJsonError(
  res: ServerResponse,
  error: AwsError,
  requestId: string,
  opts: Pick<AwsJsonHandlerOptions, 'version' | 'errorNamespace' | 'queryError'>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(
    JSON.stringify({
      __type: `${opts.errorNamespace}#${error.awsCode}`,
      message: error.message,
      ...error.fields,
    }),
  );
  const query = opts.queryError?.(error);
  res.writeHead(error.status, {
    'content-type': `application/x-amz-json-${opts.version}`,
    'content-length': body.length,
    'x-amzn-requestid': requestId,
    ...(query ? { 'x-amzn-query-error': `${query.code};${query.fault}` } : {}),
    ...error.headers,
  });
  res.end(body);
}

async function readJsonBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  try {
    return await readBody(req, limit);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'NIMBUS_HTTP_TOO_LARGE') {
      throw new AwsError(413, 'RequestEntityTooLarge', `The request body exceeds ${limit} bytes.`);
    }
    throw error;
  }
}

function operationOf(req: IncomingMessage, prefix: string): string {
  const target = req.headers['x-amz-target'];
  if (req.method !== 'POST' || typeof target !== 'string' || !target.startsWith(`${prefix}.`)) {
    throw new AwsError(400, 'UnknownOperationException', 'The requested operation is unknown.');
  }
  return target.slice(prefix.length + 1);
}

function parseInput(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AwsError(400, 'SerializationException', 'The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AwsError(400, 'SerializationException', 'The request body is not a JSON object.');
  }
  return value as Record<string, unknown>;
}

function asJsonError(error: unknown, onError?: (error: unknown) => void): AwsError {
  const aws = asAwsError(error, onError);
  // asAwsError names unexpected errors as REST-XML does; JSON services call it InternalFailure.
  return aws.awsCode === 'InternalError' && !(error instanceof AwsError)
    ? new AwsError(500, 'InternalFailure', aws.message)
    : aws;
}
