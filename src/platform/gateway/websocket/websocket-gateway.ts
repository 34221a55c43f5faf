/**
 * WebSocket APIs (docs/websockets.md): upgrades reach the platform port through the front door,
 * by path (`/<service>-<stage>`) or host (`<service>-<stage>.ws.localhost`). A handshake runs
 * the `$connect` authorizer and function before the upgrade is accepted; each client message is
 * routed by the API's selection expression; the `@connections` API posts to, describes and
 * closes connections. Connections are recorded in the Store with the node that holds them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { Clock } from '../../../model/clock.js';
import type { InvokeOutcome } from '../../../model/invocation.js';
import { type AccessKeyScope, scopeAllows } from '../../auth/access-key-store.js';
import type { RequestVerifier } from '../../auth/request-verifier.js';
import { readBody } from '../../http/read-body.js';
import type { Invoker } from '../../invoker/invoker-port.js';
import { verifyIam } from '../access/iam-authorizer.js';
import { decide, parsePolicy } from '../access/iam-policy.js';
import { ACCOUNT_ID } from '../gateway-request.js';
import type { ConnectionRow, ConnectionStore } from './connection-store.js';
import {
  authorizerRequestEvent,
  type ConnectionFacts,
  connectEvent,
  disconnectEvent,
  type HandshakeFacts,
  handshakeOf,
  messageEvent,
} from './websocket-events.js';
import type { WebSocketApi, WebSocketTable } from './websocket-table.js';

/** API Gateway's quotas: a message (frames reassembled) of 128 KB; idle 10 min; 2 h in all. */
export const MAX_MESSAGE_BYTES = 128 * 1024;
export const IDLE_TIMEOUT_MS = 10 * 60_000;
export const MAX_CONNECTION_MS = 2 * 60 * 60_000;

export interface WebSocketGatewayDeps {
  invoker: Invoker;
  clock: Clock;
  logger: Logger;
  region: string;
  /** This node's name: the owner recorded with each connection. */
  node: string;
  connections: ConnectionStore;
  /** SigV4 with service `execute-api`, for the @connections API. */
  verify: RequestVerifier;
  scopeOf(id: string): Promise<AccessKeyScope | undefined>;
  idleTimeoutMs?: number;
  maxConnectionMs?: number;
  /** How often limits are checked; default 1 s. */
  sweepEveryMs?: number;
}

/** Posts and deletes for connections other nodes hold (cluster/connection-relay.ts). */
export interface ConnectionForwarder {
  send(
    node: string,
    action:
      | { op: 'post'; connectionId: string; data: Buffer }
      | { op: 'delete'; connectionId: string },
  ): Promise<void>;
}

interface Live {
  api: WebSocketApi;
  socket: WebSocket;
  facts: ConnectionFacts;
  handshake: HandshakeFacts;
  authorizer: Record<string, unknown> | undefined;
  lastActiveAt: number;
}

/** `/<key>` or `<key>.ws.localhost`: the API an upgrade request is for, if any. */
export function websocketTargetOf(host: string | undefined, path: string): string | undefined {
  const name = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  if (name.endsWith('.ws.localhost')) return name.slice(0, -'.ws.localhost'.length);
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  if (/^\/[A-Za-z0-9_-]+$/.test(trimmed)) return trimmed.slice(1);
  return undefined;
}

/** `/<stage>/@connections/<id>` (the endpoint users build is `https://{domainName}/{stage}`). */
export function connectionsPathOf(path: string): string | undefined {
  const match = /^(?:\/[^/]+)?\/@connections\/([^/]+)$/.exec(path);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return undefined;
  }
}

export class WebSocketGateway {
  #table: WebSocketTable = new Map();
  readonly #deps: WebSocketGatewayDeps;
  readonly #server = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  readonly #live = new Map<string, Live>();
  #sweeper: NodeJS.Timeout | undefined;
  #forwarder: ConnectionForwarder | undefined;

  constructor(deps: WebSocketGatewayDeps) {
    this.#deps = deps;
  }

  /** Cluster mode: connections held by other nodes are reached through this. */
  setForwarder(forwarder: ConnectionForwarder): void {
    this.#forwarder = forwarder;
  }

  /** A post or delete another node forwarded for a connection this node holds. */
  deliver(
    action:
      | { op: 'post'; connectionId: string; data: Buffer }
      | { op: 'delete'; connectionId: string },
  ): void {
    const live = this.#live.get(action.connectionId);
    if (!live || live.socket.readyState !== WebSocket.OPEN) return;
    if (action.op === 'post') live.socket.send(action.data.toString('utf8'));
    else live.socket.close(1000, 'Connection closed by the @connections API');
  }

  setTable(table: WebSocketTable): void {
    this.#table = table;
  }

  /** `ws://<host>:<port>/<service>-<stage>` for a listener URL. */
  static endpointOf(listenerUrl: string, service: string, stage: string): string {
    return `${listenerUrl.replace(/^http/, 'ws')}/${service}-${stage}`;
  }

  async start(): Promise<void> {
    await this.#deps.connections.removeNode(this.#deps.node);
    this.#sweeper = setInterval(() => this.sweep(), this.#deps.sweepEveryMs ?? 1000);
    this.#sweeper.unref();
  }

  async stop(): Promise<void> {
    if (this.#sweeper) clearInterval(this.#sweeper);
    for (const live of this.#live.values()) live.socket.close(1001, 'Going away');
    this.#live.clear();
    await this.#deps.connections.removeNode(this.#deps.node);
  }

  /** Closes connections past the idle or total limit (run by the sweeper; tests call it). */
  sweep(): void {
    const now = this.#deps.clock.now();
    const idle = this.#deps.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
    const total = this.#deps.maxConnectionMs ?? MAX_CONNECTION_MS;
    for (const live of this.#live.values()) {
      if (now - live.lastActiveAt >= idle || now - live.facts.connectedAt >= total) {
        live.socket.close(1001, 'Going away');
      }
    }
  }

  /** True when the front door should hand this upgrade here. */
  has(key: string): boolean {
    return this.#table.has(key);
  }

  async upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    key: string,
    rawQuery: string,
  ): Promise<void> {
    socket.on('error', () => socket.destroy());
    const api = this.#table.get(key);
    if (!api) return refuse(socket, 404, 'Not Found');
    const now = this.#deps.clock.now();
    const facts: ConnectionFacts = {
      connectionId: `${randomBytes(11).toString('base64url')}=`,
      apiId: api.apiId,
      stage: api.stage,
      domainName: req.headers.host ?? 'localhost',
      connectedAt: now,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      userAgent: req.headers['user-agent'],
    };
    const handshake = handshakeOf(req.rawHeaders, rawQuery);
    let authorizer: Record<string, unknown> | undefined;
    if (api.authorizer) {
      const verdict = await this.#authorize(api, facts, handshake, now);
      if (!verdict.ok) return refuse(socket, verdict.status, verdict.message);
      authorizer = verdict.context;
    }
    const connect = api.routes.get('$connect');
    if (connect) {
      const outcome = await this.#invoke(
        connect.functionName,
        connect.qualifier,
        connectEvent(facts, handshake, now, authorizer),
      );
      const status = outcome ? statusOf(outcome) : 502;
      if (status < 200 || status > 299) return refuse(socket, status, 'Connection refused');
    }
    if (socket.destroyed) return;
    await this.#deps.connections.add({
      connection_id: facts.connectionId,
      api: api.key,
      node: this.#deps.node,
      source_ip: facts.sourceIp,
      user_agent: facts.userAgent ?? null,
      connected_at: facts.connectedAt,
    });
    this.#server.handleUpgrade(req, socket, head, (ws) => {
      const live: Live = { api, socket: ws, facts, handshake, authorizer, lastActiveAt: now };
      this.#live.set(facts.connectionId, live);
      ws.on('message', (data, isBinary) => this.#message(live, data, isBinary));
      ws.on('error', (error) =>
        this.#deps.logger.debug({ err: error, connection: facts.connectionId }, 'websocket error'),
      );
      ws.on('close', (code, reason) => this.#closed(live, code, reason.toString()));
    });
  }

  async #authorize(
    api: WebSocketApi,
    facts: ConnectionFacts,
    handshake: HandshakeFacts,
    now: number,
  ): Promise<
    { ok: true; context: Record<string, unknown> } | { ok: false; status: number; message: string }
  > {
    const config = api.authorizer!;
    const lowered = Object.fromEntries(
      Object.entries(handshake.headers).map(([k, v]) => [k.toLowerCase(), v]),
    );
    for (const source of config.identitySources) {
      const value =
        source.from === 'header' ? lowered[source.name] : handshake.query?.[source.name];
      if (value === undefined || value === '') {
        return { ok: false, status: 401, message: 'Unauthorized' };
      }
    }
    const event = authorizerRequestEvent(facts, handshake, now, this.#deps.region, ACCOUNT_ID);
    const outcome = await this.#invoke(config.functionName, config.qualifier, event);
    if (!outcome) return { ok: false, status: 500, message: 'Internal Server Error' };
    if (outcome.status === 'error') {
      return outcome.error.errorMessage === 'Unauthorized'
        ? { ok: false, status: 401, message: 'Unauthorized' }
        : { ok: false, status: 500, message: 'Internal Server Error' };
    }
    let answer: Record<string, unknown>;
    try {
      answer = JSON.parse(outcome.payload) as Record<string, unknown>;
    } catch {
      return { ok: false, status: 500, message: 'Internal Server Error' };
    }
    const statements = parsePolicy(answer?.policyDocument);
    if (!statements || typeof answer.principalId !== 'string') {
      return { ok: false, status: 500, message: 'Internal Server Error' };
    }
    if (decide(statements, String(event.methodArn)) !== 'allow') {
      return { ok: false, status: 403, message: 'Forbidden' };
    }
    const context = (answer.context ?? {}) as Record<string, unknown>;
    return { ok: true, context: { ...context, principalId: answer.principalId } };
  }

  #message(live: Live, data: RawData, isBinary: boolean): void {
    const now = this.#deps.clock.now();
    live.lastActiveAt = now;
    const bytes = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    const body = isBinary ? bytes.toString('base64') : bytes.toString('utf8');
    const routeKey = isBinary ? '$default' : routeKeyOf(live.api, body);
    const route = live.api.routes.get(routeKey);
    if (!route) {
      live.socket.send(
        JSON.stringify({
          message: 'Forbidden',
          connectionId: live.facts.connectionId,
          requestId: randomUUID(),
        }),
      );
      return;
    }
    const event = messageEvent(live.facts, routeKey, body, isBinary, now, live.authorizer);
    void this.#invoke(route.functionName, route.qualifier, event).then((outcome) => {
      if (!route.twoWay || live.socket.readyState !== WebSocket.OPEN) return;
      const reply = outcome ? replyOf(outcome) : undefined;
      if (reply !== undefined) live.socket.send(reply);
    });
  }

  #closed(live: Live, code: number, reason: string): void {
    this.#live.delete(live.facts.connectionId);
    const now = this.#deps.clock.now();
    void this.#deps.connections
      .remove(live.facts.connectionId)
      .catch((error: unknown) =>
        this.#deps.logger.warn({ err: error }, 'forgetting a websocket connection failed'),
      );
    const route = live.api.routes.get('$disconnect');
    if (!route) return;
    const event = disconnectEvent(
      live.facts,
      live.handshake,
      now,
      { code, reason },
      live.authorizer,
    );
    void this.#invoke(route.functionName, route.qualifier, event);
  }

  async #invoke(
    functionName: string,
    qualifier: string | undefined,
    event: Record<string, unknown>,
  ): Promise<InvokeOutcome | undefined> {
    try {
      const { result } = await this.#deps.invoker.invoke(functionName, qualifier, {
        payload: JSON.stringify(event),
        requestId: randomUUID(),
      });
      if (result.outcome.status === 'error') {
        this.#deps.logger.warn(
          { function: functionName, error: result.outcome.error.errorType },
          'websocket route function failed',
        );
      }
      return result.outcome;
    } catch (error) {
      this.#deps.logger.error({ err: error, function: functionName }, 'websocket invoke failed');
      return undefined;
    }
  }

  /** The @connections API for a connection another node holds. */
  async #forward(
    req: IncomingMessage,
    res: ServerResponse,
    row: ConnectionRow,
    body: Buffer,
  ): Promise<void> {
    const forwarder = this.#forwarder!;
    switch (req.method) {
      case 'POST':
        if (body.length > MAX_MESSAGE_BYTES) {
          return apiError(res, 413, 'PayloadTooLargeException', 'Message too long');
        }
        await forwarder.send(row.node, {
          op: 'post',
          connectionId: row.connection_id,
          data: body,
        });
        res.writeHead(200, { 'content-length': '0' }).end();
        return;
      case 'GET': {
        // From the Store: the holder's last activity is not shared, its connect time stands in.
        const at = new Date(row.connected_at).toISOString();
        const answer = Buffer.from(
          JSON.stringify({
            connectedAt: at,
            lastActiveAt: at,
            identity: {
              sourceIp: row.source_ip,
              ...(row.user_agent ? { userAgent: row.user_agent } : {}),
            },
          }),
        );
        res
          .writeHead(200, {
            'content-type': 'application/json',
            'content-length': String(answer.length),
          })
          .end(answer);
        return;
      }
      case 'DELETE':
        await forwarder.send(row.node, { op: 'delete', connectionId: row.connection_id });
        res.writeHead(204).end();
        return;
      default:
        return apiError(res, 405, 'MethodNotAllowedException', 'Method not allowed');
    }
  }

  /** The @connections API: POST (PostToConnection), GET (GetConnection), DELETE. */
  async connectionsApi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const connectionId = connectionsPathOf(path);
    let body: Buffer;
    try {
      body = await readBody(req, MAX_MESSAGE_BYTES + 1);
    } catch {
      return apiError(res, 413, 'PayloadTooLargeException', 'Message too long');
    }
    const auth = await verifyIam(req, body, {
      verify: this.#deps.verify,
      scopeOf: this.#deps.scopeOf,
    });
    if (!auth.ok) return apiError(res, 403, 'ForbiddenException', auth.message);
    if (connectionId === undefined) return apiError(res, 404, 'NotFoundException', 'Not Found');
    const live = this.#live.get(connectionId);
    const row = live ? undefined : await this.#deps.connections.find(connectionId);
    const apiKey = live?.api.key ?? row?.api;
    if (apiKey === undefined) return apiError(res, 410, 'GoneException', 'Gone');
    const api = this.#table.get(apiKey);
    // The API is the service stage's, not one function's: a scope's function list does not apply.
    const scope = auth.scope ? { ...auth.scope, functions: undefined } : undefined;
    const allowed =
      api !== undefined &&
      scopeAllows(scope, {
        service: api.service,
        stage: api.stage,
        functionKey: '',
        functionName: '',
        write: req.method !== 'GET',
      });
    if (!allowed) {
      return apiError(res, 403, 'ForbiddenException', 'the access key does not reach this API');
    }
    if (!live) {
      // Held by another node (cluster mode): forwarded to it; a row of this node's is stale.
      if (!row || row.node === this.#deps.node || !this.#forwarder) {
        return apiError(res, 410, 'GoneException', 'Gone');
      }
      return this.#forward(req, res, row, body);
    }
    if (live.socket.readyState !== WebSocket.OPEN)
      return apiError(res, 410, 'GoneException', 'Gone');
    switch (req.method) {
      case 'POST':
        if (body.length > MAX_MESSAGE_BYTES) {
          return apiError(res, 413, 'PayloadTooLargeException', 'Message too long');
        }
        live.socket.send(body.toString('utf8'));
        res.writeHead(200, { 'content-length': '0' }).end();
        return;
      case 'GET': {
        const answer = Buffer.from(
          JSON.stringify({
            connectedAt: new Date(live.facts.connectedAt).toISOString(),
            lastActiveAt: new Date(live.lastActiveAt).toISOString(),
            identity: {
              sourceIp: live.facts.sourceIp,
              ...(live.facts.userAgent ? { userAgent: live.facts.userAgent } : {}),
            },
          }),
        );
        res
          .writeHead(200, {
            'content-type': 'application/json',
            'content-length': String(answer.length),
          })
          .end(answer);
        return;
      }
      case 'DELETE':
        live.socket.close(1000, 'Connection closed by the @connections API');
        res.writeHead(204).end();
        return;
      default:
        return apiError(res, 405, 'MethodNotAllowedException', 'Method not allowed');
    }
  }
}

function routeKeyOf(api: WebSocketApi, body: string): string {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return '$default';
  }
  for (const part of api.selectionPath) {
    if (typeof value !== 'object' || value === null) return '$default';
    value = (value as Record<string, unknown>)[part];
  }
  return typeof value === 'string' && api.routes.has(value) ? value : '$default';
}

/** `$connect` accepts the connection unless the function answers a non-2xx statusCode. */
function statusOf(outcome: InvokeOutcome): number {
  if (outcome.status === 'error') return 502;
  try {
    const answer = JSON.parse(outcome.payload) as { statusCode?: unknown } | null;
    return typeof answer?.statusCode === 'number' ? answer.statusCode : 200;
  } catch {
    return 200;
  }
}

/** A two-way route sends back the returned `body` (or the whole answer when it has none). */
function replyOf(outcome: InvokeOutcome): string | undefined {
  if (outcome.status === 'error') {
    return JSON.stringify({ message: 'Internal server error' });
  }
  if (outcome.payload === '' || outcome.payload === 'null') return undefined;
  try {
    const answer = JSON.parse(outcome.payload) as unknown;
    if (typeof answer === 'object' && answer !== null && 'body' in answer) {
      const body = (answer as { body: unknown }).body;
      return typeof body === 'string' ? body : JSON.stringify(body);
    }
    return typeof answer === 'string' ? answer : outcome.payload;
  } catch {
    return outcome.payload;
  }
}

function refuse(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${message}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function apiError(res: ServerResponse, status: number, type: string, message: string): void {
  const body = Buffer.from(JSON.stringify({ message }));
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(body.length),
      'x-amzn-errortype': type,
    })
    .end(body);
}
