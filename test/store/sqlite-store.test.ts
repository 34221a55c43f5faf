import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openSqliteDatabase, openSqliteStore, walSyncStats } from '../../src/store/sqlite.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { runStoreContract } from './store-contract.js';

runStoreContract('sqlite', async () => {
  const tmp = await makeTempDir('nimbus-store-');
  const store = await openSqliteStore({ file: join(tmp.dir, 'state', 'nimbus.db') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await tmp.cleanup();
    },
  };
});

test('--sqlite-synchronous: full by default, normal when asked; statements are reused', async () => {
  const tmp = await makeTempDir('nimbus-store-sync-');
  try {
    // full: SQLite itself runs with NORMAL (1) and every write waits for our own WAL sync, off
    // the event loop; normal: no sync at all.
    for (const [synchronous, syncsWrites] of [
      [undefined, true],
      ['full', true],
      ['normal', false],
    ] as const) {
      const db = await openSqliteDatabase({
        file: join(tmp.dir, `${synchronous ?? 'default'}.db`),
        ...(synchronous ? { synchronous } : {}),
      });
      try {
        const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(db);
        assert.equal(rows[0]?.synchronous, 1, String(synchronous));
        await sql`create table schema_probe (n integer)`.execute(db);
        const before = walSyncStats(db);
        assert.equal(before !== undefined, syncsWrites, String(synchronous));
        await sql`select 1`.execute(db);
        assert.deepEqual(walSyncStats(db), before, 'a read syncs nothing');
        await sql`insert into schema_probe (n) values (1)`.execute(db);
        if (syncsWrites) {
          // The insert resolved only after a sync had answered it.
          assert.equal(walSyncStats(db)?.callers, (before?.callers ?? 0) + 1);
        }
        // The same statement text twice, and a streamed select with a query inside its loop.
        for (let i = 0; i < 2; i++) {
          const r = await sql<{ n: number }>`select ${i} as n`.execute(db);
          assert.equal(r.rows[0]?.n, i);
        }
        const seen: number[] = [];
        for await (const row of db
          .selectFrom('access_keys')
          .select(sql<number>`1`.as('n'))
          .stream()) {
          seen.push(row.n);
        }
        assert.deepEqual(seen, []);
      } finally {
        await db.destroy();
      }
    }
  } finally {
    await tmp.cleanup();
  }
});
