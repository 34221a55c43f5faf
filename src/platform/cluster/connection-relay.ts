import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../../store/schema.js';
import type { Part } from '../lifecycle/lifecycle.js';
import { type Scheduler, systemScheduler } from '../observe/scheduler.js';

/** What one node asks the node holding a WebSocket connection to do with it. */
export type RelayedAction =
  | { op: 'post'; connectionId: string; data: Buffer }
  | { op: 'delete'; connectionId: string };

export interface ConnectionRelayOptions {
  db: Kysely<Database>;
  /** The store's connection: a client of its own holds the LISTEN. */
  url: string;
  schema: string;
  nodeName: string;
  /** Called on the node holding the connection. */
  deliver: (action: RelayedAction) => void;
  logger: Pick<Logger, 'error' | 'warn'>;
  /** Wait before reconnecting a lost LISTEN connection; default 1 s. */
  reconnectMs?: number;
  timer?: Scheduler;
}

/** A NOTIFY payload must stay under 8000 bytes: messages go in parts of this many base64 chars. */
const PART_CHARS = 7000;

/**
 * `@connections` across a PostgreSQL cluster (docs/websockets.md#cluster): a node asked to post to
 * or delete a connection another node holds (the Store's `websocket_connections.node`) sends the
 * action on that node's NOTIFY channel; the holder delivers it to its socket. A message of up to
 * 128 KB goes as numbered parts of one transaction, which PostgreSQL delivers together and in
 * order. Fire-and-forget as PostToConnection is: a node that is reconnecting its LISTEN misses
 * what was sent meanwhile (logged on the sender as nothing; the connection row says where to go).
 */
export class ConnectionRelay implements Part {
  readonly #o: Required<Omit<ConnectionRelayOptions, 'timer'>> & { timer: Scheduler };
  #client: pg.Client | undefined;
  #cancelReconnect: (() => void) | undefined;
  #stopped = false;
  /** Parts of messages being received, by message id. */
  readonly #partial = new Map<string, string[]>();

  constructor(options: ConnectionRelayOptions) {
    this.#o = { reconnectMs: 1_000, timer: systemScheduler, ...options };
  }

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

  /** Sends the action to `node`'s channel; rejects when the store cannot be reached. */
  async send(node: string, action: RelayedAction): Promise<void> {
    const channel = relayChannel(this.#o.schema, node);
    const id = `${this.#o.nodeName}:${process.hrtime.bigint()}:${Math.random().toString(36).slice(2)}`;
    if (action.op === 'delete') {
      const payload = JSON.stringify({ id, op: 'delete', c: action.connectionId });
      await sql`select pg_notify(${channel}, ${payload})`.execute(this.#o.db);
      return;
    }
    const data = action.data.toString('base64');
    const count = Math.max(1, Math.ceil(data.length / PART_CHARS));
    const payloads: string[] = [];
    for (let i = 0; i < count; i++) {
      payloads.push(
        JSON.stringify({
          id,
          op: 'post',
          c: action.connectionId,
          i,
          n: count,
          d: data.slice(i * PART_CHARS, (i + 1) * PART_CHARS),
        }),
      );
    }
    if (payloads.length === 1) {
      await sql`select pg_notify(${channel}, ${payloads[0]})`.execute(this.#o.db);
      return;
    }
    await this.#o.db.transaction().execute(async (trx) => {
      for (const payload of payloads)
        await sql`select pg_notify(${channel}, ${payload})`.execute(trx);
    });
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#o.url });
    client.on('notification', (msg) => this.#onNotification(msg.payload));
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, new Error('connection ended')));
    await client.connect();
    try {
      await client.query(`LISTEN "${relayChannel(this.#o.schema, this.#o.nodeName)}"`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    this.#client = client;
  }

  #onNotification(payload: string | undefined): void {
    let m: { id?: unknown; op?: unknown; c?: unknown; i?: unknown; n?: unknown; d?: unknown };
    try {
      m = JSON.parse(payload ?? '');
    } catch {
      return;
    }
    if (typeof m.c !== 'string' || typeof m.id !== 'string') return;
    if (m.op === 'delete') {
      this.#o.deliver({ op: 'delete', connectionId: m.c });
      return;
    }
    if (
      m.op !== 'post' ||
      typeof m.d !== 'string' ||
      typeof m.i !== 'number' ||
      typeof m.n !== 'number'
    )
      return;
    let parts = this.#partial.get(m.id);
    if (m.i === 0) {
      parts = [];
      this.#partial.set(m.id, parts);
    }
    // A part without its first (the listener reconnected mid-message) is dropped with the rest.
    if (parts === undefined || parts.length !== m.i) {
      this.#partial.delete(m.id);
      return;
    }
    parts.push(m.d);
    if (parts.length < m.n) return;
    this.#partial.delete(m.id);
    this.#o.deliver({ op: 'post', connectionId: m.c, data: Buffer.from(parts.join(''), 'base64') });
  }

  #lost(client: pg.Client, error: unknown): void {
    if (this.#stopped || this.#client !== client) return;
    this.#client = undefined;
    this.#partial.clear();
    this.#o.logger.warn(
      { err: error },
      'websocket relay listener lost its connection; reconnecting',
    );
    client.end().catch(() => {});
    this.#reconnectLater();
  }

  #reconnectLater(): void {
    if (this.#stopped) return;
    this.#cancelReconnect = this.#o.timer.schedule(this.#o.reconnectMs, () => {
      this.#listen().catch((error: unknown) => {
        this.#o.logger.warn({ err: error }, 'reconnecting the websocket relay listener failed');
        this.#reconnectLater();
      });
    });
  }
}

/** One channel per node of a schema's cluster (hashed: channel names stay under 64 bytes). */
export function relayChannel(schema: string, node: string): string {
  return `nimbus_ws_${createHash('sha256').update(`${schema}\0${node}`).digest('hex').slice(0, 24)}`;
}
