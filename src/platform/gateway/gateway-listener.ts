import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../../model/clock.js';
import { FunctionNotFoundError, type Invoker } from '../invoker/invoker-port.js';
import { TooManyRequestsError } from '../pool/pool-errors.js';
import { RequestTooLargeError, readCappedBody } from './body-cap.js';
import { preflightResponse, withCors } from './cors.js';
import { buildEventV1 } from './event-v1.js';
import { buildEventV2 } from './event-v2.js';
import type { GatewayRequest } from './gateway-request.js';
import {
  type GatewayResponse,
  internalErrorV1,
  internalErrorV2,
  notFoundResponse,
  tooLargeResponse,
} from './gateway-response.js';
import { mapResponseV1 } from './response-v1.js';
import { mapResponseV2 } from './response-v2.js';
import type { RouteMatch, RouteTable } from './route-table.js';

const TOO_MANY = Buffer.from('{"message":"Too Many Requests"}');

export type AcceptAsync = (name: string, qualifier: string, event: string) => Promise<unknown>;

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

  readonly #acceptAsync: AcceptAsync | undefined;

  constructor(deps: {
    table: RouteTable;
    invoker: Invoker;
    clock: Clock;
    logger: Logger;
    /** Queues the event of an `async: true` route (docs/async.md). */
    acceptAsync?: AcceptAsync;
  }) {
    this.#table = deps.table;
    this.#acceptAsync = deps.acceptAsync;
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
      req.resume();
      return write(res, notFoundResponse());
    }
    if (found.type === 'preflight') {
      req.resume();
      return write(res, preflightResponse(found.cors, header(req, 'origin')));
    }
    let body: Buffer;
    try {
      body = await readCappedBody(req);
    } catch (error) {
      if (error instanceof RequestTooLargeError) return write(res, tooLargeResponse(), true);
      throw error;
    }
    const requestId = randomUUID();
    const response = await this.#invoke(found, {
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
    });
    response.headers.push(
      found.route.kind === 'httpApi'
        ? ['apigw-requestid', requestId]
        : ['x-amzn-requestid', requestId],
    );
    write(res, withCors(found.route.cors, header(req, 'origin'), response));
  }

  async #invoke(match: RouteMatch, request: GatewayRequest): Promise<GatewayResponse> {
    const v2 = match.route.kind === 'httpApi';
    const event = v2 ? buildEventV2(request) : buildEventV1(request);
    try {
      if (match.route.async && this.#acceptAsync) {
        // As API Gateway with X-Amz-Invocation-Type: Event: stored, then answered, not awaited.
        await this.#acceptAsync(match.route.functionName, match.route.stage, JSON.stringify(event));
        return {
          statusCode: 200,
          headers: [['content-type', 'application/json']],
          body: Buffer.from('{}'),
        };
      }
      // The stage alias: a new deployment moves it, and the next request runs the new version.
      const { result } = await this.#invoker.invoke(match.route.functionName, match.route.stage, {
        payload: JSON.stringify(event),
        requestId: request.requestId,
      });
      const mapped = v2 ? mapResponseV2(result.outcome) : mapResponseV1(result.outcome);
      if (mapped.problem) {
        this.#logger.warn(
          { function: match.route.functionName, requestId: request.requestId, ...mapped.problem },
          'function response could not be mapped',
        );
      }
      return mapped.response;
    } catch (error) {
      if (error instanceof TooManyRequestsError) {
        return {
          statusCode: 429,
          headers: [
            ['content-type', 'application/json'],
            ['retry-after', String(error.retryAfterSeconds)],
          ],
          body: TOO_MANY,
        };
      }
      const level = error instanceof FunctionNotFoundError ? 'warn' : 'error';
      this.#logger[level](
        { err: error, function: match.route.functionName },
        'gateway invoke failed',
      );
      return v2 ? internalErrorV2() : internalErrorV1();
    }
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function write(res: ServerResponse, response: GatewayResponse, close = false): void {
  const headers: string[] = [];
  for (const [name, value] of response.headers) headers.push(name, value);
  headers.push('content-length', String(response.body.length));
  if (close) headers.push('connection', 'close');
  res.writeHead(response.statusCode, headers);
  res.end(response.body);
}
