import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../store/schema.js';
import type { Part } from '../lifecycle/lifecycle.js';
import { type Scheduler, systemScheduler } from '../observe/scheduler.js';
import { PgNotificationListener } from './pg-notification-listener.js';

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
  /** Wait before reconnecting a lost LISTEN connection; default 1 s (then backing off). */
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
  readonly #listener: PgNotificationListener;
  /** Parts of messages being received, by message id. */
  readonly #partial = new Map<string, string[]>();

  constructor(options: ConnectionRelayOptions) {
    this.#o = { reconnectMs: 1_000, timer: systemScheduler, ...options };
    this.#listener = new PgNotificationListener({
      url: this.#o.url,
      channels: [relayChannel(this.#o.schema, this.#o.nodeName)],
      notified: (payload) => this.#onNotification(payload),
      name: 'websocket relay listener',
      logger: this.#o.logger,
      // A message whose first parts came before the loss can never complete.
      lost: () => this.#partial.clear(),
      reconnectMs: this.#o.reconnectMs,
      timer: this.#o.timer,
    });
  }

  start(): Promise<void> {
    return this.#listener.start();
  }

  stop(): Promise<void> {
    return this.#listener.stop();
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
}

/** One channel per node of a schema's cluster (hashed: channel names stay under 64 bytes). */
export function relayChannel(schema: string, node: string): string {
  return `nimbus_ws_${createHash('sha256').update(`${schema}\0${node}`).digest('hex').slice(0, 24)}`;
}
