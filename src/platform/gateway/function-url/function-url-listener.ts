import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../../../model/clock.js';
import { type AccessKeyScope, scopeAllows } from '../../auth/access-key-store.js';
import type { RequestVerifier } from '../../auth/request-verifier.js';
import { leaveBodyUnread, readBody } from '../../http/read-body.js';
import type { Invoker } from '../../invoker/invoker-port.js';
import { verifyIam } from '../access/iam-authorizer.js';
import { preflightResponse, withCors } from '../cors.js';
import { requestHeader, sendGatewayResponse } from '../gateway-exchange.js';
import { ACCOUNT_ID } from '../gateway-request.js';
import {
  clientErrorResponse,
  type GatewayResponse,
  MAX_REQUEST_BODY_BYTES,
} from '../gateway-response.js';
import { buildFunctionUrlEvent, type FunctionUrlRequest } from './function-url-event.js';
import type { FunctionUrlTarget } from './function-url-id.js';
import { functionUrlInternalError, mapFunctionUrlResponse } from './function-url-response.js';
import { StreamedUrlResponse } from './function-url-stream.js';
import type { FunctionUrlEntry, FunctionUrlTable } from './function-url-table.js';

const FORBIDDEN = Buffer.from('{"Message":"Forbidden"}');
const NOT_FOUND = Buffer.from('{"Message":"Not Found"}');

export interface FunctionUrlDeps {
  invoker: Invoker;
  clock: Clock;
  logger: Logger;
  /** SigV4 with service `lambda`: the verifier the Invoke API uses (AWS_IAM URLs). */
  verifyIam: RequestVerifier;
  scopeOf(id: string): Promise<AccessKeyScope | undefined>;
  maxBodyBytes?: number;
}

/**
 * Answers requests for function URLs (docs/function-urls.md): target → (preflight) → body cap →
 * (IAM) → event → invoke → map → CORS → write. The table is swapped whole when a deployment
 * lands, like the gateway's route table.
 */
export class FunctionUrlListener {
  #table: FunctionUrlTable = new Map();
  readonly #deps: FunctionUrlDeps;
  readonly #maxBodyBytes: number;

  constructor(deps: FunctionUrlDeps) {
    this.#deps = deps;
    this.#maxBodyBytes = deps.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES;
  }

  setTable(table: FunctionUrlTable): void {
    this.#table = table;
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    target: FunctionUrlTarget,
    rawQuery: string,
  ): Promise<void> {
    const entry = this.#table.get(target.urlId);
    if (entry === undefined) {
      leaveBodyUnread(req, res);
      return sendGatewayResponse(res, json(404, NOT_FOUND));
    }
    const origin = requestHeader(req, 'origin');
    const method = req.method ?? 'GET';
    if (
      method === 'OPTIONS' &&
      entry.cors &&
      origin !== undefined &&
      requestHeader(req, 'access-control-request-method') !== undefined
    ) {
      leaveBodyUnread(req, res);
      return sendGatewayResponse(res, preflightResponse(entry.cors, origin));
    }
    let body: Buffer;
    try {
      body = await readBody(req, this.#maxBodyBytes);
    } catch (error) {
      const answer = clientErrorResponse(error);
      if (answer) return sendGatewayResponse(res, answer);
      throw error;
    }
    const request: FunctionUrlRequest = {
      urlId: entry.urlId,
      method,
      rawPath: target.rawPath,
      rawQuery,
      headers: req.rawHeaders,
      body,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      requestId: randomUUID(),
      timeEpochMs: this.#deps.clock.now(),
      domainName: req.headers.host ?? 'localhost',
      protocol: `HTTP/${req.httpVersion}`,
    };
    if (entry.authType === 'AWS_IAM') {
      const refusal = await this.#checkIam(entry, request, req);
      if (refusal) return sendGatewayResponse(res, refusal);
    }
    const finishHead = (response: GatewayResponse): GatewayResponse => {
      response.headers.push(['x-amzn-requestid', request.requestId]);
      return withCors(entry.cors, origin, response);
    };
    if (entry.invokeMode === 'RESPONSE_STREAM') {
      return this.#stream(entry, request, new StreamedUrlResponse(res, finishHead));
    }
    sendGatewayResponse(res, finishHead(await this.#invoke(entry, request)));
  }

  /** RESPONSE_STREAM: the function's bytes go to the client as it writes them. */
  async #stream(
    entry: FunctionUrlEntry,
    request: FunctionUrlRequest,
    sink: StreamedUrlResponse,
  ): Promise<void> {
    try {
      const { result } = await this.#deps.invoker.invoke(entry.functionName, entry.stage, {
        payload: JSON.stringify(buildFunctionUrlEvent(request)),
        requestId: request.requestId,
        stream: sink,
      });
      if (result.outcome.status === 'error' && sink.started) {
        this.#deps.logger.warn(
          {
            function: entry.functionName,
            requestId: request.requestId,
            error: result.outcome.error.errorType,
          },
          'streamed response cut short by a function error',
        );
      }
      sink.finish(result.outcome);
    } catch (error) {
      const answer = clientErrorResponse(error);
      if (!answer) {
        this.#deps.logger.error(
          { err: error, function: entry.functionName },
          'function URL invoke failed',
        );
      }
      sink.fail(answer ?? functionUrlInternalError());
    }
  }

  /** AWS_IAM: a SigV4 signature for `lambda` by a key whose scope reaches the function. */
  async #checkIam(
    entry: FunctionUrlEntry,
    request: FunctionUrlRequest,
    req: IncomingMessage,
  ): Promise<GatewayResponse | undefined> {
    const outcome = await verifyIam(req, request.body, {
      verify: this.#deps.verifyIam,
      scopeOf: this.#deps.scopeOf,
    });
    const allowed =
      outcome.ok &&
      scopeAllows(outcome.scope, {
        service: entry.service,
        stage: entry.stage,
        functionKey: entry.functionKey,
        functionName: entry.functionName,
        write: true,
      });
    if (!outcome.ok || !allowed) {
      this.#deps.logger.info(
        {
          function: entry.functionName,
          requestId: request.requestId,
          reason: outcome.ok ? 'the access key scope does not reach the function' : outcome.type,
        },
        'function URL request refused',
      );
      const refused = json(403, FORBIDDEN);
      refused.headers.push(['x-amzn-errortype', 'AccessDeniedException']);
      return refused;
    }
    request.iam = {
      accessKey: outcome.accessKeyId,
      callerId: outcome.accessKeyId,
      userId: outcome.accessKeyId,
      userArn: `arn:aws:iam::${ACCOUNT_ID}:user/${outcome.accessKeyId}`,
    };
    return undefined;
  }

  async #invoke(entry: FunctionUrlEntry, request: FunctionUrlRequest): Promise<GatewayResponse> {
    try {
      // The stage alias: a new deployment moves it, and the next request runs the new version.
      const { result } = await this.#deps.invoker.invoke(entry.functionName, entry.stage, {
        payload: JSON.stringify(buildFunctionUrlEvent(request)),
        requestId: request.requestId,
      });
      const mapped = mapFunctionUrlResponse(result.outcome);
      if (mapped.problem) {
        this.#deps.logger.warn(
          { function: entry.functionName, requestId: request.requestId, ...mapped.problem },
          'function response could not be mapped',
        );
      }
      return mapped.response;
    } catch (error) {
      const answer = clientErrorResponse(error);
      if (answer) return answer;
      this.#deps.logger.error(
        { err: error, function: entry.functionName },
        'function URL invoke failed',
      );
      return functionUrlInternalError();
    }
  }
}

function json(statusCode: number, body: Buffer): GatewayResponse {
  return { statusCode, headers: [['content-type', 'application/json']], body };
}
