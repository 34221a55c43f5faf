import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { ClusterLease } from '../../src/platform/cluster/cluster-lease.js';
import { ScheduleLeaseKeeper } from '../../src/platform/cluster/schedule-lease-keeper.js';
import { KyselyScheduleLedger } from '../../src/platform/triggers/schedule/kysely-schedule-ledger.js';
import { ScheduleRunner } from '../../src/platform/triggers/schedule/scheduler.js';
import { openPostgresDatabase } from '../../src/store/postgres.js';
import type { Database } from '../../src/store/schema.js';
import { makeTestSchema } from '../helpers/postgres.js';
import { FakeClock, FakeTimer } from '../triggers/fakes.js';

const quiet = { error: () => {}, info: () => {} };

describe('the schedule lease across nodes (PostgreSQL)', () => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  before(async () => {
    const pg = await makeTestSchema();
    db = await openPostgresDatabase({ url: pg.url, schema: pg.schema });
    drop = pg.drop;
  });
  after(async () => {
    await db.destroy();
    await drop();
  });

  test('one holder at a time; a lapsed lease is taken over; release frees it at once', async () => {
    const clock = new FakeClock('2026-01-01T00:00:00Z');
    const lease = (holder: string) =>
      new ClusterLease({ db, name: 'l1', holder, ttlMs: 10_000, clock });
    const [a, b] = [lease('a'), lease('b')];
    assert.equal(await a.hold(), true);
    assert.equal(await b.hold(), false);
    clock.set(clock.now() + 9_999);
    assert.equal(await a.hold(), true, 'renewed');
    clock.set(clock.now() + 9_999);
    assert.equal(await b.hold(), false, 'the renewal moved the expiry');
    clock.set(clock.now() + 1);
    assert.equal(await b.hold(), true, 'a lapsed lease goes to the next asker');
    assert.equal(await a.hold(), false, 'and the old holder has lost it');
    assert.equal(await a.holder(), 'b');
    await b.release();
    assert.equal(await a.hold(), true, 'released: taken at once');
  });

  test('three nodes: each slot fires once; the holder dies and another fires the next slot', async () => {
    const clock = new FakeClock('2026-01-01T00:00:30Z');
    const fired: { node: string; slot: string }[] = [];
    const nodes = ['n1', 'n2', 'n3'].map((name) => {
      const timer = new FakeTimer(clock);
      const lease = new ClusterLease({ db, name: 'schedules', holder: name, ttlMs: 10_000, clock });
      let runner: ScheduleRunner<unknown> | undefined;
      const keeper = new ScheduleLeaseKeeper({
        lease,
        tick: () => runner!.tick(),
        renewEveryMs: 3_000,
        logger: quiet,
        timer,
      });
      runner = new ScheduleRunner({
        ledger: new KyselyScheduleLedger(db),
        clock,
        timer,
        lease: keeper,
        fire: async (_s, at) => {
          fired.push({ node: name, slot: at.toISOString() });
        },
      });
      return { name, runner, keeper };
    });
    const schedule = {
      id: 'every-minute',
      functionName: 'fn',
      expression: 'rate(1 minute)',
      event: { kind: 'schedule' as const, rate: ['rate(1 minute)'], enabled: true },
    };
    for (const n of nodes) await n.runner.setSchedules([schedule]);
    const tickAll = async (alive: typeof nodes) => {
      for (const n of alive) await n.keeper.renew();
      for (const n of alive) await n.runner.tick();
    };

    for (let minute = 1; minute <= 3; minute++) {
      clock.set(Date.parse('2026-01-01T00:00:00Z') + minute * 60_000 + 500);
      await tickAll(nodes);
    }
    assert.equal(fired.length, 3, JSON.stringify(fired));
    assert.equal(new Set(fired.map((f) => f.slot)).size, 3, 'each slot once');
    const holder = fired[0]!.node;
    assert.ok(
      fired.every((f) => f.node === holder),
      'only the lease holder fired',
    );

    // The holder dies (kill -9: no release). Within the lease's TTL nobody fires; after it,
    // one of the others takes over and the next slot fires once.
    const alive = nodes.filter((n) => n.name !== holder);
    clock.set(Date.parse('2026-01-01T00:04:00Z') + 500);
    // Its last renewal, just before it dies with the 00:04 slot due and not yet fired.
    await nodes.find((n) => n.name === holder)!.keeper.renew();
    await tickAll(alive);
    assert.equal(fired.length, 3, 'the dead holder still has the lease');
    clock.set(clock.now() + 10_000);
    await tickAll(alive);
    assert.equal(fired.length, 4, JSON.stringify(fired));
    assert.notEqual(fired[3]!.node, holder);
    assert.equal(fired[3]!.slot, '2026-01-01T00:04:00.000Z');
    for (const n of nodes) await n.runner.stop();
  });
});
