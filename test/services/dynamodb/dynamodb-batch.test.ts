/**
 * BatchGetItem, BatchWriteItem, TransactWriteItems and TransactGetItems through the official
 * @aws-sdk/client-dynamodb and lib-dynamodb, on SQLite and on PostgreSQL: results, limits,
 * cancellation reasons, client-token idempotency (on a hand-driven clock).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  TransactGetCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type AwsPlatform,
  awsPlatformVariants,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { failure } from '../s3/s3-platform.js';

for (const variant of awsPlatformVariants)
  describe(`DynamoDB batches and transactions on ${variant.name}`, () => {
    let p: AwsPlatform;
    let client: DynamoDBClient;
    let doc: DynamoDBDocumentClient;
    let now = Date.now();
    const clock = { now: () => now };
    const clientAt = (offset: number) =>
      new DynamoDBClient({
        ...p.clientConfig(),
        systemClockOffset: offset,
      });

    before(async () => {
      p = await startAwsPlatform(variant, { label: 'dynamodb', clock });
      client = clientAt(0);
      doc = DynamoDBDocumentClient.from(client);
      for (const [name, range] of [
        ['users', undefined],
        ['orders', 'n'],
      ] as const) {
        await client.send(
          new CreateTableCommand({
            TableName: name,
            KeySchema: [
              { AttributeName: 'id', KeyType: 'HASH' },
              ...(range ? [{ AttributeName: range, KeyType: 'RANGE' as const }] : []),
            ],
            AttributeDefinitions: [
              { AttributeName: 'id', AttributeType: 'S' },
              ...(range ? [{ AttributeName: range, AttributeType: 'N' as const }] : []),
            ],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );
      }
    });
    after(async () => {
      client?.destroy();
      await p?.close();
    });

    test('batch write puts and deletes across tables; batch get answers what exists', async () => {
      await doc.send(new PutCommand({ TableName: 'users', Item: { id: 'gone', name: 'x' } }));
      const written = await doc.send(
        new BatchWriteCommand({
          RequestItems: {
            users: [
              { PutRequest: { Item: { id: 'ann', name: 'Ann', age: 30 } } },
              { PutRequest: { Item: { id: 'bob', name: 'Bob', age: 40 } } },
              { DeleteRequest: { Key: { id: 'gone' } } },
            ],
            orders: [1, 2, 3].map((n) => ({
              PutRequest: { Item: { id: 'ann', n, total: n * 10 } },
            })),
          },
        }),
      );
      assert.deepEqual(written.UnprocessedItems, {});
      const got = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            users: {
              Keys: [{ id: 'ann' }, { id: 'bob' }, { id: 'gone' }, { id: 'nobody' }],
              ProjectionExpression: '#n',
              ExpressionAttributeNames: { '#n': 'name' },
            },
            orders: { Keys: [{ id: 'ann', n: 2 }], ConsistentRead: true },
          },
        }),
      );
      assert.deepEqual(got.Responses?.users?.map((u) => u.name).sort(), ['Ann', 'Bob']);
      assert.deepEqual(got.Responses?.orders, [{ id: 'ann', n: 2, total: 20 }]);
      assert.deepEqual(got.UnprocessedKeys, {});
      const legacy = await client.send(
        new BatchGetItemCommand({
          RequestItems: { users: { Keys: [{ id: { S: 'bob' } }], AttributesToGet: ['age'] } },
        }),
      );
      assert.deepEqual(legacy.Responses?.users, [{ age: { N: '40' } }]);
    });

    test('batch limits: 25 writes, 100 keys, duplicates, unknown tables, nothing half-written', async () => {
      const tooMany = await failure(() =>
        doc.send(
          new BatchWriteCommand({
            RequestItems: {
              users: Array.from({ length: 26 }, (_, i) => ({
                PutRequest: { Item: { id: `u${i}` } },
              })),
            },
          }),
        ),
      );
      assert.equal(tooMany.name, 'ValidationException');
      assert.match(tooMany.message, /less than or equal to 25/);
      const acrossTables = await failure(() =>
        doc.send(
          new BatchWriteCommand({
            RequestItems: {
              users: Array.from({ length: 20 }, (_, i) => ({
                PutRequest: { Item: { id: `u${i}` } },
              })),
              orders: Array.from({ length: 6 }, (_, n) => ({
                PutRequest: { Item: { id: 'x', n } },
              })),
            },
          }),
        ),
      );
      assert.equal(acrossTables.message, 'Too many items requested for the BatchWriteItem call');
      const dup = await failure(() =>
        doc.send(
          new BatchWriteCommand({
            RequestItems: {
              users: [
                { PutRequest: { Item: { id: 'dup' } } },
                { DeleteRequest: { Key: { id: 'dup' } } },
              ],
            },
          }),
        ),
      );
      assert.equal(dup.message, 'Provided list of item keys contains duplicates');
      const unknown = await failure(() =>
        doc.send(
          new BatchWriteCommand({
            RequestItems: {
              users: [{ PutRequest: { Item: { id: 'half' } } }],
              nosuchtable: [{ PutRequest: { Item: { id: 'half' } } }],
            },
          }),
        ),
      );
      assert.equal(unknown.name, 'ResourceNotFoundException');
      const half = await doc.send(new GetCommand({ TableName: 'users', Key: { id: 'half' } }));
      assert.equal(half.Item, undefined);
      const keys = await failure(() =>
        doc.send(
          new BatchGetCommand({
            RequestItems: {
              users: { Keys: Array.from({ length: 101 }, (_, i) => ({ id: `k${i}` })) },
            },
          }),
        ),
      );
      assert.equal(keys.message, 'Too many items requested for the BatchGetItem call');
      const dupKeys = await failure(() =>
        doc.send(
          new BatchGetCommand({ RequestItems: { users: { Keys: [{ id: 'a' }, { id: 'a' }] } } }),
        ),
      );
      assert.equal(dupKeys.message, 'Provided list of item keys contains duplicates');
      const empty = await failure(() =>
        client.send(new BatchWriteItemCommand({ RequestItems: {} })),
      );
      assert.equal(empty.name, 'ValidationException');
    });

    test('batch get past 16 MB hands back the rest as UnprocessedKeys', async () => {
      const filler = 'x'.repeat(400 * 1024 - 100);
      const ids = Array.from({ length: 42 }, (_, i) => `big${i}`);
      for (let i = 0; i < ids.length; i += 21) {
        await doc.send(
          new BatchWriteCommand({
            RequestItems: {
              users: ids.slice(i, i + 21).map((id) => ({ PutRequest: { Item: { id, filler } } })),
            },
          }),
        );
      }
      const first = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            users: { Keys: ids.map((id) => ({ id })), ProjectionExpression: 'id, filler' },
          },
        }),
      );
      const answered = first.Responses?.users?.length ?? 0;
      const rest = first.UnprocessedKeys?.users;
      assert.ok(answered >= 40 && answered < 42, `answered ${answered}`);
      assert.equal(rest?.Keys?.length, 42 - answered);
      assert.equal(rest?.ProjectionExpression, 'id, filler');
      const second = await doc.send(new BatchGetCommand({ RequestItems: { users: rest! } }));
      assert.equal(second.Responses?.users?.length, 42 - answered);
      assert.deepEqual(second.UnprocessedKeys, {});
    });

    test('transact write: all or nothing, reasons in order, one op per item, 100 items', async () => {
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: 'users', Item: { id: 't1', balance: 100 } } },
            { Put: { TableName: 'users', Item: { id: 't2', balance: 0 } } },
            { Put: { TableName: 'orders', Item: { id: 't1', n: 1 } } },
          ],
        }),
      );
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: 'users',
                Key: { id: 't1' },
                UpdateExpression: 'SET balance = balance - :a',
                ConditionExpression: 'balance >= :a',
                ExpressionAttributeValues: { ':a': 60 },
              },
            },
            {
              Update: {
                TableName: 'users',
                Key: { id: 't2' },
                UpdateExpression: 'SET balance = balance + :a',
                ExpressionAttributeValues: { ':a': 60 },
              },
            },
            { Delete: { TableName: 'orders', Key: { id: 't1', n: 1 } } },
            {
              ConditionCheck: {
                TableName: 'users',
                Key: { id: 'ann' },
                ConditionExpression: 'attribute_exists(id)',
              },
            },
          ],
        }),
      );
      const t1 = await doc.send(new GetCommand({ TableName: 'users', Key: { id: 't1' } }));
      assert.equal(t1.Item?.balance, 40);
      const canceled = await failure(() =>
        doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: 'users',
                  Key: { id: 't2' },
                  UpdateExpression: 'SET balance = balance + :a',
                  ExpressionAttributeValues: { ':a': 60 },
                },
              },
              {
                Update: {
                  TableName: 'users',
                  Key: { id: 't1' },
                  UpdateExpression: 'SET balance = balance - :a',
                  ConditionExpression: 'balance >= :a',
                  ExpressionAttributeValues: { ':a': 60 },
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
              { Put: { TableName: 'orders', Item: { id: 't1', n: 2 } } },
            ],
          }),
        ),
      );
      assert.ok(canceled instanceof TransactionCanceledException);
      assert.match(canceled.message, /\[None, ConditionalCheckFailed, None\]/);
      const reasons = (canceled as TransactionCanceledException).CancellationReasons;
      assert.deepEqual(
        reasons?.map((r) => r.Code),
        ['None', 'ConditionalCheckFailed', 'None'],
      );
      assert.deepEqual(reasons?.[1]?.Item, { id: { S: 't1' }, balance: { N: '40' } });
      const t2 = await doc.send(new GetCommand({ TableName: 'users', Key: { id: 't2' } }));
      assert.equal(t2.Item?.balance, 60);
      const o2 = await doc.send(new GetCommand({ TableName: 'orders', Key: { id: 't1', n: 2 } }));
      assert.equal(o2.Item, undefined);
      const twice = await failure(() =>
        doc.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: 'users', Item: { id: 'same' } } },
              { Delete: { TableName: 'users', Key: { id: 'same' } } },
            ],
          }),
        ),
      );
      assert.equal(
        twice.message,
        'Transaction request cannot include multiple operations on one item',
      );
      const tooMany = await failure(() =>
        doc.send(
          new TransactWriteCommand({
            TransactItems: Array.from({ length: 101 }, (_, i) => ({
              Put: { TableName: 'users', Item: { id: `m${i}` } },
            })),
          }),
        ),
      );
      assert.equal(tooMany.name, 'ValidationException');
      assert.match(tooMany.message, /less than or equal to 100/);
      const hundred = Array.from({ length: 100 }, (_, i) => ({
        Put: { TableName: 'orders', Item: { id: 'hundred', n: i } },
      }));
      await doc.send(new TransactWriteCommand({ TransactItems: hundred }));
      const unknown = await failure(() =>
        doc.send(
          new TransactWriteCommand({
            TransactItems: [{ Put: { TableName: 'nosuch', Item: { id: 'x' } } }],
          }),
        ),
      );
      assert.equal(unknown.name, 'ResourceNotFoundException');
    });

    test('transact write: a ClientRequestToken applies once for ten minutes', async () => {
      const bump = (token: string, by = 1) =>
        new TransactWriteItemsCommand({
          ClientRequestToken: token,
          TransactItems: [
            {
              Update: {
                TableName: 'users',
                Key: { id: { S: 'counter' } },
                UpdateExpression: 'ADD hits :one',
                ExpressionAttributeValues: { ':one': { N: String(by) } },
              },
            },
          ],
        });
      await client.send(bump('token-1'));
      await client.send(bump('token-1'));
      const hits = async () =>
        (await doc.send(new GetCommand({ TableName: 'users', Key: { id: 'counter' } }))).Item?.hits;
      assert.equal(await hits(), 1);
      const mismatch = await failure(() => client.send(bump('token-1', 5)));
      assert.equal(mismatch.name, 'IdempotentParameterMismatchException');
      assert.equal(await hits(), 1);
      now += 11 * 60 * 1000;
      const later = clientAt(11 * 60 * 1000);
      await later.send(bump('token-1'));
      later.destroy();
      assert.equal(await hits(), 2);
    });

    test('parallel scan: segments partition the table, each paged on its own', async () => {
      const all = await doc.send(
        new ScanCommand({ TableName: 'orders', ProjectionExpression: 'id, n' }),
      );
      const seen: string[] = [];
      for (let segment = 0; segment < 3; segment++) {
        let start: Record<string, unknown> | undefined;
        do {
          const page = await doc.send(
            new ScanCommand({
              TableName: 'orders',
              Segment: segment,
              TotalSegments: 3,
              Limit: 7,
              ProjectionExpression: 'id, n',
              ExclusiveStartKey: start,
            }),
          );
          seen.push(...(page.Items ?? []).map((i) => `${i.id}/${i.n}`));
          start = page.LastEvaluatedKey;
        } while (start);
      }
      assert.equal(seen.length, all.Items?.length);
      assert.deepEqual([...seen].sort(), (all.Items ?? []).map((i) => `${i.id}/${i.n}`).sort());
      const noTotal = await failure(() =>
        doc.send(new ScanCommand({ TableName: 'orders', Segment: 0 })),
      );
      assert.match(noTotal.message, /TotalSegments parameter is required/);
      const past = await failure(() =>
        doc.send(new ScanCommand({ TableName: 'orders', Segment: 3, TotalSegments: 3 })),
      );
      assert.match(past.message, /Segment: 3 is not less than TotalSegments: 3/);
    });

    test('transact get: a snapshot in request order, missing items empty', async () => {
      const got = await doc.send(
        new TransactGetCommand({
          TransactItems: [
            { Get: { TableName: 'users', Key: { id: 't2' }, ProjectionExpression: 'balance' } },
            { Get: { TableName: 'users', Key: { id: 'nobody' } } },
            { Get: { TableName: 'orders', Key: { id: 'hundred', n: 99 } } },
          ],
        }),
      );
      assert.deepEqual(got.Responses, [
        { Item: { balance: 60 } },
        {},
        { Item: { id: 'hundred', n: 99 } },
      ]);
      const wrongKey = await failure(() =>
        doc.send(
          new TransactGetCommand({
            TransactItems: [{ Get: { TableName: 'users', Key: { nope: 'x' } } }],
          }),
        ),
      );
      assert.equal(wrongKey.name, 'ValidationException');
    });
  });
