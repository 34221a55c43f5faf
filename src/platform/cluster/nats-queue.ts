/**
 * Cluster mode's async queue on NATS JetStream (`--nats-url`, docs/cluster.md): the connection,
 * the JetStream adapter, the outbox relay and the transactional queue the async path uses
 * (docs/internals/queue.md, "The outbox"). Without `--nats-url` the SQL queue in the store is
 * used instead.
 */
import type { Kysely } from 'kysely';
import { connect, type NatsConnection } from 'nats';
import { NimbusError } from '../../errors/nimbus-error.js';
import { type Clock, systemClock } from '../../model/clock.js';
import { NatsWorkQueue } from '../../queue/nats-work-queue.js';
import { OutboxRelay } from '../../queue/outbox-relay.js';
import { OutboxWorkQueue } from '../../queue/outbox-work-queue.js';
import type { SqlFlavor } from '../../store/migrations/sql-flavor.js';
import type { Database } from '../../store/schema.js';

export class QueueUnavailableError extends NimbusError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NIMBUS_QUEUE_UNAVAILABLE', message, options);
  }
}

export interface NatsQueueOptions {
  url: string;
  /** Streams `<prefix>_WORK` and `<prefix>_DEAD`, subjects `<prefix>.>`; default `nimbus`. */
  prefix?: string;
  nodeName: string;
  db: Kysely<Database>;
  flavor: SqlFlavor;
  /** The store's clock (outbox rows, key windows); JetStream itself runs on the wall clock. */
  clock: Clock;
  /** Told after the relay published jobs (wakes the local worker). */
  onPublished: () => void;
  warn: (message: string, error?: unknown) => void;
}

export interface NatsQueue {
  queue: OutboxWorkQueue;
  relay: OutboxRelay;
  /** The connection, shared with the other users of NATS (Kinesis records); closed by close(). */
  connection: NatsConnection;
  /** For the banner: the server without its password, and the streams. */
  description: string;
  close(): Promise<void>;
}

export async function openNatsQueue(o: NatsQueueOptions): Promise<NatsQueue> {
  const where = describeNatsUrl(o.url);
  const prefix = o.prefix ?? 'nimbus';
  let nc: NatsConnection;
  try {
    // Reconnects for ever once up: a NATS restart must not need a Nimbus restart.
    nc = await connect({
      servers: o.url,
      name: `nimbus ${o.nodeName}`,
      maxReconnectAttempts: -1,
      timeout: 5_000,
    });
  } catch (error) {
    throw new QueueUnavailableError(
      `cannot reach NATS at ${where}: ${(error as Error).message}; is nats-server running ` +
        '(with JetStream: -js) and the URL right?',
      { cause: error },
    );
  }
  let nats: NatsWorkQueue;
  try {
    // JetStream's timers are the server's wall clock: the adapter gets the system clock.
    nats = await NatsWorkQueue.open(nc, { clock: systemClock, prefix });
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw new QueueUnavailableError(
      `cannot create the JetStream streams ${prefix}_WORK and ${prefix}_DEAD at ${where}: ` +
        `${(error as Error).message}; is JetStream enabled (nats-server -js)?`,
      { cause: error },
    );
  }
  const relay = new OutboxRelay({
    db: o.db,
    flavor: o.flavor,
    nats,
    onPublished: o.onPublished,
    onError: (error) => o.warn('outbox relay pass failed: jobs stay in the outbox', error),
  });
  const queue = new OutboxWorkQueue({
    db: o.db,
    flavor: o.flavor,
    clock: o.clock,
    nats,
    relay,
    onAfterCommit: (what, error) => o.warn(what, error),
  });
  return {
    queue,
    relay,
    connection: nc,
    description: `NATS JetStream ${where} (streams ${prefix}_WORK and ${prefix}_DEAD; outbox in the store)`,
    close: async () => {
      await relay.stop();
      await nc.drain().catch(() => nc.close());
    },
  };
}

/** The URL(s) without credentials. */
export function describeNatsUrl(url: string): string {
  return url
    .split(',')
    .map((one) => {
      try {
        const u = new URL(one.trim());
        return `${u.protocol}//${u.hostname}:${u.port || '4222'}`;
      } catch {
        return 'a nats:// URL';
      }
    })
    .join(',');
}
