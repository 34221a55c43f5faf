/**
 * The pre-expression parameters old code still sends (Expected + ConditionalOperator,
 * AttributeUpdates, KeyConditions, QueryFilter, ScanFilter, AttributesToGet) through the official
 * @aws-sdk/client-dynamodb, on SQLite and PostgreSQL, and the refusal to mix them with expressions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type AwsPlatform,
  awsPlatformVariants,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { failure } from '../s3/s3-platform.js';

for (const variant of awsPlatformVariants)
  describe(`DynamoDB legacy parameters on ${variant.name}`, () => {
    let p: AwsPlatform;
    let client: DynamoDBClient;
    const key = (n: number) => ({ user: { S: 'u' }, n: { N: String(n) } });

    before(async () => {
      p = await startAwsPlatform(variant, { label: 'dynamodb' });
      client = new DynamoDBClient(p.clientConfig());
      await client.send(
        new CreateTableCommand({
          TableName: 'legacy',
          KeySchema: [
            { AttributeName: 'user', KeyType: 'HASH' },
            { AttributeName: 'n', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: 'user', AttributeType: 'S' },
            { AttributeName: 'n', AttributeType: 'N' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      for (const n of [1, 2, 3, 4, 5]) {
        await client.send(
          new PutItemCommand({
            TableName: 'legacy',
            Item: { ...key(n), color: { S: n % 2 ? 'red' : 'blue' }, tags: { SS: [`t${n}`] } },
            Expected: { user: { Exists: false } },
          }),
        );
      }
    });
    after(async () => {
      client?.destroy();
      await p?.close();
    });

    test('Expected with Exists, Value, ComparisonOperator and ConditionalOperator', async () => {
      const exists = await failure(() =>
        client.send(
          new PutItemCommand({
            TableName: 'legacy',
            Item: key(1),
            Expected: { user: { Exists: false } },
          }),
        ),
      );
      assert.equal(exists.name, 'ConditionalCheckFailedException');
      await client.send(
        new DeleteItemCommand({
          TableName: 'legacy',
          Key: key(5),
          Expected: {
            color: { Value: { S: 'blue' } },
            n: { ComparisonOperator: 'GE', AttributeValueList: [{ N: '5' }] },
          },
          ConditionalOperator: 'OR',
        }),
      );
      const gone = await client.send(new GetItemCommand({ TableName: 'legacy', Key: key(5) }));
      assert.equal(gone.Item, undefined);
      const both = await failure(() =>
        client.send(
          new DeleteItemCommand({
            TableName: 'legacy',
            Key: key(4),
            Expected: {
              color: { ComparisonOperator: 'BEGINS_WITH', AttributeValueList: [{ S: 'r' }] },
            },
          }),
        ),
      );
      assert.equal(both.name, 'ConditionalCheckFailedException');
    });

    test('AttributeUpdates PUT, ADD, DELETE; AttributesToGet', async () => {
      const updated = await client.send(
        new UpdateItemCommand({
          TableName: 'legacy',
          Key: key(1),
          AttributeUpdates: {
            color: { Action: 'PUT', Value: { S: 'green' } },
            count: { Action: 'ADD', Value: { N: '3' } },
            tags: { Action: 'DELETE', Value: { SS: ['t1'] } },
          },
          Expected: { color: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'red' }] } },
          ReturnValues: 'ALL_NEW',
        }),
      );
      assert.deepEqual(updated.Attributes, { ...key(1), color: { S: 'green' }, count: { N: '3' } });
      await client.send(
        new UpdateItemCommand({
          TableName: 'legacy',
          Key: key(1),
          AttributeUpdates: { count: { Action: 'DELETE' } },
        }),
      );
      const got = await client.send(
        new GetItemCommand({
          TableName: 'legacy',
          Key: key(1),
          AttributesToGet: ['color', 'count'],
        }),
      );
      assert.deepEqual(got.Item, { color: { S: 'green' } });
    });

    test('KeyConditions, QueryFilter, ScanFilter', async () => {
      const q = await client.send(
        new QueryCommand({
          TableName: 'legacy',
          KeyConditions: {
            user: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'u' }] },
            n: { ComparisonOperator: 'BETWEEN', AttributeValueList: [{ N: '2' }, { N: '4' }] },
          },
          QueryFilter: { color: { ComparisonOperator: 'NE', AttributeValueList: [{ S: 'red' }] } },
          AttributesToGet: ['n'],
          ScanIndexForward: false,
        }),
      );
      assert.deepEqual(q.Items, [{ n: { N: '4' } }, { n: { N: '2' } }]);
      assert.equal(q.ScannedCount, 3);
      const s = await client.send(
        new ScanCommand({
          TableName: 'legacy',
          ScanFilter: {
            color: {
              ComparisonOperator: 'IN',
              AttributeValueList: [{ S: 'green' }, { S: 'blue' }],
            },
            tags: { ComparisonOperator: 'CONTAINS', AttributeValueList: [{ S: 't2' }] },
          },
          ConditionalOperator: 'AND',
        }),
      );
      assert.deepEqual(
        s.Items?.map((i) => i.n?.N),
        ['2'],
      );
    });

    test('mixing legacy and expression parameters is refused', async () => {
      const mixed = await failure(() =>
        client.send(
          new GetItemCommand({
            TableName: 'legacy',
            Key: key(1),
            AttributesToGet: ['color'],
            ProjectionExpression: 'n',
          }),
        ),
      );
      assert.equal(mixed.name, 'ValidationException');
      assert.match(mixed.message, /Can not use both expression and non-expression parameters/);
      const badOp = await failure(() =>
        client.send(
          new ScanCommand({
            TableName: 'legacy',
            ScanFilter: { n: { ComparisonOperator: 'BETWEEN', AttributeValueList: [{ N: '1' }] } },
          }),
        ),
      );
      assert.match(
        badOp.message,
        /Invalid number of argument\(s\) for the BETWEEN ComparisonOperator/,
      );
    });
  });
