/**
 * The WorkQueue on NATS JetStream (docs/internals/queue.md, "The NATS adapter"). One
 * work-queue-retention stream per prefix holds every queue's jobs, one subject per queue and
 * kind (`<prefix>.work.<q>` due now, `<prefix>.delay.<q>` waiting for runAt), each read by a
 * durable pull consumer with explicit ack; dead letters live in a second (limits) stream.
 *
 * JetStream's own timers (ack_wait, nak delay) run on the server's wall clock, so this adapter
 * must be given the system clock: a manual clock would disagree with the server.
 */
import { randomBytes } from 'node:crypto';
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type MsgHdrs,
  type NatsConnection,
  nanos,
  headers as natsHeaders,
  RetentionPolicy,
  StorageType,
  type StoredMsg,
} from 'nats';
import type { Clock } from '../model/clock.js';
import {
  type DeadJob,
  type EnqueueInput,
  type EnqueueResult,
  type Job,
  type LeaseOptions,
  type LeaseRef,
  type QueueStats,
  type RetryOptions,
  type WorkQueue,
  WorkQueueInputError,
} from './work-queue.js';
import { checkDuration, checkQueue, checkTime, toJson } from './work-queue-input.js';

export interface NatsWorkQueueOptions {
  /** Must be the wall clock: JetStream's timers are the server's. */
  clock: Clock;
  /** Stream and subject prefix (letters, digits, `_`, `-`); one platform per prefix. */
  prefix?: string;
  /**
   * The work stream's duplicate window: how long an idempotency key holds. One window for the
   * whole stream (JetStream has no per-message window); default 6 hours like the SQL adapter.
   */
  idempotencyWindowMs?: number;
  /** Consumers' max_deliver; default unlimited (the worker dead-letters by `attempts`). */
  maxDeliver?: number;
  /** Replicas of both streams (a JetStream cluster); default 1. */
  replicas?: number;
}

/** The manager's direct-get API (allow_direct streams); the package does not export its type. */
interface DirectStreamAPI {
  getMessage(stream: string, query: { seq: number; next_by_subj: string }): Promise<StoredMsg>;
}

const defaultIdempotencyWindowMs = 6 * 60 * 60 * 1000;
/** How long a mover holds a due delayed job before JetStream hands it to another mover. */
const moveAckWaitMs = 30_000;
/** Delayed jobs one lease call moves at most (the rest move on the next call). */
const moveBatch = 256;
const h = {
  jobId: 'Nimbus-Job-Id',
  enqueuedAt: 'Nimbus-Enqueued-At',
  runAt: 'Nimbus-Run-At',
  expiresAt: 'Nimbus-Expires-At',
  key: 'Nimbus-Idempotency-Key',
  attempts: 'Nimbus-Attempts',
  failures: 'Nimbus-Failures',
} as const;

/** A delivery this process handed out, by lease token and job id. */
interface Held {
  msg: JsMsg;
  job: Job;
  ackWaitMs: number;
}

export class NatsWorkQueue implements WorkQueue {
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #direct: DirectStreamAPI;
  readonly #clock: Clock;
  readonly #prefix: string;
  readonly #work: string;
  readonly #dead: string;
  readonly #windowMs: number;
  readonly #maxDeliver: number;
  /** Consumers known to exist, with their ack_wait. */
  readonly #consumers = new Map<string, number>();
  readonly #held = new Map<string, Held>();

  private constructor(nc: NatsConnection, jsm: JetStreamManager, opts: NatsWorkQueueOptions) {
    this.#nc = nc;
    this.#jsm = jsm;
    // The manager has the direct-get API (allow_direct streams) but its interface omits it.
    this.#direct = (jsm as JetStreamManager & { direct: DirectStreamAPI }).direct;
    this.#js = nc.jetstream();
    this.#clock = opts.clock;
    this.#prefix = opts.prefix ?? 'nimbus';
    this.#work = `${this.#prefix}_WORK`;
    this.#dead = `${this.#prefix}_DEAD`;
    this.#windowMs = opts.idempotencyWindowMs ?? defaultIdempotencyWindowMs;
    this.#maxDeliver = opts.maxDeliver ?? -1;
  }

  /** Creates (or updates) the two streams; the connection stays the caller's to close. */
  static async open(nc: NatsConnection, opts: NatsWorkQueueOptions): Promise<NatsWorkQueue> {
    const prefix = opts.prefix ?? 'nimbus';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(prefix)) {
      throw new WorkQueueInputError(`NATS prefix must be letters, digits, _ or -, got ${prefix}`);
    }
    const jsm = await nc.jetstreamManager();
    const q = new NatsWorkQueue(nc, jsm, opts);
    const replicas = opts.replicas ?? 1;
    await ensureStream(jsm, {
      name: q.#work,
      subjects: [`${prefix}.work.>`, `${prefix}.delay.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: nanos(q.#windowMs),
      num_replicas: replicas,
      allow_direct: true,
    });
    await ensureStream(jsm, {
      name: q.#dead,
      subjects: [`${prefix}.dead.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: nanos(2 * 60 * 1000),
      num_replicas: replicas,
      allow_direct: true,
    });
    return q;
  }

  async enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    const key = input.idempotencyKey;
    if (key === '') throw new WorkQueueInputError('idempotencyKey must not be empty');
    // The key is per queue; JSON keeps (queue, key) pairs from colliding.
    const msgID = key === undefined ? undefined : JSON.stringify([input.queue, key]);
    const ack = await this.#publishNew(input, this.#now(), msgID, undefined);
    // A duplicate's ack carries the first message's sequence: the job's id.
    return { id: String(ack.seq), duplicate: ack.duplicate };
  }

  /**
   * Publishes a job whose id the caller chose (an outbox row's, docs/internals/queue.md): the
   * id is its `Nimbus-Job-Id` and its publish id, so publishing the same id again within the
   * duplicate window stores nothing (a relay that crashed between publish and delete). Its
   * idempotency key, if any, was already decided by the caller and is only carried along.
   */
  async publishJob(
    input: EnqueueInput & { id: string; enqueuedAt: number },
  ): Promise<EnqueueResult> {
    if (input.id === '') throw new WorkQueueInputError('id must not be empty');
    const ack = await this.#publishNew(input, input.enqueuedAt, `job:${input.id}`, input.id);
    return { id: input.id, duplicate: ack.duplicate };
  }

  /** Whether this process holds a live lease on the job (settles would be accepted). */
  holds(ref: LeaseRef): boolean {
    return this.#live(ref) !== undefined;
  }

  async #publishNew(
    input: EnqueueInput,
    enqueuedAt: number,
    msgID: string | undefined,
    jobId: string | undefined,
  ) {
    checkQueue(input.queue);
    const now = this.#now();
    const payload = toJson(input.payload, 'payload');
    const runAt = input.runAt === undefined ? now : checkTime(input.runAt, 'runAt');
    const expiresAt =
      input.expiresAt === undefined ? undefined : checkTime(input.expiresAt, 'expiresAt');
    const hdrs = natsHeaders();
    if (jobId !== undefined) hdrs.set(h.jobId, jobId);
    hdrs.set(h.enqueuedAt, String(enqueuedAt));
    hdrs.set(h.runAt, String(runAt));
    if (expiresAt !== undefined) hdrs.set(h.expiresAt, String(expiresAt));
    if (input.idempotencyKey !== undefined) hdrs.set(h.key, input.idempotencyKey);
    const kind = runAt > now ? 'delay' : 'work';
    return this.#js.publish(this.#subject(kind, input.queue), payload, {
      headers: hdrs,
      ...(msgID === undefined ? {} : { msgID }),
    });
  }

  async lease(queue: string, opts: LeaseOptions): Promise<Job[]> {
    checkQueue(queue);
    if (!Number.isInteger(opts.max) || opts.max < 1) {
      throw new WorkQueueInputError(`max must be an integer >= 1, got ${opts.max}`);
    }
    const leaseMs = checkDuration(opts.leaseMs, 'leaseMs');
    this.#forgetStale();
    await this.#moveDue(queue);
    const consumer = await this.#consumer('w', queue, leaseMs);
    const token = randomBytes(16).toString('hex');
    const now = this.#now();
    const jobs: Job[] = [];
    for await (const msg of this.#js.fetch(this.#work, consumer, {
      batch: opts.max,
      no_wait: true,
    })) {
      const job = this.#toJob(queue, msg, token, now + leaseMs);
      this.#held.set(heldKey(job), { msg, job, ackWaitMs: leaseMs });
      jobs.push(job);
    }
    return jobs;
  }

  async queuesReady(): Promise<string[]> {
    const ready: string[] = [];
    const now = this.#now();
    for (const [queue, counts] of await this.#subjectCounts()) {
      const held = counts.work > 0 ? await this.#consumerInfo('w', queue) : undefined;
      const mine = [...this.#held.values()].filter((x) => x.job.queue === queue);
      const expired = mine.some((x) => x.job.leaseUntil <= now);
      const heldHere = mine.length - mine.filter((x) => x.job.leaseUntil <= now).length;
      const pending = held?.num_ack_pending ?? 0;
      // Deliveries held elsewhere may have lapsed (a node killed mid-run): JetStream counts them
      // as pending until it redelivers them, which only a fetch makes it do, so such a queue is
      // worth a (no-wait) fetch too.
      if (counts.work > pending || expired || pending > heldHere) {
        ready.push(queue);
      } else if (counts.delay > 0 && (await this.#firstDelayedDue(queue, now))) {
        ready.push(queue);
      }
    }
    return ready;
  }

  async ack(ref: LeaseRef): Promise<boolean> {
    const held = this.#take(ref);
    if (!held) return false;
    return held.msg.ackAck().catch(() => false);
  }

  async retryAt(ref: LeaseRef, runAt: number, opts?: RetryOptions): Promise<boolean> {
    checkTime(runAt, 'runAt');
    const held = this.#take(ref);
    if (!held) return false;
    const delay = Math.max(0, runAt - this.#now());
    if (opts?.countFailure === false) {
      // Nothing to count: JetStream's own delayed redelivery (attempts is its delivery count).
      held.msg.nak(delay);
      await this.#nc.flush();
      return true;
    }
    // JetStream keeps one counter (deliveries); the failure count travels in a new copy.
    await this.#republish(held.job, {
      runAt,
      attempts: held.job.attempts,
      failures: held.job.failures + 1,
      msgID: `retry:${held.job.id}:${held.job.attempts}`,
    });
    return held.msg.ackAck().catch(() => false);
  }

  async deadLetter(ref: LeaseRef, reason: unknown): Promise<boolean> {
    const reasonJson = toJson(reason, 'reason');
    const held = this.#take(ref);
    if (!held) return false;
    const { job } = held;
    const dead: DeadJob = {
      id: job.id,
      queue: job.queue,
      payload: job.payload,
      attempts: job.attempts,
      failures: job.failures,
      enqueuedAt: job.enqueuedAt,
      runAt: job.runAt,
      deadAt: this.#now(),
      reason: JSON.parse(reasonJson),
    };
    if (job.expiresAt !== undefined) dead.expiresAt = job.expiresAt;
    if (job.idempotencyKey !== undefined) dead.idempotencyKey = job.idempotencyKey;
    // Dead letter first, then term: a crash between them leaves the job to run again, and the
    // msg id keeps a second dead-lettering of the same delivery from storing it twice.
    await this.#js.publish(this.#subject('dead', job.queue), JSON.stringify(dead), {
      msgID: `dead:${job.id}:${job.attempts}`,
    });
    held.msg.term();
    await this.#nc.flush();
    return true;
  }

  async extendLease(ref: LeaseRef, leaseMs: number): Promise<boolean> {
    checkDuration(leaseMs, 'leaseMs');
    const held = this.#live(ref);
    if (!held) return false;
    // `working` restarts the consumer's ack_wait: the lease is that long again.
    held.msg.working();
    await this.#nc.flush();
    held.job.leaseUntil = this.#now() + held.ackWaitMs;
    return true;
  }

  async listDead(queue: string, opts: { limit: number }): Promise<DeadJob[]> {
    checkQueue(queue);
    if (!Number.isInteger(opts.limit) || opts.limit < 1) {
      throw new WorkQueueInputError(`limit must be an integer >= 1, got ${opts.limit}`);
    }
    return (await this.#readDead(queue, opts.limit)).map((d) => d.job);
  }

  async redrive(queue: string, ids?: string[]): Promise<number> {
    checkQueue(queue);
    const wanted = ids === undefined ? undefined : new Set(ids);
    let moved = 0;
    for (const { seq, job } of await this.#readDead(queue, Number.POSITIVE_INFINITY)) {
      if (wanted && !wanted.has(job.id)) continue;
      const { expiresAt: _gone, ...rest } = job;
      const now = this.#now();
      await this.#republish(
        { ...rest, runAt: now },
        { runAt: now, attempts: 0, failures: 0, msgID: `redrive:${seq}` },
      );
      await this.#jsm.streams.deleteMessage(this.#dead, seq, false);
      moved++;
    }
    return moved;
  }

  async cancel(id: string): Promise<boolean> {
    if (!/^[1-9][0-9]{0,15}$/.test(id)) return false;
    // Under a live lease here: running now, not waiting.
    for (const held of this.#held.values()) {
      if (held.job.id === id && held.job.leaseUntil > this.#now()) return false;
    }
    const seq = Number(id);
    try {
      const msg = await this.#jsm.streams.getMessage(this.#work, { seq });
      if ((msg.header.get(h.jobId) || id) !== id) return false;
      return await this.#jsm.streams.deleteMessage(this.#work, seq, false);
    } catch {
      return false; // No such message: acked, cancelled, or never there.
    }
  }

  async stats(queue?: string): Promise<QueueStats> {
    const stats: QueueStats = { ready: 0, delayed: 0, leased: 0, dead: 0 };
    const now = this.#now();
    for (const [q, counts] of await this.#subjectCounts(queue)) {
      // Delivered but unsettled: held under a lease (or waiting out a nak delay).
      const w = counts.work > 0 ? await this.#consumerInfo('w', q) : undefined;
      let leased = w?.num_ack_pending ?? 0;
      // Leases this process knows ran out are ready again (JetStream redelivers them on fetch).
      for (const held of this.#held.values()) {
        if (held.job.queue === q && held.job.leaseUntil <= now) leased--;
      }
      leased = Math.max(0, leased);
      stats.leased += leased;
      stats.ready += counts.work - leased;
      stats.delayed += counts.delay;
    }
    const filter = queue === undefined ? `${this.#prefix}.dead.>` : this.#subject('dead', queue);
    const info = await this.#jsm.streams.info(this.#dead, { subjects_filter: filter });
    for (const n of Object.values(info.state.subjects ?? {})) stats.dead += n;
    return stats;
  }

  /** Nothing to do: the stream's duplicate window forgets ids by itself. */
  async purgeExpiredKeys(): Promise<number> {
    return 0;
  }

  /** Deletes both streams (tests, and `prefix` teardown). */
  async destroy(): Promise<void> {
    await this.#jsm.streams.delete(this.#work).catch(() => undefined);
    await this.#jsm.streams.delete(this.#dead).catch(() => undefined);
  }

  // Delayed jobs wait on the delay subject; due ones move to the work subject. A nak with the
  // remaining delay parks the others on the server until then, so each call sees only due ones.
  async #moveDue(queue: string): Promise<void> {
    const consumer = await this.#consumer('d', queue, moveAckWaitMs);
    const now = this.#now();
    for await (const msg of this.#js.fetch(this.#work, consumer, {
      batch: moveBatch,
      no_wait: true,
    })) {
      const runAt = Number(msg.headers?.get(h.runAt));
      if (runAt > now) {
        msg.nak(runAt - now);
        continue;
      }
      const hdrs = copyHeaders(msg.headers);
      if (!hdrs.has(h.jobId)) hdrs.set(h.jobId, String(msg.seq));
      // The msg id makes a mover's crash between publish and ack harmless.
      await this.#js.publish(this.#subject('work', queue), msg.data, {
        headers: hdrs,
        msgID: `move:${msg.seq}`,
      });
      await msg.ackAck().catch(() => false);
    }
    await this.#nc.flush();
  }

  async #republish(
    job: Omit<Job, 'leaseToken' | 'leaseUntil' | 'expired'>,
    next: { runAt: number; attempts: number; failures: number; msgID: string },
  ): Promise<void> {
    const hdrs = natsHeaders();
    hdrs.set(h.jobId, job.id);
    hdrs.set(h.enqueuedAt, String(job.enqueuedAt));
    hdrs.set(h.runAt, String(next.runAt));
    hdrs.set(h.attempts, String(next.attempts));
    hdrs.set(h.failures, String(next.failures));
    if (job.expiresAt !== undefined) hdrs.set(h.expiresAt, String(job.expiresAt));
    if (job.idempotencyKey !== undefined) hdrs.set(h.key, job.idempotencyKey);
    const kind = next.runAt > this.#now() ? 'delay' : 'work';
    await this.#js.publish(this.#subject(kind, job.queue), JSON.stringify(job.payload), {
      headers: hdrs,
      msgID: next.msgID,
    });
  }

  async #readDead(queue: string, limit: number): Promise<{ seq: number; job: DeadJob }[]> {
    const subject = this.#subject('dead', queue);
    const out: { seq: number; job: DeadJob }[] = [];
    let seq = 1;
    while (out.length < limit) {
      let msg: StoredMsg;
      try {
        msg = await this.#direct.getMessage(this.#dead, { seq, next_by_subj: subject });
      } catch {
        break; // No further message on the subject.
      }
      out.push({ seq: msg.seq, job: JSON.parse(msg.string()) as DeadJob });
      seq = msg.seq + 1;
    }
    return out;
  }

  #toJob(queue: string, msg: JsMsg, token: string, leaseUntil: number): Job {
    const hd = msg.headers;
    const num = (name: string) => {
      const v = hd?.get(name);
      return v ? Number(v) : undefined;
    };
    const enqueuedAt = num(h.enqueuedAt) ?? 0;
    const job: Job = {
      id: hd?.get(h.jobId) || String(msg.seq),
      queue,
      payload: JSON.parse(new TextDecoder().decode(msg.data)),
      attempts: (num(h.attempts) ?? 0) + msg.info.deliveryCount,
      failures: num(h.failures) ?? 0,
      enqueuedAt,
      runAt: num(h.runAt) ?? enqueuedAt,
      expired: false,
      leaseToken: token,
      leaseUntil,
    };
    const expiresAt = num(h.expiresAt);
    if (expiresAt !== undefined) {
      job.expiresAt = expiresAt;
      job.expired = expiresAt <= this.#now();
    }
    const key = hd?.get(h.key);
    if (key) job.idempotencyKey = key;
    return job;
  }

  /** The held delivery for a settle, removed: undefined when this lease is not live. */
  #take(ref: LeaseRef): Held | undefined {
    const held = this.#live(ref);
    if (held) this.#held.delete(heldKey(ref));
    return held;
  }

  /**
   * JetStream settles by stream sequence, so a late settle from a holder whose ack_wait ran out
   * could settle a redelivery it does not own. The adapter refuses any settle once the lease it
   * handed out has run out (it cannot see whether the message was redelivered meanwhile).
   */
  #live(ref: LeaseRef): Held | undefined {
    const held = this.#held.get(heldKey(ref));
    if (!held) return undefined;
    if (held.job.leaseUntil <= this.#now()) {
      this.#held.delete(heldKey(ref));
      return undefined;
    }
    return held;
  }

  #forgetStale(): void {
    const now = this.#now();
    for (const [k, held] of this.#held) if (held.job.leaseUntil <= now) this.#held.delete(k);
  }

  async #consumer(kind: 'w' | 'd', queue: string, ackWaitMs: number): Promise<string> {
    const name = `${kind}_${encodeQueue(queue)}`;
    const known = this.#consumers.get(name);
    if (known === ackWaitMs) return name;
    const config = {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ackWaitMs),
      max_deliver: this.#maxDeliver,
      filter_subject: this.#subject(kind === 'w' ? 'work' : 'delay', queue),
    };
    try {
      const info = await this.#jsm.consumers.info(this.#work, name);
      // ack_wait is the lease length: a lease asking for another length changes it for the
      // queue (deliveries outstanding included). Workers use one length per queue.
      if (info.config.ack_wait !== config.ack_wait) {
        await this.#jsm.consumers.update(this.#work, name, { ack_wait: config.ack_wait });
      }
    } catch {
      await this.#jsm.consumers.add(this.#work, config);
    }
    this.#consumers.set(name, ackWaitMs);
    return name;
  }

  async #consumerInfo(kind: 'w' | 'd', queue: string) {
    try {
      return await this.#jsm.consumers.info(this.#work, `${kind}_${encodeQueue(queue)}`);
    } catch {
      return undefined;
    }
  }

  /** Messages stored per queue on its work and delay subjects (one stream info call). */
  async #subjectCounts(queue?: string): Promise<Map<string, { work: number; delay: number }>> {
    const filter =
      queue === undefined ? `${this.#prefix}.>` : `${this.#prefix}.*.${encodeQueue(queue)}`;
    const info = await this.#jsm.streams.info(this.#work, { subjects_filter: filter });
    const counts = new Map<string, { work: number; delay: number }>();
    for (const [subject, n] of Object.entries(info.state.subjects ?? {})) {
      const [, kind, token] = subject.split('.');
      const q = token === undefined ? undefined : decodeQueue(token);
      if (q === undefined || (kind !== 'work' && kind !== 'delay')) continue;
      const c = counts.get(q) ?? { work: 0, delay: 0 };
      c[kind] += n;
      counts.set(q, c);
    }
    return counts;
  }

  /** Whether the oldest stored delayed job of the queue is due (a hint for queuesReady). */
  async #firstDelayedDue(queue: string, now: number): Promise<boolean> {
    try {
      const msg = await this.#direct.getMessage(this.#work, {
        seq: 1,
        next_by_subj: this.#subject('delay', queue),
      });
      return Number(msg.header.get(h.runAt)) <= now;
    } catch {
      return false;
    }
  }

  #subject(kind: 'work' | 'delay' | 'dead', queue: string): string {
    return `${this.#prefix}.${kind}.${encodeQueue(queue)}`;
  }

  #now(): number {
    return this.#clock.now();
  }
}

async function ensureStream(
  jsm: JetStreamManager,
  config: Parameters<JetStreamManager['streams']['add']>[0] & { name: string },
): Promise<void> {
  try {
    await jsm.streams.info(config.name);
    await jsm.streams.update(config.name, config);
  } catch (err) {
    if (!String(err).includes('stream not found')) throw err;
    await jsm.streams.add(config);
  }
}

/** Queue names may hold any character; subjects and consumer names may not. */
function encodeQueue(queue: string): string {
  return Buffer.from(queue, 'utf8').toString('base64url');
}

function decodeQueue(token: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  return Buffer.from(token, 'base64url').toString('utf8');
}

function heldKey(ref: LeaseRef): string {
  return `${ref.leaseToken}/${ref.id}`;
}

function copyHeaders(from: MsgHdrs | undefined): MsgHdrs {
  const to = natsHeaders();
  if (from) for (const [k, v] of from) for (const value of v) to.append(k, value);
  return to;
}
