import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { KyselyAccessKeyStore } from '../../src/platform/auth/kysely-access-key-store.js';
import type { DynamoDeps } from '../../src/services/dynamodb/dynamodb-call.js';
import { DynamoStore } from '../../src/services/dynamodb/dynamodb-store.js';
import { activeStreamOf } from '../../src/services/dynamodb/streams.js';
import {
  createTable,
  deleteTable,
  updateTable,
} from '../../src/services/dynamodb/table-operations.js';
import { ExactRowCache } from '../../src/store/exact-row-cache.js';
import type { Database } from '../../src/store/schema.js';
import { foreignCommitCounter, openSqliteDatabase } from '../../src/store/sqlite.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** A load that answers when told to, and counts its calls. */
function gatedLoad(value: string) {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const load = Object.assign(
    async () => {
      load.calls += 1;
      await gate;
      return value;
    },
    { calls: 0 },
  );
  return { load, release };
}

describe('exact row cache', () => {
  test('keeps a value until it is invalidated', async () => {
    const cache = new ExactRowCache<string>(() => 1);
    let calls = 0;
    const load = async () => `v${++calls}`;
    assert.equal(await cache.get('k', load), 'v1');
    assert.equal(await cache.get('k', load), 'v1');
    cache.invalidate('k');
    assert.equal(await cache.get('k', load), 'v2');
    assert.equal(calls, 2);
  });

  test('keeps nothing without a commit counter (PostgreSQL)', async () => {
    const cache = new ExactRowCache<string>(undefined);
    let calls = 0;
    const load = async () => `v${++calls}`;
    await cache.get('k', load);
    await cache.get('k', load);
    assert.equal(calls, 2);
  });

  test("another connection's commit forgets everything", async () => {
    let version = 1;
    const cache = new ExactRowCache<string>(() => version);
    let calls = 0;
    const load = async () => `v${++calls}`;
    await cache.get('a', load);
    version = 2;
    assert.equal(await cache.get('a', load), 'v2');
    assert.equal(calls, 2);
  });

  test('a read that began before an invalidation does not fill the cache', async () => {
    const cache = new ExactRowCache<string>(() => 1);
    const stale = gatedLoad('old');
    const reading = cache.get('k', stale.load);
    cache.invalidate('k');
    stale.release();
    assert.equal(await reading, 'old');
    assert.equal(await cache.get('k', async () => 'new'), 'new');
  });

  test('a read during which another connection committed does not fill the cache', async () => {
    let version = 1;
    const cache = new ExactRowCache<string>(() => version);
    const stale = gatedLoad('old');
    const reading = cache.get('k', stale.load);
    version = 2;
    stale.release();
    await reading;
    assert.equal(await cache.get('k', async () => 'new'), 'new');
  });

  test('a counter that throws (connection closed) keeps nothing', async () => {
    const cache = new ExactRowCache<string>(() => {
      throw new Error('closed');
    });
    let calls = 0;
    const load = async () => `v${++calls}`;
    await cache.get('k', load);
    await cache.get('k', load);
    assert.equal(calls, 2);
  });

  test('bounded: the oldest entry goes first', async () => {
    const cache = new ExactRowCache<string>(() => 1, 2);
    let calls = 0;
    const load = async () => `v${++calls}`;
    await cache.get('a', load);
    await cache.get('b', load);
    await cache.get('c', load);
    assert.equal(calls, 3);
    await cache.get('a', load);
    assert.equal(calls, 4);
  });
});

/** Two handles on one SQLite file: two platform processes sharing a data dir. */
async function twoHandles() {
  const tmp = await makeTempDir();
  const file = join(tmp.dir, 'nimbus.db');
  const a = await openSqliteDatabase({ file, synchronous: 'normal' });
  const b = await openSqliteDatabase({ file, synchronous: 'normal' });
  return {
    a,
    b,
    file,
    cleanup: async () => {
      await a.destroy();
      await b.destroy();
      await tmp.cleanup();
    },
  };
}

describe('exact row caches on SQLite', () => {
  test('SQLite handles count commits of other connections, not their own', async () => {
    const { a, b, cleanup } = await twoHandles();
    try {
      const counter = foreignCommitCounter(a)!;
      const before = counter();
      const keys = new KyselyAccessKeyStore(a, randomBytes(32), { now: () => 0 });
      await keys.create();
      assert.equal(counter(), before);
      await new KyselyAccessKeyStore(b, randomBytes(32), { now: () => 0 }).create();
      assert.notEqual(counter(), before);
    } finally {
      await cleanup();
    }
  });

  test('data_version is read once per task: a later task, or a write by another handle of this process, reads it again', async () => {
    const { a, b, file, cleanup } = await twoHandles();
    // Another process's connection: its commits move no counter of this one.
    const elsewhere = new BetterSqlite3(file);
    const nextTask = () => new Promise((resolve) => setImmediate(resolve));
    try {
      const counter = foreignCommitCounter(a)!;
      elsewhere.exec('CREATE TABLE probe (x)');
      await nextTask();
      const before = counter();
      elsewhere.exec('INSERT INTO probe VALUES (1)');
      // Anything this task serves was sent before that commit returned.
      assert.equal(counter(), before);
      await Promise.resolve();
      assert.equal(counter(), before);
      await nextTask();
      const seen = counter();
      assert.notEqual(seen, before);

      // A second handle of this process commits within the task: seen at once.
      await new KyselyAccessKeyStore(b, randomBytes(32), { now: () => 0 }).create();
      const afterB = counter();
      assert.notEqual(afterB, seen);

      // The handle's own write keeps the reading (its commits never move its data_version):
      // another process's commit in the same task stays unseen until the next task.
      await nextTask();
      const kept = counter();
      elsewhere.exec('INSERT INTO probe VALUES (2)');
      await new KyselyAccessKeyStore(a, randomBytes(32), { now: () => 0 }).create();
      assert.equal(counter(), kept);
      await nextTask();
      assert.notEqual(counter(), kept);
    } finally {
      elsewhere.close();
      await cleanup();
    }
  });

  test('a deleted access key is refused at once: same handle, another instance, another process', async () => {
    const { a, b, cleanup } = await twoHandles();
    try {
      const masterKey = randomBytes(32);
      const clock = { now: () => 0 };
      const verifier = new KyselyAccessKeyStore(a, masterKey, clock);
      const control = new KyselyAccessKeyStore(a, masterKey, clock);
      const elsewhere = new KyselyAccessKeyStore(b, masterKey, clock);

      const first = await control.create();
      assert.equal(await verifier.findSecret(first.id), first.secret);
      assert.equal(await verifier.findSecret(first.id), first.secret);
      assert.equal(await control.delete(first.id), true);
      assert.equal(await verifier.findSecret(first.id), undefined);

      const second = await control.create();
      assert.equal(await verifier.findSecret(second.id), second.secret);
      assert.equal(await elsewhere.delete(second.id), true);
      assert.equal(await verifier.findSecret(second.id), undefined);

      // An id looked up before it existed is found once it is created, here or elsewhere.
      const third = await elsewhere.create();
      assert.equal(await verifier.findSecret(third.id), third.secret);
    } finally {
      await cleanup();
    }
  });

  test('a DynamoDB table dropped or changed is seen at once, also when another process did it', async () => {
    const { a, b, cleanup } = await twoHandles();
    try {
      const deps = (db: Kysely<Database>): DynamoDeps => ({
        store: new DynamoStore(db, 'sqlite'),
        clock: { now: () => Date.now() },
        region: 'us-east-1',
        accountId: '000000000000',
      });
      const here = deps(a);
      const there = deps(b);
      const table = {
        TableName: 'cached',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      };
      assert.equal(await here.store.findSchema('cached'), undefined);
      await createTable(here, table);
      assert.equal((await here.store.findSchema('cached'))?.name, 'cached');
      assert.equal(
        (await here.store.findSchema('cached'))?.description.StreamSpecification,
        undefined,
      );

      await updateTable(there, {
        TableName: 'cached',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' },
      });
      assert.ok(activeStreamOf((await here.store.findSchema('cached'))!));

      await deleteTable(there, { TableName: 'cached' });
      assert.equal(await here.store.findSchema('cached'), undefined);

      await createTable(here, table);
      assert.equal((await here.store.findSchema('cached'))?.name, 'cached');
      await deleteTable(here, { TableName: 'cached' });
      assert.equal(await here.store.findSchema('cached'), undefined);
    } finally {
      await cleanup();
    }
  });
});
