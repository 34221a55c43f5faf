/**
 * The legacy aws-sdk v2 DocumentClient, bundled by a function as older services do: with no
 * endpoint in code it reaches Nimbus's DynamoDB (the Node bootstrap points v2 at the platform,
 * docs/runtimes.md) and every call it makes is answered as DynamoDB answers it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  type AwsPlatform,
  awsPlatformVariants,
  deployService,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';
import { sdkSkip } from '../../helpers/function-reach.js';
import { repoRoot } from '../../helpers/repo-root.js';

const handler = `
const AWS = require('aws-sdk');
const doc = new AWS.DynamoDB.DocumentClient();
const TableName = 'v2-todos';
exports.crud = async () => {
  await doc.put({ TableName, Item: { user: 'ann', n: 1, title: 'a', tags: doc.createSet(['x']) } }).promise();
  await doc.put({ TableName, Item: { user: 'ann', n: 2, title: 'b' } }).promise();
  await doc.batchWrite({ RequestItems: { [TableName]: [{ PutRequest: { Item: { user: 'bob', n: 1, title: 'c' } } }] } }).promise();
  const got = await doc.get({ TableName, Key: { user: 'ann', n: 1 } }).promise();
  const updated = await doc.update({
    TableName,
    Key: { user: 'ann', n: 1 },
    UpdateExpression: 'SET #t = :t, #c = if_not_exists(#c, :zero) + :one ADD tags :more',
    ExpressionAttributeNames: { '#t': 'title', '#c': 'count' },
    ExpressionAttributeValues: { ':t': 'a2', ':zero': 0, ':one': 1, ':more': doc.createSet(['y']) },
    ReturnValues: 'ALL_NEW',
  }).promise();
  let conditional = 'none';
  try {
    await doc.put({ TableName, Item: { user: 'ann', n: 1 }, ConditionExpression: 'attribute_not_exists(#u)', ExpressionAttributeNames: { '#u': 'user' } }).promise();
  } catch (error) {
    conditional = error.code;
  }
  const queried = await doc.query({
    TableName,
    KeyConditionExpression: '#u = :u AND n > :from',
    ExpressionAttributeNames: { '#u': 'user' },
    ExpressionAttributeValues: { ':u': 'ann', ':from': 0 },
    ScanIndexForward: false,
  }).promise();
  const scanned = await doc.scan({ TableName, Select: 'COUNT' }).promise();
  const batch = await doc.batchGet({ RequestItems: { [TableName]: { Keys: [{ user: 'bob', n: 1 }] } } }).promise();
  await doc.transactWrite({ TransactItems: [{ Delete: { TableName, Key: { user: 'bob', n: 1 } } }] }).promise();
  await doc.delete({ TableName, Key: { user: 'ann', n: 2 } }).promise();
  const left = await doc.scan({ TableName }).promise();
  return {
    got: got.Item,
    updated: { ...updated.Attributes, tags: updated.Attributes.tags.values.sort() },
    conditional,
    queried: queried.Items.map((i) => i.n),
    count: scanned.Count,
    batch: batch.Responses[TableName],
    left: left.Items.map((i) => [i.user, i.n]),
    endpoint: doc.service.endpoint.href,
  };
};
`;

for (const variant of awsPlatformVariants)
  describe(`aws-sdk v2 DocumentClient in a function, on ${variant.name}`, { skip: sdkSkip }, () => {
    let aws: AwsPlatform;
    let lambda: LambdaClient;

    before(async () => {
      aws = await startAwsPlatform(variant, { runFunctions: true, label: 'ddb-v2-fn' });
      const config = {
        endpoint: aws.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
      };
      lambda = new LambdaClient(config);
      const ddb = new DynamoDBClient(config);
      await ddb.send(
        new CreateTableCommand({
          TableName: 'v2-todos',
          AttributeDefinitions: [
            { AttributeName: 'user', AttributeType: 'S' },
            { AttributeName: 'n', AttributeType: 'N' },
          ],
          KeySchema: [
            { AttributeName: 'user', KeyType: 'HASH' },
            { AttributeName: 'n', KeyType: 'RANGE' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      ddb.destroy();
      // The function's own aws-sdk is this checkout's (a one-line package, not 90 MB per deploy).
      await deployService(aws.platform, serviceDef([fnDef('crud')]), {
        'handler.js': handler,
        'node_modules/aws-sdk/package.json': '{"name":"aws-sdk","main":"index.js"}',
        'node_modules/aws-sdk/index.js': `module.exports = require(${JSON.stringify(
          join(repoRoot, 'node_modules', 'aws-sdk'),
        )});`,
      });
    });
    after(async () => {
      lambda?.destroy();
      await aws?.close();
    });

    test('put, get, update, conditional put, query, scan, batch and transact calls', async () => {
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: 'svc-dev-crud', Payload: Buffer.from('{}') }),
      );
      const text = Buffer.from(out.Payload ?? []).toString();
      assert.equal(out.FunctionError, undefined, text);
      const result = JSON.parse(text) as Record<string, unknown>;
      assert.deepEqual((result.got as { title: string }).title, 'a');
      assert.deepEqual(result.updated, {
        user: 'ann',
        n: 1,
        title: 'a2',
        count: 1,
        tags: ['x', 'y'],
      });
      assert.equal(result.conditional, 'ConditionalCheckFailedException');
      assert.deepEqual(result.queried, [2, 1]);
      assert.equal(result.count, 3);
      assert.deepEqual(result.batch, [{ user: 'bob', n: 1, title: 'c' }]);
      assert.deepEqual(result.left, [['ann', 1]]);
      assert.equal(new URL(result.endpoint as string).origin, new URL(aws.platform.url).origin);
    });
  });
