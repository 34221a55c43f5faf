/**
 * The WorkQueue port: durable jobs per named queue, handed out under time-limited leases
 * (at-least-once). The SQL adapter (sql-work-queue.ts) serves SQLite and PostgreSQL; the NATS
 * JetStream adapter (nats-work-queue.ts) runs on the server's wall clock and differs where
 * docs/internals/queue.md says (order, late settles, the idempotency window, cancel).
 * Semantics, the state machine and the NATS mapping: docs/internals/queue.md.
 */
import { NimbusError } from '../errors/nimbus-error.js';

export interface EnqueueInput {
  /** Which queue (the async invoker uses the function name). */
  queue: string;
  /** Any JSON value; `undefined` is stored as null. */
  payload: unknown;
  /** Epoch ms before which the job is not handed out; default now. */
  runAt?: number;
  /**
   * Enqueues with the same (queue, key) inside the key's window return the first job's id with
   * `duplicate: true` and store nothing. The window ends at `expiresAt` when given, otherwise
   * the adapter's idempotency window after enqueue.
   */
  idempotencyKey?: string;
  /** Epoch ms after which the job must not run; lease still hands it out, flagged `expired`. */
  expiresAt?: number;
}

export interface EnqueueResult {
  id: string;
  duplicate: boolean;
}

/** What proves a lease is still held: a Job satisfies it. */
export interface LeaseRef {
  id: string;
  leaseToken: string;
}

export interface Job extends LeaseRef {
  queue: string;
  payload: unknown;
  /** Deliveries so far, this one included (crash redeliveries count). */
  attempts: number;
  /** retryAt calls that counted a failure (function errors); throttles and other system errors do not. */
  failures: number;
  enqueuedAt: number;
  /** When this delivery became due. */
  runAt: number;
  expiresAt?: number;
  /**
   * expiresAt had passed when this lease was taken: do not run it; send it down the failure path
   * and settle it (deadLetter, or ack once the failure is recorded elsewhere).
   */
  expired: boolean;
  /** Random per lease call (a batch shares one); a re-lease gets a new one. */
  leaseToken: string;
  leaseUntil: number;
  idempotencyKey?: string;
}

export interface DeadJob {
  id: string;
  queue: string;
  payload: unknown;
  attempts: number;
  failures: number;
  enqueuedAt: number;
  runAt: number;
  expiresAt?: number;
  idempotencyKey?: string;
  deadAt: number;
  /** Whatever JSON the holder passed to deadLetter. */
  reason: unknown;
}

export interface LeaseOptions {
  /** At most this many jobs (the worker's free capacity), >= 1. */
  max: number;
  /** Lease length; a holder that neither settles nor extends by then loses the job. */
  leaseMs: number;
}

export interface RetryOptions {
  /** Count this as a failure (default true). False for throttles and other system errors. */
  countFailure?: boolean;
}

export interface QueueStats {
  /** Due now, or leased with the lease run out (will be handed out again). */
  ready: number;
  /** Waiting for runAt (first run or retry). */
  delayed: number;
  /** Held under a live lease. */
  leased: number;
  dead: number;
}

/**
 * Settling calls (ack, retryAt, deadLetter, extendLease) take the LeaseRef from lease and return
 * false, changing nothing, when that lease is no longer held: the job was leased again after
 * this lease ran out, or it is gone. At-least-once delivery makes that an expected race, not an
 * error: the holder logs it and moves on (the newer holder owns the outcome).
 */
export interface WorkQueue {
  /** Durable when it resolves. */
  enqueue(input: EnqueueInput): Promise<EnqueueResult>;

  /**
   * Claims up to `max` due jobs of one queue, oldest runAt first: queued jobs with runAt <= now
   * and leased jobs whose lease ran out (crash recovery). Each claim adds one to attempts. No job
   * is ever held by two live leases.
   */
  lease(queue: string, opts: LeaseOptions): Promise<Job[]>;

  /** Queues with a job lease would hand out now, so a dispatcher knows which workers to wake. */
  queuesReady(): Promise<string[]>;

  /** Done: the job is removed. */
  ack(ref: LeaseRef): Promise<boolean>;

  /** Releases the lease; the job runs again at runAt. */
  retryAt(ref: LeaseRef, runAt: number, opts?: RetryOptions): Promise<boolean>;

  /** Moves the job to its queue's dead letters with a JSON reason. */
  deadLetter(ref: LeaseRef, reason: unknown): Promise<boolean>;

  /** Heartbeat: the lease now ends leaseMs from now. */
  extendLease(ref: LeaseRef, leaseMs: number): Promise<boolean>;

  /** Dead letters of a queue, oldest first. */
  listDead(queue: string, opts: { limit: number }): Promise<DeadJob[]>;

  /**
   * Queues dead letters again (all of the queue's, or those ids), due now, with attempts,
   * failures and expiresAt cleared. Returns how many.
   */
  redrive(queue: string, ids?: string[]): Promise<number>;

  /** Removes a waiting job (queued, retrying, or leased with the lease run out); false otherwise. */
  cancel(id: string): Promise<boolean>;

  stats(queue?: string): Promise<QueueStats>;

  /** Maintenance: forgets idempotency keys whose window ended. Returns how many. */
  purgeExpiredKeys(): Promise<number>;
}

/**
 * A WorkQueue whose writes can join a caller's transaction, so a job commits or rolls back with
 * the caller's own rows (the SQL adapter: `Tx` is a Kysely transaction on the store's handle).
 * A queue outside the database (NATS) cannot offer this; its callers keep the ordered writes.
 */
export interface TransactionalWorkQueue<Tx> extends WorkQueue {
  /**
   * True for a queue outside the database (the outbox over NATS JetStream): `within(tx)`
   * enqueues commit with `tx`, but `lease` is a network call a rerun of the transaction would
   * repeat (callers lease before it), and settles made through `within(tx)` are checked there
   * and reach the queue only after the commit, so a crash can leave a job whose caller's rows
   * already say it is done (the caller settles such a job when it is delivered again).
   */
  readonly outsideDatabase?: boolean;
  /** The same queue, every call made inside `tx` (commits and rolls back with it). */
  within(tx: Tx): WorkQueue;
  /**
   * Runs `work` in one transaction, possibly shared with concurrent callers (group commit);
   * resolves after the commit. `work` may run twice (see GroupCommitter): it must write only
   * through `tx` and have no other effects.
   */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
}

/** An argument no adapter can honour (empty queue name, max < 1, a payload JSON cannot hold). */
export class WorkQueueInputError extends NimbusError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NIMBUS_QUEUE_BAD_INPUT', message, options);
  }
}
