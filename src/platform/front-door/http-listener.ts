import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  createServer as createHttp2Server,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { StopContext } from '../lifecycle/lifecycle.js';
import { routeConnection } from './h2c.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;
/** An `Upgrade: websocket` request: the socket is the handler's to answer or destroy. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** HTTPS beside the HTTP port: same front door, same upgrade handler (docs/gateway.md#tls). */
export interface TlsOptions {
  port: number;
  cert: Buffer;
  key: Buffer;
}

/**
 * The platform's HTTP port, and its HTTPS port when TLS is on. stop() is graceful: it refuses new connections at once, lets
 * requests in flight finish until the stop deadline, then cuts whatever is still open. HTTP/1.1,
 * and HTTP/2 with prior knowledge for the SDK clients that speak it (h2c.ts): an HTTP/2 request
 * reaches the same handler through Node's compatibility API, which has the IncomingMessage /
 * ServerResponse surface the handlers use. The HTTPS port speaks HTTP/1.1.
 */
/** How long an idle HTTP/1.1 keep-alive connection stays open. */
const keepAliveTimeoutMs = 65_000;

export class HttpListener {
  readonly #server: Server;
  readonly #http2: Http2Server;
  readonly #sessions = new Set<Http2Session>();
  readonly #tlsServer: TlsServer | undefined;
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
    this.#http2 = createHttp2Server(
      http2Settings,
      (req: Http2ServerRequest, res: Http2ServerResponse) => {
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
        serve(req as unknown as IncomingMessage, res as unknown as ServerResponse);
      },
    );
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
    if (opts.tls) {
      this.#tlsServer = createTlsServer(
        { ...limits, cert: opts.tls.cert, key: opts.tls.key },
        serve,
      );
      this.#tlsServer.keepAliveTimeout = keepAliveTimeoutMs;
    }
    const upgrade = opts.upgrade;
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      upgrade ? upgrade(req, socket, head) : socket.destroy();
    for (const server of this.#servers()) {
      server.on('upgrade', onUpgrade);
      // Keep-alive sockets from load generators would otherwise hold a stop open.
      server.keepAliveTimeout = 5_000;
    }
  }

  #servers(): Server[] {
    return this.#tlsServer ? [this.#server, this.#tlsServer] : [this.#server];
  }

  /** `https://host:port` once started with TLS; undefined without. */
  get tlsUrl(): string | undefined {
    return this.#tlsUrl;
  }

  /** A renewed certificate: new TLS connections use it, open ones keep theirs. */
  setCertificate(pair: { cert: Buffer; key: Buffer }): void {
    this.#tlsServer?.setSecureContext(pair);
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
    for (const server of servers) server.closeIdleConnections();
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
    for (const server of servers) server.closeAllConnections();
    for (const session of this.#sessions) session.destroy();
    await closed;
  }
}

async function listen(
  server: Server,
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
