import pg from 'pg';
import type { Logger } from 'pino';
import { type Scheduler, systemScheduler } from '../observe/scheduler.js';

export interface PgNotificationListenerOptions {
  /** The store's connection: a client of its own holds the LISTEN (never one of the pool's). */
  url: string;
  /** NOTIFY channels to listen on; each gets its own `LISTEN` statement. */
  channels: readonly string[];
  /** Every notification on one of the channels, in the order PostgreSQL delivers them. */
  notified: (payload: string | undefined, channel: string) => void;
  /** Names the listener in its log lines ("stage change listener"). */
  name: string;
  logger: Pick<Logger, 'warn'>;
  /** The connection dropped: whatever is half-received is void (called before reconnecting). */
  lost?: () => void;
  /** Listening again after a loss: what was notified meanwhile is gone, look it up otherwise. */
  reconnected?: () => void;
  /** Wait before the first reconnect of a lost connection; default 1 s. */
  reconnectMs?: number;
  /** Each failed reconnect doubles the wait, up to this; default 10 s. */
  maxReconnectMs?: number;
  timer?: Scheduler;
}

/**
 * A dedicated PostgreSQL connection holding `LISTEN` on some channels: the one home for the
 * cluster's NOTIFY receivers (the stage change feed, the WebSocket relay). A lost connection is
 * reconnected and listens again, first after `reconnectMs`, then backing off while PostgreSQL
 * stays away. Notifications are hints (docs/cluster.md): what arrives while it reconnects is lost,
 * so its users have `reconnected` to catch up.
 */
export class PgNotificationListener {
  readonly #o: PgNotificationListenerOptions & {
    reconnectMs: number;
    maxReconnectMs: number;
    timer: Scheduler;
  };
  #client: pg.Client | undefined;
  #cancelReconnect: (() => void) | undefined;
  #delay: number;
  #stopped = false;

  constructor(options: PgNotificationListenerOptions) {
    this.#o = { reconnectMs: 1_000, maxReconnectMs: 10_000, timer: systemScheduler, ...options };
    this.#delay = this.#o.reconnectMs;
  }

  /** Connects and listens; rejects (holding nothing) when PostgreSQL cannot be reached. */
  async start(): Promise<void> {
    await this.#listen();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelReconnect?.();
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#o.url });
    client.on('notification', (msg) => this.#o.notified(msg.payload, msg.channel));
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, new Error('connection ended')));
    try {
      await client.connect();
      for (const channel of this.#o.channels)
        await client.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (this.#stopped) {
      // stop() came while this connection was being made: it holds nothing yet.
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
  }

  #lost(client: pg.Client, error: unknown): void {
    if (this.#stopped || this.#client !== client) return;
    this.#client = undefined;
    this.#o.lost?.();
    this.#o.logger.warn({ err: error }, `${this.#o.name} lost its connection; reconnecting`);
    client.end().catch(() => {});
    this.#delay = this.#o.reconnectMs;
    this.#reconnectLater();
  }

  #reconnectLater(): void {
    if (this.#stopped) return;
    const delay = this.#delay;
    this.#cancelReconnect = this.#o.timer.schedule(delay, () => {
      this.#listen().then(
        () => {
          if (this.#stopped) return;
          this.#delay = this.#o.reconnectMs;
          this.#o.reconnected?.();
        },
        (error: unknown) => {
          this.#o.logger.warn({ err: error }, `reconnecting the ${this.#o.name} failed`);
          this.#delay = Math.min(delay * 2, this.#o.maxReconnectMs);
          this.#reconnectLater();
        },
      );
    });
  }
}
