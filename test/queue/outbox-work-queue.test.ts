import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import type { NatsConnection } from 'nats';
import { systemClock } from '../../src/model/clock.js';
import { NatsWorkQueue } from '../../src/queue/nats-work-queue.js';
import { OutboxRelay } from '../../src/queue/outbox-relay.js';
import { OutboxWorkQueue } from '../../src/queue/outbox-work-queue.js';
import { openPostgresDatabase } from '../../src/store/postgres.js';
import type { Database } from '../../src/store/schema.js';
import { connectTestNats, uniqueNatsPrefix } from '../helpers/nats.js';
import { makeTestSchema } from '../helpers/postgres.js';

const leaseMs = 5_000;

/**
 * The outbox in front of NATS JetStream (docs/internals/queue.md, "The outbox"), on a real
 * PostgreSQL schema and real JetStream streams of its own.
 */
describe('the outbox work queue (PostgreSQL + NATS JetStream)', () => {
  let db: Kysely<Database>;
  let nc: NatsConnection;
  let nats: NatsWorkQueue;
  let relay: OutboxRelay;
  let queue: OutboxWorkQueue;
  let dropSchema: () => Promise<void>;
  const reports: string[] = [];

  before(async () => {
    const pg = await makeTestSchema();
    dropSchema = pg.drop;
    db = await openPostgresDatabase({ url: pg.url, schema: pg.schema });
    nc = await connectTestNats();
    nats = await NatsWorkQueue.open(nc, { clock: systemClock, prefix: uniqueNatsPrefix() });
    relay = new OutboxRelay({ db, flavor: 'postgres', nats });
    queue = new OutboxWorkQueue({
      db,
      flavor: 'postgres',
      clock: systemClock,
      nats,
      relay,
      onAfterCommit: (what) => reports.push(what),
    });
  });
  after(async () => {
    await relay.stop();
    await nats.destroy();
    await nc.close();
    await db.destroy();
    await dropSchema();
  });

  const outboxRows = async () =>
    Number(
      (
        await db
          .selectFrom('work_outbox')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  test('a job commits with its transaction, reaches JetStream, and leaves the outbox', async () => {
    const { id } = await queue.transaction((tx) =>
      queue.within(tx).enqueue({ queue: 'q1', payload: { n: 1 } }),
    );
    assert.equal(await outboxRows(), 0, 'published and deleted before the transaction resolved');
    const jobs = await queue.lease('q1', { max: 10, leaseMs });
    assert.deepEqual(
      jobs.map((j) => [j.id, j.payload]),
      [[id, { n: 1 }]],
    );
    assert.equal(await queue.ack(jobs[0]!), true);
  });

  test('a transaction that fails stores no job', async () => {
    await assert.rejects(
      queue.transaction(async (tx) => {
        await queue.within(tx).enqueue({ queue: 'q2', payload: 1 });
        throw new Error('the caller failed');
      }),
      /the caller failed/,
    );
    await relay.pass();
    assert.equal(await outboxRows(), 0);
    assert.deepEqual(await queue.lease('q2', { max: 10, leaseMs }), []);
  });

  test('an idempotency key answers the first job, in the same or a later transaction', async () => {
    const first = await queue.enqueue({ queue: 'q3', payload: 'a', idempotencyKey: 'k' });
    const again = await queue.enqueue({ queue: 'q3', payload: 'b', idempotencyKey: 'k' });
    assert.deepEqual(again, { id: first.id, duplicate: true });
    const jobs = await queue.lease('q3', { max: 10, leaseMs });
    assert.deepEqual(
      jobs.map((j) => j.payload),
      ['a'],
    );
    await queue.ack(jobs[0]!);
  });

  test('a relay that dies between publish and delete does not run a job twice', async () => {
    // A row another transaction committed (a schedule's claim: no relay kicked).
    const { id } = await db
      .transaction()
      .execute((tx) => queue.within(tx).enqueue({ queue: 'q4', payload: 'once' }));
    const row = await db
      .selectFrom('work_outbox')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    // The dead relay published it (and the job even ran and was acked), but kept the row.
    const published = await nats.publishJob({
      id,
      queue: 'q4',
      payload: 'once',
      enqueuedAt: Number(row.enqueued_at),
    });
    assert.equal(published.duplicate, false);
    const ran = await queue.lease('q4', { max: 10, leaseMs });
    assert.equal(ran.length, 1);
    await queue.ack(ran[0]!);
    // Another node's relay finds the row and publishes it again: JetStream drops the copy.
    const other = new OutboxRelay({ db, flavor: 'postgres', nats });
    await other.pass();
    assert.equal(await outboxRows(), 0);
    assert.deepEqual(await queue.lease('q4', { max: 10, leaseMs }), []);
    assert.deepEqual(await queue.stats('q4'), { ready: 0, delayed: 0, leased: 0, dead: 0 });
  });

  test('settles inside a transaction reach JetStream only when it commits', async () => {
    await queue.enqueue({ queue: 'q5', payload: 'x' });
    const [job] = await queue.lease('q5', { max: 1, leaseMs: 1_000 });
    assert.ok(job);
    await assert.rejects(
      queue.transaction(async (tx) => {
        assert.equal(await queue.within(tx).ack(job), true);
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    // Not acked: once the lease runs out the job is delivered again.
    let again: typeof job | undefined;
    for (let i = 0; i < 50 && !again; i++) {
      await new Promise((r) => setTimeout(r, 100));
      [again] = await queue.lease('q5', { max: 1, leaseMs });
    }
    assert.ok(again, 'delivered again after the rolled-back ack');
    assert.equal(again.attempts, 2);
    assert.equal(await queue.transaction((tx) => queue.within(tx).ack(again!)), true);
    assert.deepEqual(await queue.stats('q5'), { ready: 0, delayed: 0, leased: 0, dead: 0 });
    // A settle of a lease this process no longer holds is refused in the transaction.
    assert.equal(await queue.transaction((tx) => queue.within(tx).ack(job)), false);
  });

  test('cancel removes a job still in the outbox, and nothing else', async () => {
    const { id } = await db
      .transaction()
      .execute((tx) => queue.within(tx).enqueue({ queue: 'q6', payload: 1 }));
    assert.equal(await queue.cancel(id), true);
    assert.equal(await queue.cancel(id), false);
    const sent = await queue.enqueue({ queue: 'q6', payload: 2 });
    assert.equal(await queue.cancel(sent.id), false, 'in JetStream already');
    const [job] = await queue.lease('q6', { max: 10, leaseMs });
    assert.equal(job?.payload, 2);
    await queue.ack(job!);
  });

  test('bad input is refused with the queue error', async () => {
    await assert.rejects(
      queue.transaction((tx) => queue.within(tx).enqueue({ queue: '', payload: 1 })),
      { code: 'NIMBUS_QUEUE_BAD_INPUT' },
    );
    await assert.rejects(
      queue.transaction((tx) =>
        queue.within(tx).enqueue({ queue: 'q7', payload: 1, idempotencyKey: '' }),
      ),
      { code: 'NIMBUS_QUEUE_BAD_INPUT' },
    );
    await assert.rejects(
      queue.transaction((tx) => queue.within(tx).enqueue({ queue: 'q7', payload: 1n })),
      { code: 'NIMBUS_QUEUE_BAD_INPUT' },
    );
  });
});
