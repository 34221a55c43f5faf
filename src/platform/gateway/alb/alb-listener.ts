import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { NimbusError } from '../../../errors/nimbus-error.js';
import { leaveBodyUnread, readBody } from '../../http/read-body.js';
import type { Invoker } from '../../invoker/invoker-port.js';
import { buildAlbEvent } from './alb-event.js';
import {
  type AlbResponse,
  albErrorPage,
  MAX_ALB_BODY_BYTES,
  mapAlbResponse,
} from './alb-response.js';
import type { AlbRule, AlbTable } from './alb-table.js';
import type { AlbTarget } from './alb-target.js';

/** A listener's default action on Nimbus: no rule matched (docs/alb.md). */
const NOT_FOUND: AlbResponse = {
  statusCode: 404,
  headers: [
    ['server', 'awselb/2.0'],
    ['content-type', 'text/plain; charset=utf-8'],
  ],
  body: Buffer.from('Not Found'),
};

/**
 * Answers requests for ALB listeners (docs/alb.md): listener → first rule (by priority) whose
 * conditions all match → body cap (1 MB, as ELB for Lambda targets) → target-group event →
 * invoke → map → write. The table is swapped whole when a deployment lands.
 */
export class AlbListener {
  #table: AlbTable = { listeners: new Map(), warnings: [] };
  readonly #invoker: Invoker;
  readonly #logger: Logger;

  constructor(deps: { invoker: Invoker; logger: Logger }) {
    this.#invoker = deps.invoker;
    this.#logger = deps.logger;
  }

  setTable(table: AlbTable): void {
    this.#table = table;
    for (const warning of table.warnings) this.#logger.warn({ warning }, 'alb rule not served');
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    target: AlbTarget,
    rawQuery: string,
  ): Promise<void> {
    const listener = this.#table.listeners.get(target.listener);
    const method = req.method ?? 'GET';
    const sourceIp = req.socket.remoteAddress ?? '127.0.0.1';
    const facts = {
      method,
      path: target.path,
      host: target.host,
      headers: req.rawHeaders,
      rawQuery,
      sourceIp,
    };
    const rule = listener?.rules.find((r) => r.matches(facts));
    if (rule === undefined) {
      leaveBodyUnread(req, res);
      return write(res, NOT_FOUND);
    }
    let body: Buffer;
    try {
      body = await readBody(req, MAX_ALB_BODY_BYTES);
    } catch (error) {
      if (error instanceof NimbusError && error.status !== undefined && error.status < 500) {
        const page = albErrorPage(error.status);
        for (const pair of Object.entries(error.headers)) page.headers.push(pair);
        return write(res, page);
      }
      throw error;
    }
    const socket = req.socket as { encrypted?: boolean; localPort?: number };
    // ELB adds these for its targets; X-Forwarded-For carries the client as ELB saw it.
    const headers = [
      ...req.rawHeaders,
      'x-forwarded-for',
      sourceIp,
      'x-forwarded-proto',
      socket.encrypted ? 'https' : 'http',
      'x-forwarded-port',
      String(socket.localPort ?? ''),
    ];
    if (req.headers['x-amzn-trace-id'] === undefined) {
      headers.push(
        'x-amzn-trace-id',
        `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)}`,
      );
    }
    write(res, await this.#invoke(rule, { method, path: target.path, rawQuery, headers, body }));
  }

  async #invoke(
    rule: AlbRule,
    request: { method: string; path: string; rawQuery: string; headers: string[]; body: Buffer },
  ): Promise<AlbResponse> {
    const requestId = randomUUID();
    try {
      const event = buildAlbEvent({
        ...request,
        targetGroupArn: rule.targetGroupArn,
        multiValueHeaders: rule.multiValueHeaders,
      });
      // The stage alias: a new deployment moves it, and the next request runs the new version.
      const { result } = await this.#invoker.invoke(rule.functionName, rule.stage, {
        payload: JSON.stringify(event),
        requestId,
      });
      const mapped = mapAlbResponse(result.outcome, rule.multiValueHeaders);
      if (mapped.problem) {
        this.#logger.warn(
          { function: rule.functionName, requestId, ...mapped.problem },
          'function response could not be mapped',
        );
      }
      return mapped.response;
    } catch (error) {
      // A throttled function: ELB answers 503 when its target cannot take the request.
      if (error instanceof NimbusError && error.status === 429) return albErrorPage(503);
      this.#logger.error({ err: error, function: rule.functionName }, 'alb invoke failed');
      return albErrorPage(502);
    }
  }
}

function write(res: ServerResponse, response: AlbResponse): void {
  const headers: string[] = [];
  for (const [name, value] of response.headers) headers.push(name, value);
  headers.push('content-length', String(response.body.length));
  if (response.statusMessage !== undefined) {
    res.writeHead(response.statusCode, response.statusMessage, headers);
  } else {
    res.writeHead(response.statusCode, headers);
  }
  res.end(response.body);
}
