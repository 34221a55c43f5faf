/**
 * Moves outbox rows (jobs committed with their caller's rows, migration 031) to NATS JetStream
 * and deletes them (docs/internals/queue.md, "The outbox"). A row is published under its id as
 * Nats-Msg-Id, so a relay that dies between publish and delete, or two relays publishing the
 * same row, store the job once: the stream's duplicate window drops the second publish.
 */
import type { Kysely } from 'kysely';
import type { SqlFlavor } from '../store/migrations/sql-flavor.js';
import type { Database, WorkOutboxTable } from '../store/schema.js';
import type { NatsWorkQueue } from './nats-work-queue.js';

export interface OutboxRelayOptions {
  db: Kysely<Database>;
  flavor: SqlFlavor;
  nats: Pick<NatsWorkQueue, 'publishJob'>;
  /** How often rows nobody kicked the relay for are looked for (a schedule's fire, a dead node's). */
  sweepMs?: number;
  /** Told after a pass published something (wakes the local worker). */
  onPublished?: () => void;
  /** Told when a pass failed (NATS or the store down); the rows stay and the next pass retries. */
  onError?: (error: unknown) => void;
}

/** Rows one transaction publishes; a longer outbox takes several. */
const batch = 256;

export class OutboxRelay {
  readonly #o: OutboxRelayOptions;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(opts: OutboxRelayOptions) {
    this.#o = opts;
  }

  start(): void {
    this.#stopped = false;
    this.#arm();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  /**
   * Publishes every row in the outbox now. Passes do not overlap: a call during a pass makes that
   * pass go round once more, and resolves with it, so rows committed before the call are covered.
   */
  pass(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        let published = 0;
        do {
          this.#again = false;
          published += await this.#drain();
        } while (this.#again);
        if (published > 0) this.#o.onPublished?.();
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  async #drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.#once();
      total += n;
      if (n < batch) return total;
    }
  }

  /**
   * One batch. PostgreSQL: rows are locked (SKIP LOCKED) while they are published, so the
   * relays of other nodes take other rows instead of publishing these again. SQLite has one
   * node and one writer: no transaction is held open across the network.
   */
  async #once(): Promise<number> {
    const { db, flavor } = this.#o;
    if (flavor === 'postgres') {
      return db.transaction().execute(async (tx) => {
        const rows = await tx
          .selectFrom('work_outbox')
          .selectAll()
          .orderBy('enqueued_at')
          .limit(batch)
          .forUpdate()
          .skipLocked()
          .execute();
        await this.#publish(rows);
        if (rows.length > 0) {
          await tx
            .deleteFrom('work_outbox')
            .where(
              'id',
              'in',
              rows.map((r) => r.id),
            )
            .execute();
        }
        return rows.length;
      });
    }
    const rows = await db
      .selectFrom('work_outbox')
      .selectAll()
      .orderBy('enqueued_at')
      .limit(batch)
      .execute();
    await this.#publish(rows);
    if (rows.length > 0) {
      await db
        .deleteFrom('work_outbox')
        .where(
          'id',
          'in',
          rows.map((r) => r.id),
        )
        .execute();
    }
    return rows.length;
  }

  async #publish(rows: WorkOutboxTable[]): Promise<void> {
    // Concurrently: each publish waits for the server's ack, which would serialise round trips.
    await Promise.all(
      rows.map((r) =>
        this.#o.nats.publishJob({
          id: r.id,
          queue: r.queue,
          payload: JSON.parse(r.payload),
          enqueuedAt: Number(r.enqueued_at),
          ...(r.run_at === null ? {} : { runAt: Number(r.run_at) }),
          ...(r.expires_at === null ? {} : { expiresAt: Number(r.expires_at) }),
          ...(r.idempotency_key === null ? {} : { idempotencyKey: r.idempotency_key }),
        }),
      ),
    );
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.pass()
        .catch((error: unknown) => this.#o.onError?.(error))
        .finally(() => this.#arm());
    }, this.#o.sweepMs ?? 500);
    this.#timer.unref();
  }
}
