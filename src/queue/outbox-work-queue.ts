/**
 * The async path's queue in cluster mode with NATS JetStream (docs/internals/queue.md, "The
 * outbox"): a TransactionalWorkQueue whose jobs are written to an outbox table in the caller's
 * store transaction and reach JetStream through the relay after the commit; whose settles made
 * inside a transaction are checked there (the lease is still this process's) and sent to
 * JetStream after the commit. So a task record and its job commit together, as with the SQL
 * queue, and a crash after a commit is repaired by redelivery: the worker settles a job whose
 * record is already final without running it again.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../model/clock.js';
import { groupCommitter, type StoreTx } from '../store/group-commit.js';
import type { SqlFlavor } from '../store/migrations/sql-flavor.js';
import type { Database } from '../store/schema.js';
import type { NatsWorkQueue } from './nats-work-queue.js';
import type { OutboxRelay } from './outbox-relay.js';
import {
  type DeadJob,
  type EnqueueInput,
  type EnqueueResult,
  type Job,
  type LeaseOptions,
  type LeaseRef,
  type QueueStats,
  type RetryOptions,
  type TransactionalWorkQueue,
  type WorkQueue,
  WorkQueueInputError,
} from './work-queue.js';
import { checkQueue, checkTime, toJson } from './work-queue-input.js';

export interface OutboxWorkQueueOptions {
  db: Kysely<Database>;
  flavor: SqlFlavor;
  /** The store's clock: outbox timestamps and idempotency windows. */
  clock: Clock;
  nats: NatsWorkQueue;
  relay: OutboxRelay;
  /** How long an idempotency key holds when the job has no expiresAt. Default 6 hours. */
  idempotencyWindowMs?: number;
  /** Told when something after a commit failed (a settle refused, NATS down); it is logged. */
  onAfterCommit?: (what: string, error?: unknown) => void;
}

const defaultIdempotencyWindowMs = 6 * 60 * 60 * 1000;

/** What a transaction left to do once it has committed. */
interface AfterCommit {
  settles: { what: string; run: () => Promise<boolean> }[];
  enqueued: boolean;
  done?: Promise<void>;
}

export class OutboxWorkQueue implements TransactionalWorkQueue<StoreTx> {
  readonly outsideDatabase = true;
  readonly #o: OutboxWorkQueueOptions;
  readonly #windowMs: number;
  /** Keyed by the transaction: a group commit shares one among several units of work. */
  readonly #after = new WeakMap<StoreTx, AfterCommit>();

  constructor(opts: OutboxWorkQueueOptions) {
    this.#o = opts;
    this.#windowMs = opts.idempotencyWindowMs ?? defaultIdempotencyWindowMs;
  }

  within(tx: StoreTx): WorkQueue {
    return new OutboxView(this, tx);
  }

  async transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    const committer = groupCommitter(this.#o.db, {
      parallel: this.#o.flavor === 'postgres' ? 4 : 1,
    });
    const { value, tx } = await committer.run(async (tx) => ({ value: await work(tx), tx }));
    await this.#afterCommit(tx);
    return value;
  }

  /** Outside a transaction: a transaction of its own, published before it resolves. */
  enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    return this.transaction((tx) => this.within(tx).enqueue(input));
  }

  lease(queue: string, opts: LeaseOptions): Promise<Job[]> {
    return this.#o.nats.lease(queue, opts);
  }

  queuesReady(): Promise<string[]> {
    return this.#o.nats.queuesReady();
  }

  ack(ref: LeaseRef): Promise<boolean> {
    return this.#o.nats.ack(ref);
  }

  retryAt(ref: LeaseRef, runAt: number, opts?: RetryOptions): Promise<boolean> {
    return this.#o.nats.retryAt(ref, runAt, opts);
  }

  deadLetter(ref: LeaseRef, reason: unknown): Promise<boolean> {
    return this.#o.nats.deadLetter(ref, reason);
  }

  extendLease(ref: LeaseRef, leaseMs: number): Promise<boolean> {
    return this.#o.nats.extendLease(ref, leaseMs);
  }

  listDead(queue: string, opts: { limit: number }): Promise<DeadJob[]> {
    return this.#o.nats.listDead(queue, opts);
  }

  redrive(queue: string, ids?: string[]): Promise<number> {
    return this.#o.nats.redrive(queue, ids);
  }

  /**
   * Only a job still in the outbox can be cancelled: once in JetStream its id is not a stream
   * sequence. The caller marks its record stopped, and the worker drops the job when leased.
   */
  async cancel(id: string): Promise<boolean> {
    const gone = await this.#o.db.deleteFrom('work_outbox').where('id', '=', id).executeTakeFirst();
    return Number(gone.numDeletedRows) > 0;
  }

  /** JetStream's counts, with the jobs still in the outbox as ready. */
  async stats(queue?: string): Promise<QueueStats> {
    const stats = await this.#o.nats.stats(queue);
    let q = this.#o.db.selectFrom('work_outbox').select((eb) => eb.fn.countAll<number>().as('n'));
    if (queue !== undefined) q = q.where('queue', '=', queue);
    stats.ready += Number((await q.executeTakeFirstOrThrow()).n);
    return stats;
  }

  async purgeExpiredKeys(): Promise<number> {
    const gone = await this.#o.db
      .deleteFrom('work_outbox_keys')
      .where('expires_at', '<=', this.#o.clock.now())
      .executeTakeFirst();
    return Number(gone.numDeletedRows);
  }

  /** @internal the view's bookkeeping for `tx`. */
  pendingOf(tx: StoreTx): AfterCommit {
    let p = this.#after.get(tx);
    if (!p) {
      p = { settles: [], enqueued: false };
      this.#after.set(tx, p);
    }
    return p;
  }

  /** @internal */
  get options(): OutboxWorkQueueOptions & { windowMs: number } {
    return { ...this.#o, windowMs: this.#windowMs };
  }

  /**
   * Runs once per committed transaction, whichever of its units gets here first; the others
   * wait for the same run. Nothing here throws: what failed is repaired by redelivery (a settle)
   * or the relay's next pass (a job), and is only reported.
   */
  #afterCommit(tx: StoreTx): Promise<void> {
    const p = this.#after.get(tx);
    if (!p) return Promise.resolve();
    p.done ??= (async () => {
      const report = this.#o.onAfterCommit ?? (() => undefined);
      await Promise.all(
        p.settles.map(async (s) => {
          try {
            if (!(await s.run())) report(`${s.what} refused: the lease ran out after the commit`);
          } catch (error) {
            report(`${s.what} failed after the commit`, error);
          }
        }),
      );
      if (p.enqueued) {
        await this.#o.relay.pass().catch((error: unknown) => report('outbox relay failed', error));
      }
    })();
    return p.done;
  }
}

/** The queue inside one store transaction (what `within(tx)` returns). */
class OutboxView implements WorkQueue {
  readonly #q: OutboxWorkQueue;
  readonly #tx: StoreTx;

  constructor(q: OutboxWorkQueue, tx: StoreTx) {
    this.#q = q;
    this.#tx = tx;
  }

  async enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    checkQueue(input.queue);
    const { clock, windowMs } = this.#q.options;
    const now = clock.now();
    const payload = toJson(input.payload, 'payload');
    const runAt = input.runAt === undefined ? null : checkTime(input.runAt, 'runAt');
    const expiresAt =
      input.expiresAt === undefined ? null : checkTime(input.expiresAt, 'expiresAt');
    const key = input.idempotencyKey;
    if (key === '') throw new WorkQueueInputError('idempotencyKey must not be empty');
    const id = randomUUID();
    if (key !== undefined) {
      // One statement takes the key unless a live window holds it, so two racing enqueues
      // cannot both win (on PostgreSQL the second waits for the first's commit).
      const taken = await this.#tx
        .insertInto('work_outbox_keys')
        .values({
          queue: input.queue,
          idempotency_key: key,
          job_id: id,
          expires_at: expiresAt ?? now + windowMs,
        })
        .onConflict((oc) =>
          oc
            .columns(['queue', 'idempotency_key'])
            .doUpdateSet((eb) => ({
              job_id: eb.ref('excluded.job_id'),
              expires_at: eb.ref('excluded.expires_at'),
            }))
            .where('work_outbox_keys.expires_at', '<=', now),
        )
        .returning('job_id')
        .executeTakeFirst();
      if (taken === undefined) {
        const first = await this.#tx
          .selectFrom('work_outbox_keys')
          .select('job_id')
          .where('queue', '=', input.queue)
          .where('idempotency_key', '=', key)
          .executeTakeFirstOrThrow();
        return { id: first.job_id, duplicate: true };
      }
    }
    await this.#tx
      .insertInto('work_outbox')
      .values({
        id,
        queue: input.queue,
        payload,
        enqueued_at: now,
        run_at: runAt,
        expires_at: expiresAt,
        idempotency_key: key ?? null,
      })
      .execute();
    this.#q.pendingOf(this.#tx).enqueued = true;
    return { id, duplicate: false };
  }

  lease(queue: string, opts: LeaseOptions): Promise<Job[]> {
    return this.#q.lease(queue, opts);
  }

  queuesReady(): Promise<string[]> {
    return this.#q.queuesReady();
  }

  async ack(ref: LeaseRef): Promise<boolean> {
    return this.#defer(ref, 'ack', () => this.#q.ack(ref));
  }

  async retryAt(ref: LeaseRef, runAt: number, opts?: RetryOptions): Promise<boolean> {
    checkTime(runAt, 'runAt');
    return this.#defer(ref, 'retry', () => this.#q.retryAt(ref, runAt, opts));
  }

  async deadLetter(ref: LeaseRef, reason: unknown): Promise<boolean> {
    toJson(reason, 'reason');
    return this.#defer(ref, 'dead letter', () => this.#q.deadLetter(ref, reason));
  }

  extendLease(ref: LeaseRef, leaseMs: number): Promise<boolean> {
    return this.#q.extendLease(ref, leaseMs);
  }

  listDead(queue: string, opts: { limit: number }): Promise<DeadJob[]> {
    return this.#q.listDead(queue, opts);
  }

  redrive(queue: string, ids?: string[]): Promise<number> {
    return this.#q.redrive(queue, ids);
  }

  async cancel(id: string): Promise<boolean> {
    const gone = await this.#tx.deleteFrom('work_outbox').where('id', '=', id).executeTakeFirst();
    return Number(gone.numDeletedRows) > 0;
  }

  stats(queue?: string): Promise<QueueStats> {
    return this.#q.stats(queue);
  }

  purgeExpiredKeys(): Promise<number> {
    return this.#q.purgeExpiredKeys();
  }

  /**
   * A settle inside a transaction: answered now (is the lease still this process's?), sent to
   * JetStream after the commit: the queue is never settled before the caller's rows say so.
   */
  #defer(ref: LeaseRef, what: string, run: () => Promise<boolean>): boolean {
    if (!this.#q.options.nats.holds(ref)) return false;
    this.#q.pendingOf(this.#tx).settles.push({ what: `${what} of job ${ref.id}`, run });
    return true;
  }
}
