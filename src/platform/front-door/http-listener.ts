import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StopContext } from '../lifecycle/lifecycle.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

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

  constructor(opts: { host: string; port: number; handle: RequestHandler }) {
    this.#host = opts.host;
    this.#port = opts.port;
    this.#server = createServer((req, res) => {
      this.#inflight += 1;
      res.once('close', () => {
        this.#inflight -= 1;
        if (this.#inflight === 0) this.#drained?.();
      });
      opts.handle(req, res);
    });
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
