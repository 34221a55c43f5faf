import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  createServer as createHttp2Server,
  createSecureServer,
  type Http2SecureServer,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import type { StopContext } from '../lifecycle/lifecycle.js';
import { routeConnection } from './h2c.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;
/** An `Upgrade: websocket` request: the socket is the handler's to answer or destroy. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** HTTPS beside the HTTP port: same front door, same upgrade handler (docs/tls.md). */
export interface TlsOptions {
  port: number;
  cert: Buffer;
  key: Buffer;
  /** Certificates of their own by SNI host name (lower case; `*.example.test` for one label). */
  domains?: ReadonlyMap<string, { cert: Buffer; key: Buffer }>;
}

/** Requests that came in over the TLS port (HTTP/1.1 or HTTP/2). */
const overTls = new WeakSet<object>();

/** Whether the request reached the platform over TLS (for the HTTP → HTTPS redirect). */
export function arrivedOverTls(req: IncomingMessage): boolean {
  return overTls.has(req);
}

/** The SNI context for a server name: the exact name, else its `*.` wildcard, else none. */
export function sniContextOf(
  contexts: ReadonlyMap<string, SecureContext>,
  servername: string,
): SecureContext | undefined {
  const name = servername.toLowerCase().replace(/\.$/, '');
  const exact = contexts.get(name);
  if (exact) return exact;
  const dot = name.indexOf('.');
  return dot > 0 ? contexts.get(`*${name.slice(dot)}`) : undefined;
}

/**
 * The platform's HTTP port, and its HTTPS port when TLS is on. stop() is graceful: it refuses new connections at once, lets
 * requests in flight finish until the stop deadline, then cuts whatever is still open. HTTP/1.1,
 * and HTTP/2 with prior knowledge for the SDK clients that speak it (h2c.ts): an HTTP/2 request
 * reaches the same handler through Node's compatibility API, which has the IncomingMessage /
 * ServerResponse surface the handlers use. The HTTPS port offers HTTP/2 and HTTP/1.1 by ALPN
 * (one secure HTTP/2 server with allowHTTP1), picks a certificate by SNI when domains have their
 * own, and takes WebSocket upgrades over HTTP/1.1.
 */
/** How long an idle HTTP/1.1 keep-alive connection stays open. */
const keepAliveTimeoutMs = 65_000;

export class HttpListener {
  readonly #server: Server;
  readonly #http2: Http2Server;
  readonly #sessions = new Set<Http2Session>();
  readonly #tlsServer: Http2SecureServer | undefined;
  readonly #tlsSockets = new Set<TLSSocket>();
  #sniContexts = new Map<string, SecureContext>();
  readonly #host: string;
  readonly #port: number;
  readonly #tlsPort: number;
  #inflight = 0;
  #drained: (() => void) | undefined;
  #url = '';
  #tlsUrl: string | undefined;

  constructor(opts: {
    host: string;
    port: number;
    handle: RequestHandler;
    upgrade?: UpgradeHandler;
    /** A client gets this long to send its request headers. Default 20 s. */
    headersTimeoutMs?: number;
    /** ...and this long for the whole request, body included. Default 120 s. */
    requestTimeoutMs?: number;
    /** Also serve HTTPS on this port with this certificate. */
    tls?: TlsOptions;
  }) {
    this.#host = opts.host;
    this.#port = opts.port;
    this.#tlsPort = opts.tls?.port ?? 0;
    const requestTimeout = opts.requestTimeoutMs ?? 120_000;
    const headersTimeout = Math.min(opts.headersTimeoutMs ?? 20_000, requestTimeout);
    // A stalled upload holds a socket and whatever of its body was read: these bound both (the
    // body reader also drops what it held when the socket goes).
    const limits = {
      headersTimeout,
      requestTimeout,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, headersTimeout / 2)),
    };
    const serve = (req: IncomingMessage, res: ServerResponse) => {
      this.#inflight += 1;
      res.once('close', () => {
        this.#inflight -= 1;
        if (this.#inflight === 0) this.#drained?.();
      });
      opts.handle(req, res);
    };
    this.#server = createServer(limits, serve);
    // Idle keep-alive connections stay open 65 s (as AWS's load balancers keep them 60 s), not
    // Node's 5 s: the SDKs keep idle sockets without a limit of their own, and one reused in the
    // instant the server closes it fails with ECONNRESET/EPIPE (the SDK's TimeoutError, with
    // maxAttempts 1 a failed call; seen in the DynamoDB bench after 6 s pauses). Stops still
    // close idle connections at once.
    this.#server.keepAliveTimeout = keepAliveTimeoutMs;
    // A bounded number of requests per connection (Node's default is unbounded); bodies are
    // bounded by the handlers' own caps and the process-wide body budget as over HTTP/1.1.
    const http2Settings = { settings: { maxConcurrentStreams: 100 } };
    const serveHttp2 = (req: Http2ServerRequest, res: Http2ServerResponse) => {
      // SigV4 signs `host`; an HTTP/2 client may send only `:authority`.
      if (req.headers.host === undefined && req.authority) req.headers.host = req.authority;
      // The compatibility API has no headersDistinct (the SigV4 verifier reads it; the SDKs
      // sign `:authority` over HTTP/2, so that pseudo-header is kept, the others are not).
      const distinct: Record<string, string[]> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if ((name.startsWith(':') && name !== ':authority') || value === undefined) continue;
        distinct[name] = Array.isArray(value) ? value : [String(value)];
      }
      Object.defineProperty(req, 'headersDistinct', { value: distinct });
      // The events' headers are built from rawHeaders: as HTTP/1.1 would give them, `host`
      // for `:authority` and no other pseudo-header.
      const raw: string[] = [];
      const given = req.rawHeaders;
      for (let i = 0; i + 1 < given.length; i += 2) {
        if (!given[i]!.startsWith(':')) raw.push(given[i]!, given[i + 1]!);
      }
      if (!raw.some((name, i) => i % 2 === 0 && name.toLowerCase() === 'host') && req.headers.host)
        raw.unshift('host', String(req.headers.host));
      Object.defineProperty(req, 'rawHeaders', { value: raw });
      serve(req as unknown as IncomingMessage, res as unknown as ServerResponse);
    };
    this.#http2 = createHttp2Server(http2Settings, serveHttp2);
    // An HTTP/2 stream idle this long is closed (HTTP/1.1 has requestTimeout instead).
    this.#http2.setTimeout(requestTimeout);
    this.#http2.on('session', (session: Http2Session) => {
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
    });
    const http1 = this.#server.listeners('connection') as ((socket: Socket) => void)[];
    this.#server.removeAllListeners('connection');
    this.#server.on('connection', (socket: Socket) =>
      routeConnection(
        socket,
        {
          http1: (s) => {
            for (const listener of http1) listener.call(this.#server, s);
          },
          http2: (stream) => this.#http2.emit('connection', stream),
        },
        headersTimeout,
      ),
    );
    const upgrade = opts.upgrade;
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      upgrade ? upgrade(req, socket, head) : socket.destroy();
    if (opts.tls) {
      this.#sniContexts = contextsOf(opts.tls.domains);
      const tlsServer = createSecureServer(
        {
          ...http2Settings,
          allowHTTP1: true,
          cert: opts.tls.cert,
          key: opts.tls.key,
          SNICallback: (servername, callback) =>
            callback(null, sniContextOf(this.#sniContexts, servername)),
        },
        (req: Http2ServerRequest | IncomingMessage, res: Http2ServerResponse | ServerResponse) => {
          overTls.add(req);
          if (req.httpVersionMajor === 2) {
            serveHttp2(req as Http2ServerRequest, res as Http2ServerResponse);
          } else {
            serve(req as IncomingMessage, res as ServerResponse);
          }
        },
      );
      // HTTP/1.1 over TLS goes through Node's HTTP/1.1 connection handling, which reads these.
      Object.assign(tlsServer, { ...limits, keepAliveTimeout: keepAliveTimeoutMs });
      tlsServer.setTimeout(requestTimeout);
      tlsServer.on('secureConnection', (socket: TLSSocket) => {
        this.#tlsSockets.add(socket);
        socket.once('close', () => this.#tlsSockets.delete(socket));
      });
      tlsServer.on('session', (session: Http2Session) => {
        this.#sessions.add(session);
        session.once('close', () => this.#sessions.delete(session));
      });
      // WebSocket upgrades come over HTTP/1.1 (ALPN http/1.1, which ws clients offer).
      tlsServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        overTls.add(req);
        onUpgrade(req, socket, head);
      });
      this.#tlsServer = tlsServer;
    }
    this.#server.on('upgrade', onUpgrade);
  }

  #servers(): (Server | Http2SecureServer)[] {
    return this.#tlsServer ? [this.#server, this.#tlsServer] : [this.#server];
  }

  /** `https://host:port` once started with TLS; undefined without. */
  get tlsUrl(): string | undefined {
    return this.#tlsUrl;
  }

  /** Renewed certificates: new TLS connections use them, open ones keep theirs. */
  setCertificates(
    pair: { cert: Buffer; key: Buffer },
    domains?: ReadonlyMap<string, { cert: Buffer; key: Buffer }>,
  ): void {
    if (!this.#tlsServer) return;
    const contexts = contextsOf(domains);
    this.#tlsServer.setSecureContext(pair);
    this.#sniContexts = contexts;
  }

  /** The HTTPS port once started with TLS. */
  get tlsPort(): number | undefined {
    return this.#tlsUrl === undefined ? undefined : Number(new URL(this.#tlsUrl).port);
  }

  /** `http://host:port` once started (the port is the real one when 0 was asked for). */
  get url(): string {
    return this.#url;
  }

  /** Requests being answered right now. */
  get inflight(): number {
    return this.#inflight;
  }

  async start(): Promise<void> {
    this.#url = await listen(this.#server, this.#port, this.#host, 'http');
    if (this.#tlsServer) {
      try {
        this.#tlsUrl = await listen(this.#tlsServer, this.#tlsPort, this.#host, 'https');
      } catch (error) {
        await new Promise((resolve) => this.#server.close(resolve));
        throw error;
      }
    }
  }

  async stop(ctx: StopContext): Promise<void> {
    const servers = this.#servers().filter((s) => s.listening);
    if (servers.length === 0) return;
    const closed = Promise.all(
      servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    // Idle keep-alive connections would otherwise wait out keepAliveTimeout.
    // (The secure server's closes its HTTP/1.1 side's; its HTTP/2 sessions are closed below.)
    for (const server of servers) (server as Server).closeIdleConnections();
    // HTTP/2 sessions take no new streams and end once their streams in flight are done.
    for (const session of this.#sessions) session.close();
    if (this.#inflight > 0) {
      const wait = Math.max(0, ctx.deadline - Date.now());
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.#drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.#server.closeAllConnections();
    for (const session of this.#sessions) session.destroy();
    for (const socket of this.#tlsSockets) socket.destroy();
    await closed;
  }
}

function contextsOf(
  domains: ReadonlyMap<string, { cert: Buffer; key: Buffer }> | undefined,
): Map<string, SecureContext> {
  const contexts = new Map<string, SecureContext>();
  for (const [host, pair] of domains ?? [])
    contexts.set(host.toLowerCase(), createSecureContext(pair));
  return contexts;
}

async function listen(
  server: Server | Http2SecureServer,
  port: number,
  host: string,
  scheme: 'http' | 'https',
): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const name = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${scheme}://${name}:${address.port}`;
}
