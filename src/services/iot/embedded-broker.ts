/**
 * The MQTT broker inside the platform (aedes), for `nimbus server` without `--mqtt-url`
 * (docs/iot.md#broker). Never open: a client connects with an access key id as username and
 * its secret as password, or with the admin token as password. Sessions and queued QoS 1
 * messages live in memory, so they last as long as the platform process; a deployment that
 * must not lose messages across platform restarts uses an external broker (--mqtt-url).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';

export interface EmbeddedBrokerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** When the port is taken, listen on a free one instead of failing (the 1883 default). */
  fallbackToFreePort: boolean;
  adminToken: string;
  findSecret: (accessKeyId: string) => Promise<string | undefined>;
  logger: Pick<Logger, 'info' | 'warn'>;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class EmbeddedBroker {
  readonly #options: EmbeddedBrokerOptions;
  #broker: Aedes | undefined;
  #server: Server | undefined;
  #port = 0;
  readonly #publishers = new Publishers();

  constructor(options: EmbeddedBrokerOptions) {
    this.#options = options;
  }

  get port(): number {
    return this.#port;
  }

  /** The URL the platform's own client (rules, Publish API) connects to. */
  get url(): string {
    const host =
      this.#options.host === '0.0.0.0' || this.#options.host === '::'
        ? '127.0.0.1'
        : this.#options.host;
    return `mqtt://${host.includes(':') ? `[${host}]` : host}:${this.#port}`;
  }

  async start(): Promise<void> {
    const o = this.#options;
    const broker = await Aedes.createBroker({
      authenticate: (_client, username, password, done) => {
        const secret = password?.toString('utf8') ?? '';
        if (secret !== '' && sameSecret(secret, o.adminToken)) return done(null, true);
        if (!username) return done(null, false);
        o.findSecret(username).then(
          (known) => done(null, known !== undefined && secret !== '' && sameSecret(secret, known)),
          () => done(null, false),
        );
      },
      // `$` topics are the broker's own ($SYS): clients may read them, not write them.
      authorizePublish: (client, packet, done) => {
        if (packet.topic.startsWith('$')) {
          return done(new Error('publishing to $ topics is not allowed'));
        }
        // Before the message goes out, so the rules' client finds its publisher.
        if (client?.id) this.#publishers.note(packet.topic, packet.payload, client.id);
        done(null);
      },
    });
    this.#broker = broker;
    const server = createServer(broker.handle);
    this.#server = server;
    try {
      this.#port = await listen(server, o.host, o.port);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !o.fallbackToFreePort) {
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        throw error;
      }
      this.#port = await listen(server, o.host, 0);
      o.logger.warn(
        { wanted: o.port, port: this.#port },
        `MQTT port ${o.port} is taken; the embedded broker listens on ${this.#port} instead`,
      );
    }
    o.logger.info({ port: this.#port }, 'embedded MQTT broker listening');
  }

  /**
   * The client id that published a message just now: MQTT does not tell subscribers, so the
   * broker notes it (by topic and payload, for a minute) for IoT SQL `clientid()`.
   */
  publisherOf(topic: string, payload: Buffer): string | undefined {
    return this.#publishers.take(topic, payload);
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const broker = this.#broker;
    this.#server = undefined;
    this.#broker = undefined;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * Recent publishers by topic and payload hash, oldest first: a message is matched to the
 * oldest unclaimed publish of the same topic and payload; a copy delivered again (QoS 1 dup,
 * overlapping filters) within a few seconds gets the same answer.
 */
class Publishers {
  readonly #pending = new Map<string, { clientId: string; at: number }[]>();
  readonly #claimed = new Map<string, { clientId: string; at: number }>();
  #size = 0;
  static readonly keepMs = 60_000;
  static readonly claimedMs = 5_000;
  static readonly max = 10_000;

  note(topic: string, payload: Buffer | string, clientId: string): void {
    const now = Date.now();
    if (this.#size >= Publishers.max) this.#prune(now, true);
    const key = keyOf(topic, payload);
    const list = this.#pending.get(key) ?? [];
    list.push({ clientId, at: now });
    this.#pending.set(key, list);
    this.#size++;
  }

  take(topic: string, payload: Buffer): string | undefined {
    const now = Date.now();
    const key = keyOf(topic, payload);
    const list = this.#pending.get(key);
    const next = list?.shift();
    if (next) {
      this.#size--;
      if (list!.length === 0) this.#pending.delete(key);
      this.#claimed.set(key, { clientId: next.clientId, at: now });
      if (this.#claimed.size > Publishers.max) this.#prune(now, false);
      return next.clientId;
    }
    const claimed = this.#claimed.get(key);
    return claimed && now - claimed.at < Publishers.claimedMs ? claimed.clientId : undefined;
  }

  #prune(now: number, all: boolean): void {
    for (const [key, list] of this.#pending) {
      const kept = list.filter((e) => now - e.at < Publishers.keepMs);
      this.#size -= list.length - kept.length;
      if (kept.length === 0) this.#pending.delete(key);
      else this.#pending.set(key, kept);
    }
    for (const [key, e] of this.#claimed) {
      if (now - e.at >= Publishers.claimedMs) this.#claimed.delete(key);
    }
    // Still full of fresh entries (a flood of messages no rule reads): start over.
    if (all && this.#size >= Publishers.max) {
      this.#pending.clear();
      this.#size = 0;
    }
  }
}

function keyOf(topic: string, payload: Buffer | string): string {
  return `${topic}\n${createHash('sha1').update(payload).digest('base64')}`;
}
