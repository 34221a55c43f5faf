/**
 * The Lambda Invoke API (`POST /2015-03-31/functions/{FunctionName}/invocations`), so the AWS SDKs
 * and the AWS CLI call Nimbus functions unchanged. Status codes, headers and error names follow
 * Lambda's (docs/lambda-api.md).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { InvokeOutcome, InvokeResult, ResponseSink } from '../../model/invocation.js';
import { type AccessKeyScope, isRestricted, scopeAllows } from '../auth/access-key-store.js';
import type { RequestVerifier } from '../auth/request-verifier.js';
import { EVENT_STREAM_CONTENT_TYPE, encodeEvent } from '../aws/protocols/event-stream.js';
import { RequestTooLargeError, readBody } from '../http/read-body.js';
import { FunctionNotFoundError, type Invoker } from '../invoker/invoker-port.js';
import { incomingTrace, type TraceContext } from '../observe/tracing/trace-context.js';
import type { CallerFacts } from '../protection/callers.js';
import { type FunctionAddress, functionArn, parseFunctionAddress } from './function-name.js';
import type { OperationAnswer, OperationRequest } from './function-operations.js';
import {
  invalidParameter,
  LambdaApiError,
  lambdaErrorOf,
  sendLambdaError,
  validationError,
} from './lambda-error.js';

export interface LambdaApiDeps {
  invoker: Invoker;
  /** SigV4 or the admin token (createRequestVerifier); runs before anything is resolved. */
  verify: RequestVerifier;
  /**
   * The scope of an access key (`nimbus keys create --service ...`); absent or undefined: the
   * key may invoke anything. The admin token is never scoped.
   */
  scopeOf?: (accessKeyId: string) => Promise<AccessKeyScope | undefined>;
  /** Lambda's synchronous limit, request and response alike: 6 MiB. */
  maxSyncPayloadBytes: number;
  /** The region in ARNs when the caller's credentials name none (the admin token). */
  defaultRegion?: string;
  /** Unexpected errors, answered as 500 ServiceException without their details. */
  onError?: (error: unknown) => void;
  /**
   * Durably queues an `Event` invocation (docs/async.md); resolves with its request id once
   * stored. Absent: Event is refused.
   */
  acceptAsync?: (
    name: string,
    qualifier: string | undefined,
    payload: string,
    idempotencyKey: string | undefined,
    trace?: TraceContext,
  ) => Promise<{ requestId: string }>;
  /**
   * Lambda's control operations (createFunctionOperations); absent: only Invoke is answered.
   * Undefined from it: no such operation.
   */
  operations?: (request: OperationRequest) => Promise<OperationAnswer | undefined>;
  /**
   * The function's rate limits (docs/protection.md); rejects with a 429 NimbusError, which
   * answers TooManyRequestsException. Absent: no limits.
   */
  admit?: (functionName: string, caller: CallerFacts) => Promise<void>;
}

/** Async payloads are capped at 1 MiB (larger: 413, nothing stored). */
const maxAsyncPayloadBytes = 1024 * 1024;

export const lambdaApiPrefix = '/2015-03-31/';
const invocationsPath = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
/** InvokeWithResponseStream, a later API version than Invoke. */
const streamingInvocationsPath =
  /^\/2021-11-15\/functions\/([^/]+)\/response-streaming-invocations$/;
/** X-Amz-Log-Result carries the last 4 KB of the invocation's log. */
const logTailBytes = 4096;
/** Lambda's cap on X-Amz-Client-Context. */
const maxClientContextBytes = 3583;

export function createLambdaApi(deps: LambdaApiDeps) {
  const defaultRegion = deps.defaultRegion ?? 'us-east-1';

  return async function handleLambdaApi(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
  ): Promise<void> {
    const requestId = randomUUID();
    try {
      await serve(req, res, path, requestId);
    } catch (error) {
      const answer = lambdaErrorOf(error);
      if (answer.status >= 500) deps.onError?.(error);
      sendLambdaError(res, answer, requestId);
    }
  };

  /** Every invocation type runs (or would run) code: a write, as lambda:InvokeFunction is. */
  async function checkScope(
    keyId: string,
    scope: AccessKeyScope | undefined,
    address: FunctionAddress,
    region: string,
  ): Promise<void> {
    if (!isRestricted(scope)) return;
    let allowed = false;
    try {
      const target = await deps.invoker.resolve(address.name, address.qualifier);
      allowed = scopeAllows(scope, {
        service: target.service,
        stage: target.stage,
        functionKey: target.config.key,
        functionName: target.functionName,
        write: true,
      });
    } catch (error) {
      // A scoped key learns nothing about functions outside its scope, not even that they exist.
      if (!(error instanceof FunctionNotFoundError)) throw error;
    }
    if (!allowed) {
      throw new LambdaApiError(
        403,
        'AccessDeniedException',
        `User: arn:aws:iam::000000000000:user/${keyId} is not authorized to perform: ` +
          `lambda:InvokeFunction on resource: ${functionArn(region, address)} because the ` +
          'access key is scoped away from it',
        {},
      );
    }
  }

  async function serve(req: IncomingMessage, res: ServerResponse, path: string, requestId: string) {
    const body = await readPayload(req, deps.maxSyncPayloadBytes);
    const auth = await deps.verify(req, body);
    // Signature errors carry `message` alone, as AWS writes them.
    if (!auth.ok) throw new LambdaApiError(403, auth.type, auth.message, {});

    const streamed = streamingInvocationsPath.exec(path);
    const route = invocationsPath.exec(path) ?? streamed;
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    if (!route || req.method !== 'POST') {
      const answer =
        route || !deps.operations
          ? undefined
          : await operate(
              deps.operations,
              req,
              path,
              query,
              body,
              auth,
              deps.scopeOf,
              defaultRegion,
            );
      if (!answer) {
        throw new LambdaApiError(
          404,
          'UnknownOperationException',
          `Unknown operation ${req.method} ${path}`,
        );
      }
      sendOperationAnswer(res, answer, requestId);
      return;
    }
    const address = parseFunctionAddress(route[1]!, query.get('Qualifier'));
    const region = address.region ?? auth.region ?? defaultRegion;
    if (auth.principal !== 'admin' && deps.scopeOf) {
      await checkScope(auth.principal, await deps.scopeOf(auth.principal), address, region);
    }
    const invocationType = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
    const logType = header(req, 'x-amz-log-type') ?? 'None';
    const clientContext = header(req, 'x-amz-client-context');
    if (streamed && invocationType === 'Event') {
      throw validationError(
        invocationType,
        'invocationType',
        'Member must satisfy enum value set: [RequestResponse, DryRun]',
      );
    }
    if (!['RequestResponse', 'Event', 'DryRun'].includes(invocationType)) {
      throw validationError(
        invocationType,
        'invocationType',
        'Member must satisfy enum value set: [Event, RequestResponse, DryRun]',
      );
    }
    if (logType !== 'None' && logType !== 'Tail') {
      throw validationError(logType, 'logType', 'Member must satisfy enum value set: [None, Tail]');
    }
    if (clientContext !== undefined) checkClientContext(clientContext);
    if (deps.admit && invocationType !== 'DryRun') {
      await deps.admit(address.name, {
        peer: req.socket.remoteAddress ?? '127.0.0.1',
        forwardedFor: header(req, 'x-forwarded-for'),
        accessKey: auth.principal === 'admin' ? undefined : auth.principal,
      });
    }
    const trace = incomingTrace(header(req, 'traceparent'), header(req, 'x-amzn-trace-id'));
    // Lambda takes no payload as an empty object.
    const payload = body.length === 0 ? '{}' : body.toString('utf8');
    checkJson(payload);

    if (invocationType === 'Event') {
      if (!deps.acceptAsync)
        throw invalidParameter('asynchronous invocation (Event) is not enabled');
      if (Buffer.byteLength(payload) > maxAsyncPayloadBytes) {
        throw new LambdaApiError(
          413,
          'RequestTooLargeException',
          `Request must be smaller than ${maxAsyncPayloadBytes} bytes for the Invoke operation`,
          {},
        );
      }
      const acceptAsync = deps.acceptAsync;
      const accepted = await withNotFound(region, address, () =>
        acceptAsync(
          address.name,
          address.qualifier,
          payload,
          header(req, 'x-nimbus-idempotency-key'),
          trace,
        ),
      );
      res.writeHead(202, { 'x-amzn-requestid': accepted.requestId, 'content-length': 0 });
      res.end();
      return;
    }
    if (invocationType === 'DryRun') {
      const resolved = await withNotFound(region, address, () =>
        deps.invoker.resolve(address.name, address.qualifier),
      );
      // Not sent by AWS for a dry run; harmless to SDKs, and it lets `nimbus invoke -t DryRun`
      // say which version a real call would run.
      res.writeHead(204, {
        'x-amzn-requestid': requestId,
        'x-amz-executed-version': resolved.version,
      });
      res.end();
      return;
    }

    if (streamed) {
      const resolved = await withNotFound(region, address, () =>
        deps.invoker.resolve(address.name, address.qualifier),
      );
      const stream = new EventStreamResponse(res, {
        'x-amzn-requestid': requestId,
        'x-amz-executed-version': resolved.version,
      });
      const response = await withNotFound(region, address, () =>
        deps.invoker.invoke(address.name, address.qualifier, {
          payload,
          requestId,
          tailLogs: logType === 'Tail',
          stream,
          ...(clientContext === undefined ? {} : { clientContext }),
        }),
      );
      const { result } = response;
      stream.complete(
        result.outcome,
        logType === 'Tail' ? logResult(result.logTail ?? '') : undefined,
      );
      return;
    }
    const response = await withNotFound(region, address, () =>
      deps.invoker.invoke(address.name, address.qualifier, {
        payload,
        requestId,
        tailLogs: logType === 'Tail',
        ...(trace ? { trace } : {}),
        ...(clientContext === undefined ? {} : { clientContext }),
      }),
    );
    const { result } = response;
    const { text, functionError } = responseBody(result, deps.maxSyncPayloadBytes);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': response.requestId,
      'x-amz-executed-version': result.executedVersion,
    };
    // Lambda names every function error Unhandled now (the reference, §2).
    if (functionError) headers['x-amz-function-error'] = 'Unhandled';
    if (logType === 'Tail') headers['x-amz-log-result'] = logResult(result.logTail ?? '');
    res.writeHead(200, headers);
    res.end(text);
  }
}

/**
 * A control operation: the admin token or an unscoped access key only, since a scoped key
 * (`nimbus keys create --service ...`) is for invoking its own functions.
 */
async function operate(
  operations: NonNullable<LambdaApiDeps['operations']>,
  req: IncomingMessage,
  path: string,
  query: URLSearchParams,
  body: Buffer,
  auth: { principal: string; region?: string | undefined },
  scopeOf: LambdaApiDeps['scopeOf'],
  defaultRegion: string,
): Promise<OperationAnswer | undefined> {
  if (auth.principal !== 'admin' && scopeOf && isRestricted(await scopeOf(auth.principal))) {
    throw new LambdaApiError(
      403,
      'AccessDeniedException',
      `User: arn:aws:iam::000000000000:user/${auth.principal} is not authorized to perform ` +
        `${req.method} ${path}: the access key is scoped to invoking functions`,
      {},
    );
  }
  return operations({
    method: req.method ?? 'GET',
    path,
    query,
    body,
    region: auth.region ?? defaultRegion,
  });
}

function sendOperationAnswer(res: ServerResponse, answer: OperationAnswer, requestId: string) {
  if (answer.body === undefined) {
    res.writeHead(answer.status, { 'x-amzn-requestid': requestId, 'content-length': 0 });
    res.end();
    return;
  }
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
  });
  res.end(text);
}

async function readPayload(req: IncomingMessage, limit: number): Promise<Buffer> {
  try {
    return await readBody(req, limit, 'request payload');
  } catch (error) {
    if (error instanceof RequestTooLargeError) {
      // Lambda's wording; the headers keep `connection: close`, so the upload is not read on.
      throw new LambdaApiError(
        413,
        'RequestTooLargeException',
        `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
        undefined,
        error.headers,
      );
    }
    throw error;
  }
}

async function withNotFound<T>(region: string, address: FunctionAddress, run: () => Promise<T>) {
  try {
    return await run();
  } catch (error) {
    if (error instanceof FunctionNotFoundError) {
      throw new LambdaApiError(
        404,
        'ResourceNotFoundException',
        `Function not found: ${functionArn(region, address)}`,
      );
    }
    throw error;
  }
}

/** The function's answer, or (over the response cap) the error Lambda substitutes for it. */
function responseBody(
  result: InvokeResult,
  maxBytes: number,
): { text: string; functionError: boolean } {
  const { outcome } = result;
  if (outcome.status === 'error')
    return { text: JSON.stringify(outcome.error), functionError: true };
  const size = Buffer.byteLength(outcome.payload);
  if (size <= maxBytes) return { text: outcome.payload, functionError: false };
  return {
    text: JSON.stringify({
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: `Response payload size (${size} bytes) exceeded maximum allowed payload size (${maxBytes} bytes).`,
    }),
    functionError: true,
  };
}

/** Base64 of the last 4 KB, cut at a character boundary so the text decodes cleanly. */
export function logResult(logTail: string): string {
  const bytes = Buffer.from(logTail, 'utf8');
  let start = Math.max(0, bytes.length - logTailBytes);
  // Skip UTF-8 continuation bytes (10xxxxxx): they belong to a character cut in half.
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString('base64');
}

function checkClientContext(value: string): void {
  const invalid = invalidParameter('Client context must be a valid Base64-encoded JSON object.');
  if (Buffer.byteLength(value) > maxClientContextBytes) {
    throw invalidParameter(
      `Client context must be at most ${maxClientContextBytes} bytes of Base64-encoded JSON.`,
    );
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw invalid;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid;
  } catch {
    throw invalid;
  }
}

function checkJson(payload: string): void {
  try {
    JSON.parse(payload);
  } catch (error) {
    throw new LambdaApiError(
      400,
      'InvalidRequestContentException',
      `Could not parse request body into json: ${(error as Error).message}`,
    );
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * InvokeWithResponseStream's answer: 200 with an event stream of `PayloadChunk` events (the
 * function's bytes as it writes them), then one `InvokeComplete` (`ErrorCode`, `ErrorDetails`,
 * `LogResult`). The head goes out with the first chunk, so a failure before any byte (throttled,
 * not found) is still answered as Lambda's error.
 */
class EventStreamResponse implements ResponseSink {
  readonly #res: ServerResponse;
  readonly #headers: Record<string, string>;
  #started = false;

  constructor(res: ServerResponse, headers: Record<string, string>) {
    this.#res = res;
    this.#headers = headers;
  }

  chunk(bytes: Buffer): void {
    // The caller went away: nothing to write to.
    if (this.#res.destroyed) return;
    this.#start();
    if (bytes.length > 0) {
      this.#res.write(encodeEvent('PayloadChunk', 'application/octet-stream', bytes));
    }
  }

  /** A handler that did not stream has its whole result sent as one chunk. */
  complete(outcome: InvokeOutcome, logResult: string | undefined): void {
    if (this.#res.destroyed) return;
    this.#start();
    const done: Record<string, string> = {};
    if (outcome.status === 'ok') {
      if (outcome.payload.length > 0) this.chunk(Buffer.from(outcome.payload));
    } else {
      done.ErrorCode = outcome.error.errorType;
      done.ErrorDetails = outcome.error.errorMessage;
    }
    if (logResult !== undefined) done.LogResult = logResult;
    this.#res.end(
      encodeEvent('InvokeComplete', 'application/json', Buffer.from(JSON.stringify(done))),
    );
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#res.writeHead(200, { ...this.#headers, 'content-type': EVENT_STREAM_CONTENT_TYPE });
    this.#res.flushHeaders();
  }
}
