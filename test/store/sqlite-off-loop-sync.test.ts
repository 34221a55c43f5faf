/**
 * Group commits on SQLite with synchronous=FULL sync the WAL off the event loop: the batch
 * commits at synchronous=NORMAL, callers are answered only after the sync, a failed sync fails
 * them, and every other statement still runs at FULL.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { GroupCommitter, syncCommitsOffLoop } from '../../src/store/group-commit.js';
import type { Database } from '../../src/store/schema.js';
import { openSqliteDatabase } from '../../src/store/sqlite.js';
import { makeTempDir } from '../helpers/temp-dir.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const level = async (db: Kysely<Database>) =>
  Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(db)).rows[0]?.synchronous);

describe('SQLite group commits sync the WAL off the event loop', () => {
  let db: Kysely<Database>;
  let cleanup: () => Promise<void>;
  before(async () => {
    const tmp = await makeTempDir();
    db = await openSqliteDatabase({ file: join(tmp.dir, 'nimbus.db') });
    await sql`create table t (id integer primary key, v text)`.execute(db);
    cleanup = async () => {
      await db.destroy();
      await tmp.cleanup();
    };
  });
  after(() => cleanup());

  test('the real sync: commits land, the connection stays at FULL', async () => {
    const committer = new GroupCommitter(db);
    await Promise.all(
      [1, 2, 3].map((id) =>
        committer.run((tx) => sql`insert into t (id, v) values (${id}, 'a')`.execute(tx)),
      ),
    );
    assert.equal((await sql`select * from t`.execute(db)).rows.length, 3);
    assert.equal(await level(db), 2);
  });

  test('callers are answered after the sync, which runs after the commit at NORMAL', async () => {
    const seen: string[] = [];
    const gate = deferred();
    const syncing = deferred();
    syncCommitsOffLoop(db, async () => {
      const rows = (await sql`select v from t where id = 10`.execute(db)).rows;
      seen.push(`sync after commit, row there: ${rows.length}`);
      syncing.resolve();
      await gate.promise;
    });
    const committer = new GroupCommitter(db);
    let answered = false;
    const done = committer
      .run(async (tx) => {
        seen.push(`level in the batch: ${await level(tx)}`);
        await sql`insert into t (id, v) values (10, 'b')`.execute(tx);
      })
      .then(() => {
        answered = true;
      });
    await syncing.promise;
    assert.equal(answered, false, 'answered before its commit was synced');
    // Statements outside the batch run at FULL while the sync is in flight.
    assert.equal(await level(db), 2);
    gate.resolve();
    await done;
    assert.deepEqual(seen, ['level in the batch: 1', 'sync after commit, row there: 1']);
  });

  test('a failed sync fails every caller of the batch', async () => {
    syncCommitsOffLoop(db, async () => {
      throw new Error('EIO');
    });
    const committer = new GroupCommitter(db);
    const results = await Promise.allSettled(
      [20, 21].map((id) =>
        committer.run((tx) => sql`insert into t (id, v) values (${id}, 'c')`.execute(tx)),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.status === 'rejected' && (r.reason as Error).message),
      ['EIO', 'EIO'],
    );
  });
});
