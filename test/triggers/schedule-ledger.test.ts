import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import {
  claimScheduleSlot,
  KyselyScheduleLedger,
} from '../../src/platform/triggers/schedule/kysely-schedule-ledger.js';
import type { Database } from '../../src/store/schema.js';
import { databaseVariants } from '../helpers/store-variants.js';

for (const variant of databaseVariants)
  describe(`KyselyScheduleLedger on ${variant.name}`, () => {
    let db: Kysely<Database>;
    let cleanup: () => Promise<void>;

    before(async () => {
      const opened = await variant.open();
      db = opened.db;
      cleanup = opened.cleanup;
    });
    after(() => cleanup());
    beforeEach(async () => {
      await sql`delete from schedule_state`.execute(db);
    });

    test('sync starts new schedules at now and keeps known ones', async () => {
      const ledger = new KyselyScheduleLedger(db);
      assert.deepEqual(await ledger.sync([{ id: 'a', spec: 's1' }], 1000), new Map([['a', 1000]]));
      assert.equal(await ledger.claim('a', 5000, 5001, async () => {}), true);
      const again = await ledger.sync(
        [
          { id: 'a', spec: 's1' },
          { id: 'b', spec: 's1' },
        ],
        9000,
      );
      assert.deepEqual(
        again,
        new Map([
          ['a', 5000],
          ['b', 9000],
        ]),
      );
    });

    test('a changed spec resets the baseline: no catch-up across an edit', async () => {
      const ledger = new KyselyScheduleLedger(db);
      await ledger.sync([{ id: 'a', spec: 'rate(5 minutes)' }], 1000);
      await ledger.claim('a', 2000, 2000, async () => {});
      const synced = await ledger.sync([{ id: 'a', spec: 'rate(1 hour)' }], 7000);
      assert.equal(synced.get('a'), 7000);
    });

    test('a slot is claimed once; an earlier slot is refused', async () => {
      const ledger = new KyselyScheduleLedger(db);
      await ledger.sync([{ id: 'a', spec: 's' }], 1000);
      let handedOn = 0;
      const handOn = async () => {
        handedOn++;
      };
      assert.equal(await ledger.claim('a', 2000, 2000, handOn), true);
      assert.equal(await ledger.claim('a', 2000, 2001, handOn), false);
      assert.equal(await ledger.claim('a', 1500, 2002, handOn), false);
      assert.equal(await ledger.claim('a', 3000, 3000, handOn), true);
      assert.equal(handedOn, 2);
      // Racing claimers of one slot: exactly one wins.
      const results = await Promise.all(
        Array.from({ length: 5 }, () => claimScheduleSlot(db, 'a', 4000, 4000)),
      );
      assert.equal(results.filter(Boolean).length, 1);
    });

    test('forget drops rows; a later claim recreates one', async () => {
      const ledger = new KyselyScheduleLedger(db);
      await ledger.sync(
        [
          { id: 'a', spec: 's' },
          { id: 'b', spec: 's' },
        ],
        1000,
      );
      await ledger.forget(['a']);
      const rows = await db.selectFrom('schedule_state').select('schedule_id').execute();
      assert.deepEqual(
        rows.map((r) => r.schedule_id),
        ['b'],
      );
      assert.equal(await ledger.claim('a', 2000, 2000, async () => {}), true);
    });

    test('record-first: a failed hand-on keeps the claim (at most once)', async () => {
      const ledger = new KyselyScheduleLedger(db);
      await ledger.sync([{ id: 'a', spec: 's' }], 1000);
      await assert.rejects(
        ledger.claim('a', 2000, 2000, async () => {
          throw new Error('queue down');
        }),
        /queue down/,
      );
      assert.equal(await ledger.claim('a', 2000, 2100, async () => {}), false);
    });

    test('same-transaction: hand-on writes through the transaction and rolls back with it', async () => {
      const ledger = new KyselyScheduleLedger(db, { mode: 'same-transaction' });
      await ledger.sync([{ id: 'a', spec: 's' }], 1000);
      await assert.rejects(
        ledger.claim('a', 2000, 2000, async (tx) => {
          // A write in the same transaction, standing in for an enqueue.
          await tx
            .insertInto('schedule_state')
            .values({ schedule_id: 'side', spec: '', last_slot: 0, updated_at: 0 })
            .execute();
          throw new Error('enqueue failed');
        }),
        /enqueue failed/,
      );
      const ids = await db.selectFrom('schedule_state').select('schedule_id').execute();
      assert.deepEqual(
        ids.map((r) => r.schedule_id),
        ['a'],
      );
      // The slot was not settled, so it can still be claimed.
      let inside = false;
      assert.equal(
        await ledger.claim('a', 2000, 2100, async (tx) => {
          inside = tx !== db;
        }),
        true,
      );
      assert.equal(inside, true);
    });
  });
