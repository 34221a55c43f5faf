import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { LogEvent } from '../../src/model/invocation.js';
import { KyselyLogStore } from '../../src/platform/observe/log-store/kysely-log-store.js';
import { databaseVariants } from '../helpers/store-variants.js';

function line(functionName: string, timestamp: number, message: string, requestId?: string) {
  const event: LogEvent = {
    functionName,
    version: '1',
    logStream: '2024/01/02/[1]abc',
    timestamp,
    message,
  };
  if (requestId) event.requestId = requestId;
  return event;
}

for (const variant of databaseVariants)
  describe(`KyselyLogStore on ${variant.name}`, () => {
    let store: KyselyLogStore;
    let cleanup: () => Promise<void>;
    let truncate: () => Promise<void>;

    before(async () => {
      const opened = await variant.open();
      store = new KyselyLogStore(opened.db);
      cleanup = opened.cleanup;
      truncate = async () => {
        await sql`delete from log_events`.execute(opened.db);
      };
    });
    after(() => cleanup());
    beforeEach(() => truncate());

    test('append returns increasing ids; a read is one function, oldest id first', async () => {
      const ids = await store.append([
        line('a', 1000, 'START', 'r1'),
        line('b', 1001, 'other function'),
        line('a', 1002, 'hello', 'r1'),
      ]);
      assert.equal(ids.length, 3);
      assert.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!);
      const events = await store.query({ functionName: 'a', limit: 10 });
      assert.deepEqual(events, [
        { id: ids[0], ...line('a', 1000, 'START', 'r1') },
        { id: ids[2], ...line('a', 1002, 'hello', 'r1') },
      ]);
      const [b] = await store.query({ functionName: 'b', limit: 10 });
      assert.equal(b!.requestId, undefined, 'no request id reads back as absent, not null');
    });

    test('time range is inclusive at both ends', async () => {
      await store.append([1000, 2000, 3000, 4000].map((t) => line('a', t, `at ${t}`)));
      const events = await store.query({
        functionName: 'a',
        startTime: 2000,
        endTime: 3000,
        limit: 10,
      });
      assert.deepEqual(
        events.map((e) => e.timestamp),
        [2000, 3000],
      );
    });

    test('filter is a literal, case-sensitive substring', async () => {
      await store.append([
        line('a', 1, 'ERROR boom'),
        line('a', 2, 'error lower case'),
        line('a', 3, '100% done'),
        line('a', 4, '1000 done'),
        line('a', 5, 'a_b'),
        line('a', 6, 'axb'),
      ]);
      const messages = async (filter: string) =>
        (await store.query({ functionName: 'a', filter, limit: 10 })).map((e) => e.message);
      assert.deepEqual(await messages('ERROR'), ['ERROR boom']);
      assert.deepEqual(await messages('0%'), ['100% done'], '% is not a wildcard');
      assert.deepEqual(await messages('a_b'), ['a_b'], '_ is not a wildcard');
      assert.equal((await messages('')).length, 6, 'an empty filter matches everything');
    });

    test('limit and the after / before cursors page through in id order', async () => {
      const ids = await store.append(Array.from({ length: 7 }, (_, i) => line('a', i, `n${i}`)));
      const first = await store.query({ functionName: 'a', limit: 3 });
      assert.deepEqual(
        first.map((e) => e.message),
        ['n0', 'n1', 'n2'],
      );
      const second = await store.query({ functionName: 'a', after: first.at(-1)!.id, limit: 3 });
      assert.deepEqual(
        second.map((e) => e.message),
        ['n3', 'n4', 'n5'],
      );
      const bounded = await store.query({
        functionName: 'a',
        after: ids[1],
        before: ids[4],
        limit: 10,
      });
      assert.deepEqual(
        bounded.map((e) => e.message),
        ['n2', 'n3'],
      );
    });

    test('retention deletes by age, and ids are never handed out again', async () => {
      const ids = await store.append([line('a', 100, 'old'), line('b', 150, 'old too')]);
      await store.append([line('a', 200, 'kept')]);
      assert.equal(await store.deleteOlderThan(200), 2);
      assert.deepEqual(
        (await store.query({ functionName: 'a', limit: 10 })).map((e) => e.message),
        ['kept'],
      );
      await store.deleteOlderThan(1000);
      const [next] = await store.append([line('a', 300, 'after a purge')]);
      assert.ok(next! > ids[1]!, 'a cursor held across pruning still points forward');
    });

    test("retention by function: only one function's lines, or every function's but some", async () => {
      await store.append([
        line('a', 100, 'a old'),
        line('b', 100, 'b old'),
        line('c', 100, 'c old'),
      ]);
      assert.equal(await store.deleteOlderThan(200, { functionName: 'a' }), 1);
      assert.equal(await store.deleteOlderThan(200, { except: ['b'] }), 1);
      const left = async (fn: string) =>
        (await store.query({ functionName: fn, limit: 10 })).map((e) => e.message);
      assert.deepEqual([await left('a'), await left('b'), await left('c')], [[], ['b old'], []]);
    });

    test('a batch larger than one statement lands whole, in order', async () => {
      const many = Array.from({ length: 1203 }, (_, i) => line('a', i, `m${i}`));
      const ids = await store.append(many);
      assert.equal(ids.length, 1203);
      assert.deepEqual(
        ids,
        [...ids].sort((x, y) => x - y),
      );
      const events = await store.query({ functionName: 'a', after: ids[1199], limit: 10 });
      assert.deepEqual(
        events.map((e) => e.message),
        ['m1200', 'm1201', 'm1202'],
      );
    });
  });
