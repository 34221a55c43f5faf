import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import type { ScheduleEvent } from '../../src/model/service-definition.js';
import { KyselyScheduleLedger } from '../../src/platform/triggers/schedule/kysely-schedule-ledger.js';
import type { Schedule } from '../../src/platform/triggers/schedule/schedule.js';
import type { ScheduleLedger } from '../../src/platform/triggers/schedule/schedule-ledger.js';
import { ScheduleRunner } from '../../src/platform/triggers/schedule/scheduler.js';
import type { Database } from '../../src/store/schema.js';
import { databaseVariants } from '../helpers/store-variants.js';
import { FakeClock, FakeTimer } from './fakes.js';

function schedule(id: string, expression: string, extra: Partial<ScheduleEvent> = {}): Schedule {
  return {
    id,
    functionName: `fn-${id}`,
    expression,
    event: { kind: 'schedule', rate: [expression], enabled: true, ...extra },
  };
}

const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');

for (const variant of databaseVariants)
  describe(`ScheduleRunner on ${variant.name}`, () => {
    let db: Kysely<Database>;
    let cleanup: () => Promise<void>;
    let clock: FakeClock;
    let timer: FakeTimer;
    let fired: string[];
    let errors: unknown[];
    const runners: ScheduleRunner<unknown>[] = [];

    function runner(ledger: ScheduleLedger<unknown> = new KyselyScheduleLedger(db)) {
      const r = new ScheduleRunner<unknown>({
        ledger,
        clock,
        timer,
        fire: async (s, at) => {
          fired.push(`${s.id}@${iso(at)}`);
        },
        onError: (err) => errors.push(err),
        retryDelayMs: 5_000,
      });
      runners.push(r);
      return r;
    }

    before(async () => {
      const opened = await variant.open();
      db = opened.db;
      cleanup = opened.cleanup;
    });
    after(() => cleanup());
    beforeEach(async () => {
      await Promise.all(runners.splice(0).map((r) => r.stop()));
      await sql`delete from schedule_state`.execute(db);
      clock = new FakeClock('2026-03-10T10:02:30Z');
      timer = new FakeTimer(clock);
      fired = [];
      errors = [];
    });

    test('fires each slot on time from the timer, and sleeps at most a minute', async () => {
      const r = runner();
      await r.setSchedules([schedule('every5', 'rate(5 minutes)')]);
      assert.deepEqual(fired, []);
      assert.equal(timer.armedDelay(), 60_000);
      await timer.advanceTo('2026-03-10T10:15:00Z', () => r.idle());
      assert.deepEqual(fired, [
        'every5@2026-03-10T10:05:00Z',
        'every5@2026-03-10T10:10:00Z',
        'every5@2026-03-10T10:15:00Z',
      ]);
      assert.equal(timer.armedDelay(), 60_000);
      await timer.advanceTo('2026-03-10T10:19:59Z', () => r.idle());
      assert.equal(fired.length, 3);
      assert.equal(timer.armedDelay(), 1_000);
      assert.deepEqual(r.list()[0]?.nextFire, new Date('2026-03-10T10:20:00Z'));
    });

    test('a cron schedule fires at its slot only', async () => {
      const r = runner();
      await r.setSchedules([schedule('noon', 'cron(0 12 * * ? *)')]);
      await timer.advanceTo('2026-03-11T12:30:00Z', () => r.idle());
      assert.deepEqual(fired, ['noon@2026-03-10T12:00:00Z', 'noon@2026-03-11T12:00:00Z']);
    });

    test('a new schedule does not fire slots from before it was first seen', async () => {
      clock.set('2026-03-10T10:05:00Z');
      const r = runner();
      await r.setSchedules([schedule('every5', 'rate(5 minutes)')]);
      assert.deepEqual(fired, []);
      assert.deepEqual(r.list()[0]?.nextFire, new Date('2026-03-10T10:10:00Z'));
    });

    test('no double fire after a restart on the same store', async () => {
      const first = runner();
      await first.setSchedules([schedule('every5', 'rate(5 minutes)')]);
      await timer.advanceTo('2026-03-10T10:05:00Z', () => first.idle());
      assert.deepEqual(fired, ['every5@2026-03-10T10:05:00Z']);
      await first.stop();

      // The restarted platform comes back within the same slot.
      clock.set('2026-03-10T10:05:40Z');
      const second = runner();
      await second.setSchedules([schedule('every5', 'rate(5 minutes)')]);
      await second.tick();
      assert.deepEqual(fired, ['every5@2026-03-10T10:05:00Z']);
      await timer.advanceTo('2026-03-10T10:10:00Z', () => second.idle());
      assert.deepEqual(fired, ['every5@2026-03-10T10:05:00Z', 'every5@2026-03-10T10:10:00Z']);
    });

    test('two runners on one store (cluster nodes) fire a slot once between them', async () => {
      const a = runner();
      const b = runner();
      await a.setSchedules([schedule('every5', 'rate(5 minutes)')]);
      await b.setSchedules([schedule('every5', 'rate(5 minutes)')]);
      clock.set('2026-03-10T10:05:01Z');
      await Promise.all([a.tick(), b.tick()]);
      assert.deepEqual(fired, ['every5@2026-03-10T10:05:00Z']);
    });

    test('after downtime, the most recent missed slot fires once', async () => {
      const first = runner();
      await first.setSchedules([schedule('every5', 'rate(5 minutes)')]);
      await first.stop();

      clock.set('2026-03-10T11:03:00Z');
      const second = runner();
      await second.setSchedules([schedule('every5', 'rate(5 minutes)')]);
      assert.deepEqual(fired, ['every5@2026-03-10T11:00:00Z']);
      await second.tick();
      assert.equal(fired.length, 1);
      assert.deepEqual(second.list()[0]?.nextFire, new Date('2026-03-10T11:05:00Z'));
    });

    test('a late timer fires the latest slot once, not a burst', async () => {
      const r = runner();
      await r.setSchedules([schedule('every1', 'rate(1 minute)')]);
      clock.set('2026-03-10T10:09:10Z');
      await r.tick();
      assert.deepEqual(fired, ['every1@2026-03-10T10:09:00Z']);
    });

    test('a disabled schedule never fires, and re-enabling it catches nothing up', async () => {
      const r = runner();
      await r.setSchedules([schedule('off', 'rate(1 minute)', { enabled: false })]);
      assert.equal(timer.armedDelay(), undefined);
      assert.equal(r.list()[0]?.nextFire, undefined);
      clock.set('2026-03-10T12:00:30Z');
      await r.tick();
      assert.deepEqual(fired, []);

      await r.setSchedules([schedule('off', 'rate(1 minute)')]);
      assert.deepEqual(fired, []);
      await timer.advanceTo('2026-03-10T12:01:00Z', () => r.idle());
      assert.deepEqual(fired, ['off@2026-03-10T12:01:00Z']);
    });

    test('a redeploy replaces the set: removed schedules stop, changed ones restart', async () => {
      const r = runner();
      await r.setSchedules([schedule('a', 'rate(5 minutes)'), schedule('b', 'rate(5 minutes)')]);
      await timer.advanceTo('2026-03-10T10:05:00Z', () => r.idle());
      assert.deepEqual(fired.sort(), ['a@2026-03-10T10:05:00Z', 'b@2026-03-10T10:05:00Z']);

      fired = [];
      clock.set('2026-03-10T10:07:00Z');
      await r.setSchedules([schedule('b', 'rate(1 hour)')]);
      await timer.advanceTo('2026-03-10T11:00:00Z', () => r.idle());
      assert.deepEqual(fired, ['b@2026-03-10T11:00:00Z']);
      const rows = await db.selectFrom('schedule_state').select('schedule_id').execute();
      assert.deepEqual(
        rows.map((row) => row.schedule_id),
        ['b'],
      );
    });

    test('groups are replaced separately; an id clash or a bad expression is reported and skipped', async () => {
      const r = runner();
      await r.setSchedules([schedule('a', 'rate(5 minutes)')], 'svc1/dev');
      await r.setSchedules(
        [schedule('a', 'rate(1 minute)'), schedule('bad', 'cron(0 12 * * * *)')],
        'svc2/dev',
      );
      assert.equal(errors.length, 2);
      assert.match(String(errors[0]), /schedule id a is already taken/);
      assert.match(String(errors[1]), /cannot both be set/);
      await r.setSchedules([schedule('c', 'rate(5 minutes)')], 'svc2/dev');
      assert.deepEqual(
        r
          .list()
          .map((s) => s.schedule.id)
          .sort(),
        ['a', 'c'],
      );
      await timer.advanceTo('2026-03-10T10:05:00Z', () => r.idle());
      assert.deepEqual(fired.sort(), ['a@2026-03-10T10:05:00Z', 'c@2026-03-10T10:05:00Z']);
    });

    test('a failed claim is retried after the retry delay and fires once', async () => {
      const real = new KyselyScheduleLedger(db);
      let failures = 1;
      const flaky: ScheduleLedger<unknown> = {
        sync: (entries, now) => real.sync(entries, now),
        forget: (ids) => real.forget(ids),
        claim: (id, slot, now, handOn) => {
          if (failures-- > 0) return Promise.reject(new Error('database unavailable'));
          return real.claim(id, slot, now, handOn);
        },
      };
      const r = runner(flaky);
      await r.setSchedules([schedule('every5', 'rate(5 minutes)')]);
      await timer.advanceTo('2026-03-10T10:05:00Z', () => r.idle());
      assert.deepEqual(fired, []);
      assert.match(String(errors[0]), /database unavailable/);
      assert.equal(timer.armedDelay(), 5_000);
      await timer.advanceTo('2026-03-10T10:05:05Z', () => r.idle());
      assert.deepEqual(fired, ['every5@2026-03-10T10:05:00Z']);
    });

    test('same-transaction mode retries a failed hand-on; record-first does not', async () => {
      let attempts = 0;
      const make = (mode: 'record-first' | 'same-transaction') =>
        new ScheduleRunner({
          ledger: new KyselyScheduleLedger(db, { mode }),
          clock,
          timer,
          retryDelayMs: 5_000,
          onError: (err) => errors.push(err),
          fire: async (s, at) => {
            if (attempts++ === 0) throw new Error('enqueue failed');
            fired.push(`${s.id}@${iso(at)}`);
          },
        });
      const atomic = make('same-transaction');
      runners.push(atomic);
      await atomic.setSchedules([schedule('t', 'rate(5 minutes)')]);
      await timer.advanceTo('2026-03-10T10:05:05Z', () => atomic.idle());
      assert.deepEqual(fired, ['t@2026-03-10T10:05:00Z']);
      await atomic.stop();

      attempts = 0;
      fired = [];
      const plain = make('record-first');
      runners.push(plain);
      await plain.setSchedules([schedule('p', 'rate(5 minutes)')]);
      await timer.advanceTo('2026-03-10T10:10:05Z', () => plain.idle());
      assert.deepEqual(fired, []);
      assert.equal(errors.length, 2);
    });

    test('nothing fires after stop', async () => {
      const r = runner();
      await r.setSchedules([schedule('every5', 'rate(5 minutes)')]);
      await r.stop();
      assert.equal(timer.armedDelay(), undefined);
      clock.set('2026-03-10T10:06:00Z');
      await r.tick();
      assert.deepEqual(fired, []);
    });
  });
