import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { StopContext } from '../lifecycle/lifecycle.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;
/** An `Upgrade: websocket` request: the socket is the handler's to answer or destroy. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * The platform's one HTTP port. stop() is graceful: it refuses new connections at once, lets
 * requests in flight finish until the stop deadline, then cuts whatever is still open.
 */
export class HttpListener {
  readonly #server: Server;
  readonly #host: string;
  readonly #port: number;
  #inflight = 0;
  #drained: (() => void) | undefined;
  #url = '';

  constructor(opts: {
    host: string;
    port: number;
    handle: RequestHandler;
    upgrade?: UpgradeHandler;
    /** A client gets this long to send its request headers. Default 20 s. */
    headersTimeoutMs?: number;
    /** ...and this long for the whole request, body included. Default 120 s. */
    requestTimeoutMs?: number;
  }) {
    this.#host = opts.host;
    this.#port = opts.port;
    const requestTimeout = opts.requestTimeoutMs ?? 120_000;
    const headersTimeout = Math.min(opts.headersTimeoutMs ?? 20_000, requestTimeout);
    // A stalled upload holds a socket and whatever of its body was read: these bound both (the
    // body reader also drops what it held when the socket goes).
    const limits = {
      headersTimeout,
      requestTimeout,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, headersTimeout / 2)),
    };
    this.#server = createServer(limits, (req, res) => {
      this.#inflight += 1;
      res.once('close', () => {
        this.#inflight -= 1;
        if (this.#inflight === 0) this.#drained?.();
      });
      opts.handle(req, res);
    });
    const upgrade = opts.upgrade;
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      upgrade ? upgrade(req, socket, head) : socket.destroy(),
    );
    // Keep-alive sockets from load generators would otherwise hold a stop open.
    this.#server.keepAliveTimeout = 5_000;
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
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, this.#host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.#url = `http://${host}:${address.port}`;
  }

  async stop(ctx: StopContext): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    // Idle keep-alive connections would otherwise wait out keepAliveTimeout.
    this.#server.closeIdleConnections();
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
    await closed;
  }
}
