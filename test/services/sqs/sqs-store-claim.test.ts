/**
 * The SQS store's batch claim on both dialects: concurrent receivers (as pollers on several
 * nodes) never share a message, receive counts and visibility hold, FIFO groups stay in order
 * and one in flight blocks its group, over-received messages move to the dead-letter queue.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ClaimRules, SqsStore } from '../../../src/services/sqs/sqs-store.js';
import { databaseVariants } from '../../helpers/store-variants.js';

for (const variant of databaseVariants) {
  describe(`SqsStore claims (${variant.name})`, () => {
    let store: SqsStore;
    let cleanup: () => Promise<void>;
    const now = 1_750_000_000_000;
    const rules = (over: Partial<ClaimRules> = {}): ClaimRules => ({
      now,
      max: 10,
      visibilityMs: 30_000,
      retentionMs: 86_400_000,
      fifo: false,
      ...over,
    });
    const queue = async (name: string) =>
      store.createQueue({ name, attributes: {}, createdAt: now, modifiedAt: now });
    const send = (q: string, body: string, groupId?: string) =>
      store.send(
        q,
        {
          body,
          messageAttributes: {},
          md5Body: 'x',
          delayMs: 0,
          ...(groupId ? { groupId, dedupId: body } : {}),
        },
        now - 1,
      );

    before(async () => {
      const opened = await variant.open();
      store = new SqsStore(opened.db, variant.name === 'postgres' ? 'postgres' : 'sqlite');
      cleanup = opened.cleanup;
    });
    after(() => cleanup());

    test('concurrent receivers share no message; each gets a batch with counts and leases', async () => {
      await queue('std');
      for (let i = 0; i < 200; i++) await send('std', `m${i}`);
      const seen = new Set<string>();
      for (;;) {
        const batches = await Promise.all([1, 2, 3, 4].map(() => store.claim('std', rules())));
        const all = batches.flat();
        if (all.length === 0) break;
        for (const m of all) {
          assert.equal(seen.has(m.id), false, `${m.body} handed out twice`);
          seen.add(m.id);
          assert.equal(m.receiveCount, 1);
          assert.equal(m.visibleAt, now + 30_000);
          assert.equal(m.firstReceivedAt, now);
          assert.ok(m.receipt);
        }
      }
      assert.equal(seen.size, 200);
      assert.deepEqual(await store.counts('std', now), { visible: 0, inFlight: 200, delayed: 0 });
      // After the lease: received again, count 2, first receive kept; an old receipt deletes nothing.
      const again = await store.claim('std', rules({ now: now + 30_000, max: 3 }));
      assert.deepEqual(
        again.map((m) => [m.receiveCount, m.firstReceivedAt]),
        [
          [2, now],
          [2, now],
          [2, now],
        ],
      );
      await store.deleteLeased('std', [again[0]!.receipt!]);
      assert.equal((await store.counts('std', now + 30_000)).visible, 197);
    });

    test('standard queue: a batch sent together keeps its order; leases delete by their own receipts only', async () => {
      await queue('batch');
      await queue('other');
      const message = (body: string, delayMs = 0) => ({
        body,
        messageAttributes: {},
        md5Body: 'x',
        delayMs,
      });
      await store.sendMany('batch', [message('late', 1_000)], now - 1);
      const sent = await store.sendMany(
        'batch',
        ['b0', 'b1', 'b2'].map((b) => message(b)),
        now - 1,
      );
      assert.equal(new Set(sent.map((s) => s.id)).size, 3);
      // Oldest visible first: the delayed message, sent before, becomes visible after the batch.
      const first = await store.claim('batch', rules({ now: now + 1_000, max: 3 }));
      assert.deepEqual(
        first.map((m) => [m.id, m.body]),
        sent.map((s, i) => [s.id, `b${i}`]),
      );
      await store.send('other', message('elsewhere'), now - 1);
      const [elsewhere] = await store.claim('other', rules());
      // Another queue's receipt, a stale receipt and a malformed one delete nothing.
      await store.deleteLeased('batch', [elsewhere!.receipt!, 'not-a-receipt']);
      const again = await store.claim('batch', rules({ now: now + 31_000, max: 1 }));
      assert.equal(again[0]!.body, 'late');
      const stale = await store.claim('batch', rules({ now: now + 61_000, max: 10 }));
      await store.deleteLeased('batch', [...first.map((m) => m.receipt!), again[0]!.receipt!]);
      assert.deepEqual(await store.counts('batch', now + 61_000), {
        visible: 0,
        inFlight: stale.length,
        delayed: 0,
      });
      await store.deleteLeased(
        'batch',
        stale.map((m) => m.receipt!),
      );
      assert.deepEqual(await store.counts('batch', now + 61_000), {
        visible: 0,
        inFlight: 0,
        delayed: 0,
      });
      assert.equal((await store.counts('other', now)).inFlight, 1);
    });

    test('FIFO: order within a group, a group in flight is blocked, also for a concurrent receiver', async () => {
      await queue('ord.fifo');
      for (let i = 0; i < 6; i++) await send('ord.fifo', `a${i}`, 'a');
      for (let i = 0; i < 3; i++) await send('ord.fifo', `b${i}`, 'b');
      const fifo = rules({ fifo: true, max: 4 });
      const [one, two] = await Promise.all([
        store.claim('ord.fifo', fifo),
        store.claim('ord.fifo', fifo),
      ]);
      // Whoever came first took the head of group a; the other found a in flight and took b.
      const bodies = [one!, two!].map((batch) => batch.map((m) => m.body)).sort();
      assert.deepEqual(bodies, [
        ['a0', 'a1', 'a2', 'a3'],
        ['b0', 'b1', 'b2'],
      ]);
      assert.deepEqual(await store.claim('ord.fifo', fifo), []);
      await store.deleteLeased(
        'ord.fifo',
        [...one!, ...two!].map((m) => m.receipt!),
      );
      assert.deepEqual(
        (await store.claim('ord.fifo', rules({ fifo: true }))).map((m) => m.body),
        ['a4', 'a5'],
      );
    });

    test('over-received messages move to the dead-letter queue instead of being handed out', async () => {
      await queue('work');
      await queue('work-dlq');
      await send('work', 'poison');
      await send('work', 'fine');
      const redrive = { maxReceiveCount: 2, deadLetterQueue: 'work-dlq' };
      const at = (n: number) => rules({ now: now + n * 30_000, redrive });
      assert.equal((await store.claim('work', at(0))).length, 2);
      const second = await store.claim('work', at(1));
      await store.deleteLeased(
        'work',
        second.filter((m) => m.body === 'fine').map((m) => m.receipt!),
      );
      assert.deepEqual(await store.claim('work', at(2)), []);
      const dead = await store.claim('work-dlq', rules({ now: now + 60_000 }));
      assert.deepEqual(
        dead.map((m) => [m.body, m.receiveCount]),
        [['poison', 3]],
      );
    });
  });
}
