import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../../model/clock.js';
import { leaveBodyUnread, readBody } from '../http/read-body.js';
import { FunctionNotFoundError, type Invoker } from '../invoker/invoker-port.js';
import { incomingTrace, type TraceContext, toXRay } from '../observe/tracing/trace-context.js';
import { idOnlyTracing, type Tracing } from '../observe/tracing/tracing.js';
import { TooManyRequestsError } from '../pool/pool-errors.js';
import type { CallerFacts } from '../protection/callers.js';
import type { Protection } from '../protection/protection.js';
import { BreakerOpenError } from '../protection/protection-errors.js';
import type { AccessGate } from './access/access-gate.js';
import { preflightResponse, withCors } from './cors.js';
import { buildEventV1 } from './event-v1.js';
import { buildEventV2 } from './event-v2.js';
import { requestHeader, sendGatewayResponse } from './gateway-exchange.js';
import type { GatewayRequest } from './gateway-request.js';
import {
  clientErrorResponse,
  type GatewayResponse,
  internalErrorV1,
  internalErrorV2,
  MAX_REQUEST_BODY_BYTES,
  notFoundResponse,
} from './gateway-response.js';
import { rawHeader } from './headers.js';
import { mapResponseV1 } from './response-v1.js';
import { mapResponseV2 } from './response-v2.js';
import type { RouteMatch, RouteTable } from './route-table.js';

export type AcceptAsync = (
  name: string,
  qualifier: string,
  event: string,
  trace?: TraceContext,
) => Promise<unknown>;

/** Answers a request no route matched, or says (false) it is not its to answer. */
export type UnroutedHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
  rawQuery: string,
) => Promise<boolean>;

/**
 * The HTTP front door for http/httpApi events. Its lifecycle, drawn in docs/gateway.md:
 * route → (preflight) → body cap → event → invoke → map response → CORS → write.
 * The route table is swapped whole when a deployment lands; nothing is compiled per request.
 */
export class GatewayListener {
  #table: RouteTable;
  readonly #invoker: Invoker;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #maxBodyBytes: number;
  readonly #acceptAsync: AcceptAsync | undefined;
  readonly #access: Pick<AccessGate, 'check'> | undefined;
  readonly #protection: Pick<Protection, 'protects' | 'run'> | undefined;
  readonly #tracing: Tracing;
  readonly #unrouted: UnroutedHandler | undefined;

  constructor(deps: {
    table: RouteTable;
    invoker: Invoker;
    clock: Clock;
    logger: Logger;
    /** Queues the event of an `async: true` route (docs/async.md). */
    acceptAsync?: AcceptAsync;
    /** Checks routes that carry authorizers or API keys; without it such routes answer 500. */
    access?: Pick<AccessGate, 'check'>;
    /** Request body cap; Lambda's 6 MB synchronous payload limit unless told. */
    maxBodyBytes?: number;
    /** Rate limits, breakers and fallbacks of `custom.nimbus` (docs/protection.md). */
    protection?: Pick<Protection, 'protects' | 'run'>;
    /** Spans of gateway requests; ids only by default. */
    tracing?: Tracing;
    /**
     * Offered a request no route matches before it gets the 404 (S3 browser form uploads to a
     * path-style bucket URL on the platform's address): routes always win over it.
     */
    unrouted?: UnroutedHandler;
  }) {
    this.#unrouted = deps.unrouted;
    this.#protection = deps.protection;
    this.#tracing = deps.tracing ?? idOnlyTracing();
    this.#maxBodyBytes = deps.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES;
    this.#table = deps.table;
    this.#acceptAsync = deps.acceptAsync;
    this.#access = deps.access;
    this.#invoker = deps.invoker;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
  }

  setTable(table: RouteTable): void {
    this.#table = table;
    for (const warning of table.warnings) this.#logger.warn({ warning }, 'route not served');
  }

  /** Answers the request; a request no route matches gets API Gateway's 404. */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    pathname: string,
    rawQuery: string,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const host = req.headers.host;
    const found = this.#table.lookup(method, pathname, host);
    if (!found) {
      if (await this.#unrouted?.(req, res, pathname, rawQuery)) return;
      leaveBodyUnread(req, res);
      return sendGatewayResponse(res, notFoundResponse());
    }
    if (found.type === 'preflight') {
      leaveBodyUnread(req, res);
      return sendGatewayResponse(res, preflightResponse(found.cors, requestHeader(req, 'origin')));
    }
    let body: Buffer;
    try {
      body = await readBody(req, this.#maxBodyBytes);
    } catch (error) {
      const answer = clientErrorResponse(error);
      if (answer) return sendGatewayResponse(res, answer);
      throw error;
    }
    const requestId = randomUUID();
    const request: GatewayRequest = {
      method,
      rawPath: found.path,
      rawQuery,
      headers: req.rawHeaders,
      body,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      requestId,
      timeEpochMs: this.#clock.now(),
      domainName: host ?? 'localhost',
      protocol: `HTTP/${req.httpVersion}`,
      match: found,
    };
    const span = this.#tracing.start(
      found.routeKey,
      incomingTrace(requestHeader(req, 'traceparent'), requestHeader(req, 'x-amzn-trace-id')),
      {
        kind: 'server',
        attributes: { 'http.request.method': method, 'http.route': found.routeKey },
      },
    );
    request.trace = span.context;
    // As API Gateway, the function sees the request's X-Ray header.
    if (req.headers['x-amzn-trace-id'] === undefined) {
      request.headers.push('X-Amzn-Trace-Id', toXRay(span.context));
    }
    // Public routes (no `access`) skip this entirely: protection costs only the routes that ask.
    const access = found.route.access;
    const response =
      access === undefined
        ? await this.#invoke(found, request)
        : await this.#checkThenInvoke(access, found, request, req);
    response.headers.push(
      found.route.kind === 'httpApi'
        ? ['apigw-requestid', requestId]
        : ['x-amzn-requestid', requestId],
    );
    sendGatewayResponse(res, withCors(found.route.cors, requestHeader(req, 'origin'), response));
    span.end({ 'http.response.status_code': response.statusCode });
  }

  async #checkThenInvoke(
    access: NonNullable<RouteMatch['route']['access']>,
    match: RouteMatch,
    request: GatewayRequest,
    req: IncomingMessage,
  ): Promise<GatewayResponse> {
    const v2 = match.route.kind === 'httpApi';
    if (!this.#access) {
      this.#logger.error(
        { function: match.route.functionName },
        'protected route without an access gate',
      );
      return v2 ? internalErrorV2() : internalErrorV1();
    }
    let result: Awaited<ReturnType<AccessGate['check']>>;
    try {
      result = await this.#access.check(access, request, req);
    } catch (error) {
      this.#logger.error({ err: error, function: match.route.functionName }, 'access check failed');
      return v2 ? internalErrorV2() : internalErrorV1();
    }
    if (!result.ok) return result.response;
    if (result.granted.authorizer) request.authorizer = result.granted.authorizer;
    if (result.granted.identity) request.identity = result.granted.identity;
    return this.#invoke(match, request);
  }

  async #invoke(match: RouteMatch, request: GatewayRequest): Promise<GatewayResponse> {
    const route = match.route;
    // Stages without custom.nimbus protection pay this one lookup and nothing else.
    if (!this.#protection?.protects(route.functionName)) {
      return this.#run(match, request, route.functionName, false);
    }
    try {
      return await this.#protection.run(route, () => callerFactsOf(request), {
        invoke: (name) => this.#run(match, request, name, true),
        staticAnswer: (f) => ({
          statusCode: f.statusCode,
          headers: Object.entries(f.headers ?? {}),
          body: Buffer.from(f.body ?? ''),
        }),
        failed: (response) => response.statusCode >= 500,
        throttled: (error) => error instanceof TooManyRequestsError,
      });
    } catch (error) {
      if (error instanceof BreakerOpenError) return serviceUnavailable(error);
      const answer = clientErrorResponse(error);
      if (answer) return answer;
      this.#logger.error({ err: error, function: route.functionName }, 'gateway invoke failed');
      return route.kind === 'httpApi' ? internalErrorV2() : internalErrorV1();
    }
  }

  /**
   * Runs `functionName` (the route's, or its fallback) with the route's event. With
   * `rethrowThrottle` a concurrency throttle is thrown, so a fallback can answer it.
   */
  async #run(
    match: RouteMatch,
    request: GatewayRequest,
    functionName: string,
    rethrowThrottle: boolean,
  ): Promise<GatewayResponse> {
    const v2 = match.route.kind === 'httpApi';
    const event = v2 ? buildEventV2(request) : buildEventV1(request);
    try {
      if (match.route.async && this.#acceptAsync) {
        // As API Gateway with X-Amz-Invocation-Type: Event: stored, then answered, not awaited.
        await this.#acceptAsync(
          functionName,
          match.route.stage,
          JSON.stringify(event),
          request.trace,
        );
        return {
          statusCode: 200,
          headers: [['content-type', 'application/json']],
          body: Buffer.from('{}'),
        };
      }
      // The stage alias: a new deployment moves it, and the next request runs the new version.
      const { result } = await this.#invoker.invoke(functionName, match.route.stage, {
        payload: JSON.stringify(event),
        requestId: request.requestId,
        ...(request.trace ? { trace: request.trace } : {}),
      });
      const mapped = v2 ? mapResponseV2(result.outcome) : mapResponseV1(result.outcome);
      if (mapped.problem) {
        this.#logger.warn(
          { function: functionName, requestId: request.requestId, ...mapped.problem },
          'function response could not be mapped',
        );
      }
      return mapped.response;
    } catch (error) {
      if (rethrowThrottle && error instanceof TooManyRequestsError) throw error;
      // A route whose function is gone is the integration failing, not the client's 404.
      const answer =
        error instanceof FunctionNotFoundError ? undefined : clientErrorResponse(error);
      if (answer) return answer;
      const level = error instanceof FunctionNotFoundError ? 'warn' : 'error';
      this.#logger[level]({ err: error, function: functionName }, 'gateway invoke failed');
      return v2 ? internalErrorV2() : internalErrorV1();
    }
  }
}

/** What a rate limit may count a request by, once its access check ran. */
function callerFactsOf(request: GatewayRequest): CallerFacts {
  const authorizer = request.authorizer as
    | {
        jwt?: { claims?: { sub?: unknown } };
        claims?: { sub?: unknown };
        iam?: { accessKey?: unknown };
        principalId?: unknown;
      }
    | undefined;
  const sub = authorizer?.jwt?.claims?.sub ?? authorizer?.claims?.sub;
  const accessKey = request.identity?.accessKey ?? authorizer?.iam?.accessKey;
  return {
    peer: request.sourceIp,
    forwardedFor: rawHeader(request.headers, 'x-forwarded-for'),
    apiKey: request.identity?.apiKey,
    jwtSubject: typeof sub === 'string' ? sub : undefined,
    accessKey: typeof accessKey === 'string' ? accessKey : undefined,
    principal: typeof authorizer?.principalId === 'string' ? authorizer.principalId : undefined,
  };
}

/** API Gateway's 503 while a breaker is open and no fallback is configured. */
function serviceUnavailable(error: BreakerOpenError): GatewayResponse {
  return {
    statusCode: 503,
    headers: [['content-type', 'application/json'], ...Object.entries(error.headers)],
    body: Buffer.from('{"message":"Service Unavailable"}'),
  };
}
