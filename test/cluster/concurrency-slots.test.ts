import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { ConcurrencySlots } from '../../src/platform/cluster/concurrency-slots.js';
import { openPostgresDatabase } from '../../src/store/postgres.js';
import type { Database } from '../../src/store/schema.js';
import { makeTestSchema } from '../helpers/postgres.js';
import { manualClock } from '../queue/manual-clock.js';

/** Reserved concurrency slots on a real PostgreSQL schema, as several nodes would take them. */
describe('cluster-wide reserved concurrency slots', () => {
  let db: Kysely<Database>;
  let other: Kysely<Database>;
  let drop: () => Promise<void>;
  const clock = manualClock(1_000_000);
  before(async () => {
    const pg = await makeTestSchema();
    drop = pg.drop;
    db = await openPostgresDatabase({ url: pg.url, schema: pg.schema });
    other = await openPostgresDatabase({ url: pg.url, schema: pg.schema });
  });
  after(async () => {
    await db.destroy();
    await other.destroy();
    await drop();
  });

  test('N slots across nodes, free again on release', async () => {
    const a = new ConcurrencySlots({ db, clock, nodeName: 'a' });
    const b = new ConcurrencySlots({ db: other, clock, nodeName: 'b' });
    // Eight runs at once from two nodes (two pools): exactly two get a slot.
    const got = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).acquire('fn-a', 2)),
    );
    const held = got.filter((s) => s !== undefined);
    assert.equal(held.length, 2);
    // Another function's slots are its own ('fn-a' is not a prefix match of 'fn-ab').
    assert.ok(await a.acquire('fn-ab', 1));
    await held[0]!.release();
    const next = await b.acquire('fn-a', 2);
    assert.ok(next, 'a released slot is taken again');
    assert.equal(await a.acquire('fn-a', 2), undefined);
    assert.equal(await a.acquire('fn-zero', 0), undefined, 'reserved 0 runs nothing');
  });

  test("a dead node's slot lapses after the TTL", async () => {
    const dead = new ConcurrencySlots({ db, clock, nodeName: 'dead', ttlMs: 15_000 });
    const live = new ConcurrencySlots({ db: other, clock, nodeName: 'live', ttlMs: 15_000 });
    assert.ok(await dead.acquire('fn-b', 1)); // never released: the node was killed
    assert.equal(await live.acquire('fn-b', 1), undefined);
    clock.advance(15_000);
    assert.ok(await live.acquire('fn-b', 1));
  });
});
