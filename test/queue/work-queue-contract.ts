/**
 * The WorkQueue contract: every adapter runs this suite from its own few-line test file. Each
 * test gets a fresh, empty queue from `open` on a manual clock, and releases it with cleanup.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../src/model/clock.js';
import type { WorkQueue } from '../../src/queue/work-queue.js';
import { type ManualClock, manualClock } from './manual-clock.js';

export interface WorkQueueHarness {
  queue: WorkQueue;
  /**
   * Another connection (pool, client) to the same database: concurrent claimers, and a fresh
   * reader for the durability check.
   */
  connect(): Promise<{ queue: WorkQueue; close: () => Promise<void> }>;
  /** Closes the connection behind `queue`; cleanup still runs afterwards. */
  close(): Promise<void>;
  cleanup(): Promise<void>;
}

export type OpenWorkQueue = (clock: Clock) => Promise<WorkQueueHarness>;

export interface WorkQueueContractOptions {
  /**
   * 'manual' (the default): the adapter runs on the Clock `open` gets, a manual clock the test
   * moves, and every time is exact. 'real': the adapter's timers are a server's wall clock (NATS
   * JetStream), so `open` gets the system clock and the test sleeps, compares times within a
   * tolerance, uses one lease length per queue, and where docs/internals/queue.md names a
   * difference for such an adapter, checks the documented behaviour instead.
   */
  time?: 'manual' | 'real';
  /** 'real': the harness's idempotency window (one per stream, not per job). */
  keyWindowMs?: number;
}

/** Wall-clock slack for 'real' adapters: timers fire, and stamps are taken, a little apart. */
const slackMs = 150;

/** The system clock, for adapters whose timers are a server's; nothing moves it by hand. */
function wallClock(): ManualClock {
  return {
    now: () => Date.now(),
    advance() {
      throw new Error('the wall clock cannot be moved: use pass()');
    },
  };
}

export function runWorkQueueContract(
  name: string,
  open: OpenWorkQueue,
  options: WorkQueueContractOptions = {},
): void {
  const real = options.time === 'real';
  // Real time keeps leases short (tests sleep them out); one length per queue (JetStream's
  // ack_wait is the consumer's).
  const lease = { max: 10, leaseMs: real ? 1000 : 30_000 };
  describe(`WorkQueue contract: ${name}`, () => {
    let clock: ManualClock;
    let h: WorkQueueHarness;
    let q: WorkQueue;

    beforeEach(async () => {
      clock = real ? wallClock() : manualClock();
      h = await open(clock);
      q = h.queue;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    const ids = (jobs: { id: string }[]) => jobs.map((j) => j.id);
    /** Lets time pass: moves the manual clock, or sleeps (plus slack) on the wall clock. */
    const pass = async (ms: number) => {
      if (real) await sleep(ms + slackMs);
      else clock.advance(ms);
    };
    /** A time the adapter stamped: exact on the manual clock, within slack on the wall clock. */
    const near = (actual: number | undefined, expected: number, what: string) => {
      if (!real) assert.equal(actual, expected, what);
      else
        assert.ok(
          Math.abs((actual ?? 0) - expected) <= slackMs * 2,
          `${what}: ${actual} vs ${expected}`,
        );
    };

    describe('enqueue, lease, ack', () => {
      it('hands a job out once, with its payload and lease, and removes it on ack', async () => {
        const t0 = clock.now();
        const payload = { event: { n: 1, s: 'é' }, list: [1, null, true] };
        const { id, duplicate } = await q.enqueue({ queue: 'fn-a', payload });
        assert.equal(duplicate, false);
        assert.equal(typeof id, 'string');

        const [job, ...rest] = await q.lease('fn-a', lease);
        assert.equal(rest.length, 0);
        assert.ok(job);
        assert.equal(typeof job.leaseToken, 'string');
        assert.ok(job.leaseToken.length >= 16);
        near(job.enqueuedAt, t0, 'enqueuedAt');
        near(job.runAt, t0, 'runAt');
        near(job.leaseUntil, t0 + lease.leaseMs, 'leaseUntil');
        assert.deepEqual(job, {
          id,
          queue: 'fn-a',
          payload,
          attempts: 1,
          failures: 0,
          enqueuedAt: job.enqueuedAt,
          runAt: job.runAt,
          expired: false,
          leaseToken: job.leaseToken,
          leaseUntil: job.leaseUntil,
        });
        assert.deepEqual(await q.lease('fn-a', lease), [], 'held under a live lease');

        assert.equal(await q.ack(job), true);
        assert.equal(await q.ack(job), false, 'already gone');
        await pass(lease.leaseMs * 2);
        assert.deepEqual(await q.lease('fn-a', lease), []);
        assert.deepEqual(await q.stats('fn-a'), { ready: 0, delayed: 0, leased: 0, dead: 0 });
      });

      it('stores a missing payload as null', async () => {
        await q.enqueue({ queue: 'fn-a', payload: undefined });
        const [job] = await q.lease('fn-a', lease);
        assert.equal(job?.payload, null);
      });

      it(
        real
          ? 'hands out at most max, in enqueue order (not by runAt)'
          : 'hands out at most max, oldest runAt first, ties in enqueue order',
        async () => {
          const now = clock.now();
          const c = await q.enqueue({ queue: 'fn-a', payload: 'c', runAt: now - 10 });
          const a = await q.enqueue({ queue: 'fn-a', payload: 'a', runAt: now - 30 });
          const b1 = await q.enqueue({ queue: 'fn-a', payload: 'b1', runAt: now - 20 });
          const b2 = await q.enqueue({ queue: 'fn-a', payload: 'b2', runAt: now - 20 });
          const first = await q.lease('fn-a', { max: 3, leaseMs: 1000 });
          // A stream hands messages out in stream order: a past runAt does not move a job forward.
          const order = real ? [c, a, b1, b2] : [a, b1, b2, c];
          assert.deepEqual(ids(first), ids(order.slice(0, 3)));
          assert.deepEqual(
            ids(await q.lease('fn-a', { max: 3, leaseMs: 1000 })),
            ids(order.slice(3)),
          );
          assert.equal(new Set(first.map((j) => j.leaseToken)).size, 1, 'one token per lease call');
        },
      );

      it('keeps queues apart', async () => {
        const a = await q.enqueue({ queue: 'fn-a', payload: 1 });
        const b = await q.enqueue({ queue: 'fn-b', payload: 2 });
        assert.deepEqual(ids(await q.lease('fn-b', lease)), [b.id]);
        assert.deepEqual(ids(await q.lease('fn-a', lease)), [a.id]);
      });

      it('refuses bad input with NIMBUS_QUEUE_BAD_INPUT', async () => {
        const code = { code: 'NIMBUS_QUEUE_BAD_INPUT' };
        await assert.rejects(q.enqueue({ queue: '', payload: 1 }), code);
        await assert.rejects(q.enqueue({ queue: 'fn-a', payload: () => 1 }), code);
        await assert.rejects(q.enqueue({ queue: 'fn-a', payload: 1n }), code);
        await assert.rejects(q.enqueue({ queue: 'fn-a', payload: 1, runAt: Number.NaN }), code);
        await assert.rejects(q.enqueue({ queue: 'fn-a', payload: 1, idempotencyKey: '' }), code);
        await assert.rejects(q.lease('fn-a', { max: 0, leaseMs: 1000 }), code);
        await assert.rejects(q.lease('fn-a', { max: 1, leaseMs: 0 }), code);
        await assert.rejects(q.listDead('fn-a', { limit: 0 }), code);
      });

      it('names no job with an id it never handed out', async () => {
        const ref = { id: 'nope', leaseToken: 'x' };
        assert.equal(await q.ack(ref), false);
        assert.equal(await q.retryAt(ref, clock.now()), false);
        assert.equal(await q.deadLetter(ref, 'r'), false);
        assert.equal(await q.extendLease(ref, 1000), false);
        assert.equal(await q.cancel('99999999999999999999'), false);
      });
    });

    describe('delay', () => {
      it('does not hand out a job before its runAt', async () => {
        const delay = real ? 1500 : 5000;
        const { id } = await q.enqueue({ queue: 'fn-a', payload: 1, runAt: clock.now() + delay });
        assert.deepEqual(await q.lease('fn-a', lease), []);
        assert.deepEqual(await q.stats('fn-a'), { ready: 0, delayed: 1, leased: 0, dead: 0 });
        if (real) await sleep(delay - 2 * slackMs);
        else clock.advance(delay - 1);
        assert.deepEqual(await q.lease('fn-a', lease), []);
        await pass(real ? 2 * slackMs : 1);
        assert.deepEqual(ids(await q.lease('fn-a', lease)), [id]);
      });
    });

    describe('leases', () => {
      it('hands a job out again once its lease runs out (crash recovery), attempts + 1', async () => {
        const { id } = await q.enqueue({ queue: 'fn-a', payload: 1 });
        const [first] = await q.lease('fn-a', { max: 1, leaseMs: 1000 });
        assert.ok(first);
        if (real) await sleep(500);
        else clock.advance(999);
        assert.deepEqual(await q.lease('fn-a', lease), []);
        assert.deepEqual(await q.stats('fn-a'), { ready: 0, delayed: 0, leased: 1, dead: 0 });
        await pass(real ? 500 : 1);
        assert.deepEqual(await q.stats('fn-a'), { ready: 1, delayed: 0, leased: 0, dead: 0 });

        const [second] = await q.lease('fn-a', lease);
        assert.ok(second);
        assert.equal(second.id, id);
        assert.equal(second.attempts, 2);
        assert.equal(second.failures, 0);
        assert.notEqual(second.leaseToken, first.leaseToken);
        assert.equal(second.runAt, first.runAt, 'runAt keeps its place in the order');

        // The first holder wakes up late: every settling call is refused, nothing changes.
        assert.equal(await q.ack(first), false);
        assert.equal(await q.retryAt(first, clock.now()), false);
        assert.equal(await q.deadLetter(first, 'late'), false);
        assert.equal(await q.extendLease(first, 60_000), false);
        assert.deepEqual(await q.stats('fn-a'), { ready: 0, delayed: 0, leased: 1, dead: 0 });
        assert.equal(await q.ack(second), true);
      });

      if (!real) {
        it('accepts a late ack while nobody has leased the job again', async () => {
          await q.enqueue({ queue: 'fn-a', payload: 1 });
          const [job] = await q.lease('fn-a', { max: 1, leaseMs: 1000 });
          assert.ok(job);
          clock.advance(5000);
          assert.equal(await q.ack(job), true);
          assert.deepEqual(await q.lease('fn-a', lease), []);
        });
      } else {
        // JetStream settles by stream sequence and does not say whether the message was
        // redelivered meanwhile: the adapter refuses every settle once the lease ran out.
        it('refuses a late ack even while nobody has leased the job again; the job runs again', async () => {
          await q.enqueue({ queue: 'fn-a', payload: 1 });
          const [job] = await q.lease('fn-a', { max: 1, leaseMs: 1000 });
          assert.ok(job);
          await pass(1000);
          assert.equal(await q.ack(job), false);
          const [again] = await q.lease('fn-a', lease);
          assert.equal(again?.id, job.id);
          assert.equal(again?.attempts, 2);
        });
      }

      it('extends a lease on heartbeat', async () => {
        await q.enqueue({ queue: 'fn-a', payload: 1 });
        const [job] = await q.lease('fn-a', { max: 1, leaseMs: 1000 });
        assert.ok(job);
        if (real) await sleep(600);
        else clock.advance(800);
        assert.equal(await q.extendLease(job, 1000), true);
        if (real) await sleep(600);
        else clock.advance(800);
        assert.deepEqual(await q.lease('fn-a', lease), [], 'still held past the first lease');
        await pass(real ? 400 : 200);
        const [again] = await q.lease('fn-a', lease);
        assert.equal(again?.id, job.id);
        assert.equal(await q.extendLease(job, 1000), false, 'the old holder lost it');
      });
    });

    describe('retryAt', () => {
      it('releases the job until runAt and counts a failure by default', async () => {
        await q.enqueue({ queue: 'fn-a', payload: 1 });
        const [job] = await q.lease('fn-a', lease);
        assert.ok(job);
        const due = clock.now() + 500;
        assert.equal(await q.retryAt(job, due), true);
        assert.equal(await q.retryAt(job, clock.now()), false, 'the lease was released');
        assert.deepEqual(await q.stats('fn-a'), { ready: 0, delayed: 1, leased: 0, dead: 0 });
        assert.deepEqual(await q.lease('fn-a', lease), []);
        await pass(500);
        const [retried] = await q.lease('fn-a', lease);
        assert.equal(retried?.attempts, 2);
        assert.equal(retried?.failures, 1);
        assert.equal(retried?.runAt, due);
      });

      it('does not count a failure for a system error (countFailure false)', async () => {
        await q.enqueue({ queue: 'fn-a', payload: 1 });
        let [job] = await q.lease('fn-a', lease);
        assert.ok(job);
        assert.equal(await q.retryAt(job, clock.now(), { countFailure: false }), true);
        [job] = await q.lease('fn-a', lease);
        assert.ok(job);
        assert.equal(job.attempts, 2, 'a delivery is a delivery');
        assert.equal(job.failures, 0);
        assert.equal(await q.retryAt(job, clock.now(), { countFailure: true }), true);
        [job] = await q.lease('fn-a', lease);
        assert.equal(job?.attempts, 3);
        assert.equal(job?.failures, 1);
      });
    });

    describe('dead letters', () => {
      it('moves a job to the dead letters with its reason, and redrives it', async () => {
        const { id } = await q.enqueue({ queue: 'fn-a', payload: { x: 1 }, idempotencyKey: 'k' });
        const [job] = await q.lease('fn-a', lease);
        assert.ok(job);
        assert.equal(await q.retryAt(job, clock.now()), true);
        const [again] = await q.lease('fn-a', lease);
        assert.ok(again);
        const t0 = again.enqueuedAt;
        const retriedAt = again.runAt;
        await pass(10);
        const deadAt = clock.now();
        const reason = { errorType: 'Error', errorMessage: 'boom', attempts: 2 };
        assert.equal(await q.deadLetter(again, reason), true);
        assert.equal(await q.ack(again), false, 'no longer leased');
        assert.deepEqual(await q.lease('fn-a', lease), []);
        assert.deepEqual(await q.stats('fn-a'), { ready: 0, delayed: 0, leased: 0, dead: 1 });

        const listedDead = await q.listDead('fn-a', { limit: 10 });
        near(listedDead[0]?.deadAt, deadAt, 'deadAt');
        assert.deepEqual(listedDead, [
          {
            id,
            queue: 'fn-a',
            payload: { x: 1 },
            attempts: 2,
            failures: 1,
            enqueuedAt: t0,
            runAt: retriedAt,
            idempotencyKey: 'k',
            deadAt: listedDead[0]?.deadAt,
            reason,
          },
        ]);
        near(retriedAt, t0, 'a retry due at once keeps runAt near the enqueue');
        assert.deepEqual(await q.listDead('fn-b', { limit: 10 }), []);
        assert.equal(await q.cancel(id), false, 'a dead letter is not waiting');

        assert.equal(await q.redrive('fn-b'), 0);
        assert.equal(await q.redrive('fn-a'), 1);
        assert.deepEqual(await q.listDead('fn-a', { limit: 10 }), []);
        const [redriven] = await q.lease('fn-a', lease);
        assert.equal(redriven?.id, id);
        assert.equal(redriven?.attempts, 1, 'counters start over');
        assert.equal(redriven?.failures, 0);
      });

      it('lists oldest first up to limit and redrives only the ids given', async () => {
        const made: string[] = [];
        for (let i = 0; i < 3; i++) {
          made.push((await q.enqueue({ queue: 'fn-a', payload: i })).id);
          const [job] = await q.lease('fn-a', lease);
          assert.ok(job);
          await q.deadLetter(job, `r${i}`);
          await pass(1);
        }
        const listed = await q.listDead('fn-a', { limit: 2 });
        assert.deepEqual(ids(listed), made.slice(0, 2));
        assert.deepEqual(
          listed.map((d) => d.reason),
          ['r0', 'r1'],
        );
        assert.equal(await q.redrive('fn-a', [made[2]!, 'garbage', made[0]!]), 2);
        assert.equal(await q.redrive('fn-a', [made[2]!]), 0, 'no longer dead');
        assert.deepEqual(ids(await q.listDead('fn-a', { limit: 10 })), [made[1]]);
        assert.deepEqual((await q.lease('fn-a', lease)).map((j) => j.id).sort(), [
          made[0],
          made[2],
        ]);
      });

      it('redrive clears expiresAt so an expired job can run', async () => {
        await q.enqueue({ queue: 'fn-a', payload: 1, expiresAt: clock.now() + 10 });
        await pass(20);
        const [job] = await q.lease('fn-a', lease);
        assert.equal(job?.expired, true);
        await q.deadLetter(job!, 'expired');
        assert.equal(await q.redrive('fn-a'), 1);
        const [redriven] = await q.lease('fn-a', lease);
        assert.equal(redriven?.expired, false);
        assert.equal(redriven?.expiresAt, undefined);
      });
    });

    describe('idempotency keys', () => {
      it('returns the first job for the same key in the same queue and stores nothing', async () => {
        const first = await q.enqueue({ queue: 'fn-a', payload: 1, idempotencyKey: 'req-1' });
        assert.equal(first.duplicate, false);
        const again = await q.enqueue({ queue: 'fn-a', payload: 2, idempotencyKey: 'req-1' });
        assert.deepEqual(again, { id: first.id, duplicate: true });
        const other = await q.enqueue({ queue: 'fn-b', payload: 3, idempotencyKey: 'req-1' });
        assert.equal(other.duplicate, false, 'keys are per queue');
        assert.notEqual(other.id, first.id);
        assert.deepEqual(await q.stats('fn-a'), { ready: 1, delayed: 0, leased: 0, dead: 0 });

        const [job] = await q.lease('fn-a', lease);
        assert.equal(job?.payload, 1);
        assert.equal(job?.idempotencyKey, 'req-1');
        await q.ack(job!);
        assert.deepEqual(
          await q.enqueue({ queue: 'fn-a', payload: 4, idempotencyKey: 'req-1' }),
          { id: first.id, duplicate: true },
          'still a duplicate after the job is done',
        );
      });

      if (!real) {
        it('takes the key anew once its window ends (expiresAt, else the adapter window)', async () => {
          const withAge = await q.enqueue({
            queue: 'fn-a',
            payload: 1,
            idempotencyKey: 'aged',
            expiresAt: clock.now() + 1000,
          });
          const plain = await q.enqueue({ queue: 'fn-a', payload: 2, idempotencyKey: 'plain' });
          clock.advance(999);
          assert.equal(
            (await q.enqueue({ queue: 'fn-a', payload: 0, idempotencyKey: 'aged' })).duplicate,
            true,
          );
          clock.advance(1);
          const renewed = await q.enqueue({ queue: 'fn-a', payload: 3, idempotencyKey: 'aged' });
          assert.equal(renewed.duplicate, false);
          assert.notEqual(renewed.id, withAge.id);
          assert.deepEqual(await q.enqueue({ queue: 'fn-a', payload: 4, idempotencyKey: 'aged' }), {
            id: renewed.id,
            duplicate: true,
          });
          assert.equal(
            (await q.enqueue({ queue: 'fn-a', payload: 0, idempotencyKey: 'plain' })).id,
            plain.id,
          );

          clock.advance(7 * 60 * 60 * 1000);
          assert.equal(await q.purgeExpiredKeys(), 2, 'both windows ended');
          const plainAgain = await q.enqueue({
            queue: 'fn-a',
            payload: 5,
            idempotencyKey: 'plain',
          });
          assert.equal(plainAgain.duplicate, false);
          assert.notEqual(plainAgain.id, plain.id);
        });
      } else {
        // A stream has one duplicate window for every message id; expiresAt does not end it,
        // and nothing needs purging.
        it('takes the key anew once the stream duplicate window ends', async () => {
          const windowMs = options.keyWindowMs ?? 0;
          assert.ok(windowMs > 0 && windowMs <= 5000, 'the harness sets a short keyWindowMs');
          const first = await q.enqueue({
            queue: 'fn-a',
            payload: 1,
            idempotencyKey: 'aged',
            expiresAt: clock.now() + 10,
          });
          await sleep(50);
          assert.deepEqual(
            await q.enqueue({ queue: 'fn-a', payload: 0, idempotencyKey: 'aged' }),
            { id: first.id, duplicate: true },
            'expiresAt does not end a stream window',
          );
          await sleep(windowMs + 1000);
          assert.equal(await q.purgeExpiredKeys(), 0);
          const renewed = await q.enqueue({ queue: 'fn-a', payload: 3, idempotencyKey: 'aged' });
          assert.equal(renewed.duplicate, false);
          assert.notEqual(renewed.id, first.id);
        });
      }
    });

    describe('cancel', () => {
      it('removes a waiting job, but not a leased one', async () => {
        const delayed = await q.enqueue({ queue: 'fn-a', payload: 1, runAt: clock.now() + 10 });
        assert.equal(await q.cancel(delayed.id), true);
        assert.equal(await q.cancel(delayed.id), false, 'gone');

        const { id } = await q.enqueue({ queue: 'fn-a', payload: 2 });
        const [job] = await q.lease('fn-a', { max: 1, leaseMs: 1000 });
        assert.equal(await q.cancel(id), false, 'running now');
        await q.retryAt(job!, clock.now() + 100);
        if (real) {
          // A retry that counted a failure is a new message: cancel finds a job only at its
          // first message (docs/internals/queue.md).
          assert.equal(await q.cancel(id), false, 'retried: no longer found');
          return;
        }
        assert.equal(await q.cancel(id), true, 'retrying');
        clock.advance(100);
        assert.deepEqual(await q.lease('fn-a', lease), []);
      });

      it('removes a job whose lease ran out, and its late holder can no longer ack it', async () => {
        const { id } = await q.enqueue({ queue: 'fn-a', payload: 1 });
        const [job] = await q.lease('fn-a', { max: 1, leaseMs: 1000 });
        await pass(1000);
        assert.equal(await q.cancel(id), true);
        assert.equal(await q.ack(job!), false);
      });
    });

    describe('expiresAt', () => {
      it('hands out a job past its expiresAt flagged expired, for the failure path', async () => {
        const now = clock.now();
        await q.enqueue({ queue: 'fn-a', payload: 'late', expiresAt: now + 100 });
        await q.enqueue({ queue: 'fn-a', payload: 'fresh', expiresAt: now + 10_000 });
        await q.enqueue({ queue: 'fn-a', payload: 'ageless' });
        await pass(100);
        const jobs = await q.lease('fn-a', lease);
        assert.deepEqual(
          jobs.map((j) => [j.payload, j.expired, j.expiresAt]),
          [
            ['late', true, now + 100],
            ['fresh', false, now + 10_000],
            ['ageless', false, undefined],
          ],
        );
      });

      it('flags a retry that outlived expiresAt', async () => {
        await q.enqueue({ queue: 'fn-a', payload: 1, expiresAt: clock.now() + 300 });
        const [job] = await q.lease('fn-a', lease);
        assert.equal(job?.expired, false);
        await q.retryAt(job!, clock.now() + 600);
        await pass(600);
        const [retried] = await q.lease('fn-a', lease);
        assert.equal(retried?.expired, true);
      });
    });

    describe('stats and queuesReady', () => {
      it('counts ready, delayed, leased and dead per queue and overall', async () => {
        const now = clock.now();
        await q.enqueue({ queue: 'fn-a', payload: 1 });
        await q.enqueue({ queue: 'fn-a', payload: 2 });
        await q.enqueue({ queue: 'fn-a', payload: 3, runAt: now + 1000 });
        await q.enqueue({ queue: 'fn-b', payload: 4 });
        await q.enqueue({ queue: 'fn-b', payload: 5 });
        const [dead] = await q.lease('fn-b', { max: 1, leaseMs: 1000 });
        await q.deadLetter(dead!, 'x');
        await q.lease('fn-a', { max: 1, leaseMs: 1000 });
        assert.deepEqual(await q.stats('fn-a'), { ready: 1, delayed: 1, leased: 1, dead: 0 });
        assert.deepEqual(await q.stats('fn-b'), { ready: 1, delayed: 0, leased: 0, dead: 1 });
        assert.deepEqual(await q.stats('fn-c'), { ready: 0, delayed: 0, leased: 0, dead: 0 });
        assert.deepEqual(await q.stats(), { ready: 2, delayed: 1, leased: 1, dead: 1 });
      });

      it('names the queues lease would hand a job out from now', async () => {
        assert.deepEqual(await q.queuesReady(), []);
        const now = clock.now();
        await q.enqueue({ queue: 'ready', payload: 1 });
        await q.enqueue({ queue: 'delayed', payload: 1, runAt: now + 1000 });
        await q.enqueue({ queue: 'held', payload: 1 });
        await q.enqueue({ queue: 'stuck', payload: 1 });
        await q.enqueue({ queue: 'dead', payload: 1 });
        await q.lease('held', { max: 1, leaseMs: 60_000 });
        await q.lease('stuck', { max: 1, leaseMs: 500 });
        const [d] = await q.lease('dead', lease);
        await q.deadLetter(d!, 'x');
        assert.deepEqual((await q.queuesReady()).sort(), ['ready']);
        await pass(500);
        assert.deepEqual((await q.queuesReady()).sort(), ['ready', 'stuck']);
        await pass(real ? 400 : 500);
        assert.deepEqual((await q.queuesReady()).sort(), ['delayed', 'ready', 'stuck']);
      });
    });

    describe('several connections', () => {
      it('keeps an enqueued job across a close and a new connection', async () => {
        const { id } = await q.enqueue({ queue: 'fn-a', payload: { durable: true } });
        await h.close();
        const other = await h.connect();
        try {
          const [job] = await other.queue.lease('fn-a', lease);
          assert.equal(job?.id, id);
          assert.deepEqual(job?.payload, { durable: true });
        } finally {
          await other.close();
        }
      });

      it('never hands one job to two concurrent claimers', async () => {
        const claimers = 4;
        const total = 300;
        const made = new Set<string>();
        for (let i = 0; i < total; i++)
          made.add((await q.enqueue({ queue: 'fn-a', payload: i })).id);

        const conns = await Promise.all(Array.from({ length: claimers }, () => h.connect()));
        const claimedBy = new Map<string, number>();
        let claimed = 0;
        try {
          await Promise.all(
            conns.map(async (c, n) => {
              // SKIP LOCKED may hand a claimer nothing while others hold rows, so loop on the
              // shared count; the bound keeps a bug from spinning forever.
              for (let round = 0; claimed < total && round < total * 4; round++) {
                const jobs = await c.queue.lease('fn-a', { max: 7, leaseMs: 600_000 });
                for (const j of jobs) {
                  assert.equal(claimedBy.has(j.id), false, `job ${j.id} claimed twice`);
                  claimedBy.set(j.id, n);
                  claimed++;
                }
                // Settling in parallel with the other claimers' leases.
                await Promise.all(jobs.map((j) => c.queue.ack(j)));
              }
            }),
          );
        } finally {
          await Promise.all(conns.map((c) => c.close()));
        }
        assert.equal(claimed, total);
        assert.ok(new Set(claimedBy.values()).size > 1, 'the claimers took turns');
        assert.deepEqual(new Set(claimedBy.keys()), made);
        assert.deepEqual(await q.stats(), { ready: 0, delayed: 0, leased: 0, dead: 0 });
      });
    });
  });
}
