/**
 * Group commit's units that need not wait for the disk (`durable: false`), on SQLite with the
 * WAL sync off the event loop: answered once committed, before the sync the durable units of
 * the same batch wait for; a batch of only such units makes no sync at all.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Kysely } from 'kysely';
import { GroupCommitter } from '../../src/store/group-commit.js';
import type { Database } from '../../src/store/schema.js';
import { openSqliteDatabase, walSyncStats } from '../../src/store/sqlite.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let db: Kysely<Database>;
let cleanup: () => Promise<void>;
before(async () => {
  const tmp = await makeTempDir();
  db = await openSqliteDatabase({ file: join(tmp.dir, 'nimbus.db') });
  cleanup = async () => {
    await db.destroy();
    await tmp.cleanup();
  };
});
after(() => cleanup());

const queues = () =>
  (db as unknown as Kysely<{ sqs_queues: { name: string } }>).selectFrom('sqs_queues');

function insertQueue(committer: GroupCommitter, name: string, durable: boolean) {
  return committer.run(
    async (tx) => {
      await (tx as unknown as Kysely<{ sqs_queues: Record<string, unknown> }>)
        .insertInto('sqs_queues')
        .values({ name, attributes: '{}', created_at: 1, modified_at: 1 })
        .execute();
      return name;
    },
    { isolated: true, durable },
  );
}

test('a batch of units that need not be durable commits without a WAL sync', async () => {
  const committer = new GroupCommitter(db);
  const before = walSyncStats(db)!.syncs;
  const names = await Promise.all(['a', 'b', 'c'].map((n) => insertQueue(committer, n, false)));
  assert.deepEqual(names, ['a', 'b', 'c']);
  assert.equal(walSyncStats(db)!.syncs, before);
  // Committed: the rows are there for any reader.
  const rows = await queues().select('name').where('name', 'in', names).execute();
  assert.equal(rows.length, 3);
});

test('in a mixed batch, the durable unit is answered after the sync, the other one before it', async () => {
  const committer = new GroupCommitter(db);
  const before = walSyncStats(db)!.syncs;
  const answered: string[] = [];
  await Promise.all([
    insertQueue(committer, 'durable', true).then((n) => answered.push(n)),
    insertQueue(committer, 'lease', false).then((n) => answered.push(n)),
  ]);
  assert.deepEqual(answered, ['lease', 'durable']);
  assert.ok(walSyncStats(db)!.syncs > before, 'the durable unit waited for a sync');
  assert.deepEqual(committer.stats, { commits: 1, units: 2 });
});

test('a failing unit that need not be durable fails alone; the batch commits', async () => {
  const committer = new GroupCommitter(db);
  const results = await Promise.allSettled([
    insertQueue(committer, 'x1', false),
    insertQueue(committer, 'x1', false),
    insertQueue(committer, 'x2', true),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  const rows = await queues().select('name').where('name', 'in', ['x1', 'x2']).execute();
  assert.equal(rows.length, 2);
});
