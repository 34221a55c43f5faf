/**
 * On SQLite, GetItem and Query pages are read synchronously on the store's connection
 * (src/store/sqlite.ts directReader) unless a transaction is open on it: a group commit's batch
 * stays open across turns of the event loop, and a read then must not see its uncommitted
 * writes, but wait its turn behind it as every read did before.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import type { Item } from '../../../src/services/dynamodb/attribute-value.js';
import { DynamoStore } from '../../../src/services/dynamodb/dynamodb-store.js';
import { getItem, putItem } from '../../../src/services/dynamodb/item-operations.js';
import {
  encodeKeyValue,
  schemaOf,
  type TableDescriptionStored,
} from '../../../src/services/dynamodb/table-schema.js';
import type { Database } from '../../../src/store/schema.js';
import { directReader, openSqliteDatabase } from '../../../src/store/sqlite.js';

const description: TableDescriptionStored = {
  TableName: 'direct',
  KeySchema: [
    { AttributeName: 'p', KeyType: 'HASH' },
    { AttributeName: 's', KeyType: 'RANGE' },
  ],
  AttributeDefinitions: [
    { AttributeName: 'p', AttributeType: 'S' },
    { AttributeName: 's', AttributeType: 'N' },
  ],
  BillingMode: 'PAY_PER_REQUEST',
  TableArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/direct',
  TableId: 'direct',
  CreationDateTime: 0,
};
const schema = schemaOf(description);
const itemOf = (s: number): Item => ({ p: { S: 'a' }, s: { N: String(s) }, v: { S: `v${s}` } });
const keyOf = (s: number) => ({
  pk: encodeKeyValue({ S: 'a' }),
  sk: encodeKeyValue({ N: `${s}` }),
});
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('DynamoDB reads on SQLite beside an open write transaction', () => {
  let dir: string;
  let db: Kysely<Database>;
  let store: DynamoStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nimbus-ddb-direct-'));
    db = await openSqliteDatabase({ file: join(dir, 'nimbus.db') });
    store = new DynamoStore(db, 'sqlite');
    assert.ok(await store.createTable(description, 0));
    await store.write([], (w) => w.put(schema, keyOf(1), itemOf(1)));
  });
  after(async () => {
    await db?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  test('the direct reader answers reads at once, refuses writes', () => {
    const read = directReader(db)!;
    assert.deepEqual(read('select ? as x', [7]), [{ x: 7 }]);
    assert.throws(() => read("delete from dynamodb_items where table_name = 'none'", []));
    assert.equal(directReader({}), undefined);
  });

  test('a read during an uncommitted write waits for the commit and sees it', async () => {
    let inside!: () => void;
    const entered = new Promise<void>((r) => {
      inside = r;
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const writing = store.write([], async (w) => {
      await w.put(schema, keyOf(2), itemOf(2));
      await w.put(schema, keyOf(1), { ...itemOf(1), v: { S: 'changed' } });
      inside();
      await gate;
    });
    await entered;
    assert.equal(directReader(db)!('select 1 as x', []), undefined, 'a transaction is open');
    const settled = { get: false, query: false };
    const get = store.getItemText('direct', keyOf(2)).finally(() => {
      settled.get = true;
    });
    const page = store.query('direct', keyOf(1).pk, {}, true, undefined, 10).finally(() => {
      settled.query = true;
    });
    await turns(5);
    assert.deepEqual(settled, { get: false, query: false }, 'neither read saw the open write');
    release();
    await writing;
    assert.deepEqual(JSON.parse((await get)!), itemOf(2));
    assert.deepEqual(
      (await page).map((r) => r.item.v),
      [{ S: 'changed' }, { S: 'v2' }],
    );
  });

  test('with no transaction open, reads are answered from the committed state', async () => {
    assert.deepEqual(await store.getItem('direct', keyOf(2)), itemOf(2));
    assert.equal(await store.getItemText('direct', keyOf(3)), undefined);
    const rows = await store.query('direct', keyOf(1).pk, {}, false, undefined, 1);
    assert.deepEqual(
      rows.map((r) => JSON.parse(r.text)),
      [itemOf(2)],
    );
    assert.deepEqual(await store.findSchema('direct'), schema);
  });

  test('blind puts share a commit without savepoints; a failed condition beside them fails alone', async () => {
    const deps = { store, clock: { now: () => 0 }, region: 'us-east-1', accountId: '0' };
    const put = (s: number) => putItem(deps, { TableName: 'direct', Item: itemOf(s) });
    const outcomes = await Promise.allSettled([
      ...[10, 11, 12].map(put),
      putItem(deps, {
        TableName: 'direct',
        Item: itemOf(1),
        ConditionExpression: 'attribute_not_exists(p)',
      }),
      ...[13, 14, 15].map(put),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'],
    );
    for (const s of [10, 11, 12, 13, 14, 15]) {
      const got = await getItem(deps, {
        TableName: 'direct',
        Key: { p: { S: 'a' }, s: { N: `${s}` } },
      });
      assert.deepEqual(JSON.parse((got as { text: string }).text), { Item: itemOf(s) });
    }
  });
});
