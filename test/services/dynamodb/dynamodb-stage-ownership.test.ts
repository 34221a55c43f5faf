/**
 * Tables belong to the service stage whose deploy (or whose credentials) created them: a
 * `--service/--stage`-scoped key (what a function's session credentials are) reaches its own
 * stage's tables and shared ones (made with an unscoped key), never another stage's
 * (AccessDeniedException), in item, batch, transaction, table and streams calls; ListTables
 * shows only what it reaches; a `--read-only` key only reads. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BatchGetItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  ScanCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { awsPlatformVariants } from '../../helpers/aws-platform.js';
import { type StageCallers, stageCallers } from '../../helpers/stage-callers.js';
import { failure } from '../s3/s3-platform.js';

const table = (name: string) => ({
  Type: 'AWS::DynamoDB::Table',
  Properties: {
    TableName: name,
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
    StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
  },
});
const item = (id: string) => ({ id: { S: id } });

for (const variant of awsPlatformVariants)
  describe(`DynamoDB tables belong to their service stage (${variant.name})`, () => {
    let callers: StageCallers<DynamoDBClient>;

    before(async () => {
      callers = await stageCallers(variant, {
        label: 'dynamodb-owners',
        client: (config) => new DynamoDBClient(config),
        resources: (stage) => ({ Data: table(`stage-${stage}-data`) }),
      });
      const { admin } = callers;
      await admin.send(
        new CreateTableCommand({
          TableName: 'shared-data',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      for (const name of ['stage-a-data', 'stage-b-data', 'shared-data']) {
        await admin.send(new PutItemCommand({ TableName: name, Item: item('k') }));
      }
    });
    after(() => callers?.close());

    const denied = async (run: () => Promise<unknown>) => {
      const error = await failure(run);
      assert.equal(error.name, 'AccessDeniedException');
      assert.equal(error.$metadata.httpStatusCode, 400);
    };

    test("a stage's key reads and writes its own and shared tables", async () => {
      await callers.stageA.send(new PutItemCommand({ TableName: 'stage-a-data', Item: item('a') }));
      await callers.stageA.send(new PutItemCommand({ TableName: 'shared-data', Item: item('a') }));
      const got = await callers.stageA.send(
        new GetItemCommand({ TableName: 'stage-a-data', Key: item('a') }),
      );
      assert.deepEqual(got.Item, item('a'));
      const batch = await callers.stageA.send(
        new BatchGetItemCommand({
          RequestItems: {
            'stage-a-data': { Keys: [item('k')] },
            'shared-data': { Keys: [item('k')] },
          },
        }),
      );
      assert.equal(batch.Responses?.['shared-data']?.length, 1);
    });

    test("another stage's table is refused for reads, writes, batches, transactions and streams", async () => {
      await denied(() =>
        callers.stageA.send(new GetItemCommand({ TableName: 'stage-b-data', Key: item('k') })),
      );
      await denied(() => callers.stageA.send(new ScanCommand({ TableName: 'stage-b-data' })));
      await denied(() =>
        callers.stageA.send(new DescribeTableCommand({ TableName: 'stage-b-data' })),
      );
      await denied(() =>
        callers.stageA.send(new PutItemCommand({ TableName: 'stage-b-data', Item: item('x') })),
      );
      await denied(() =>
        callers.stageA.send(new DeleteTableCommand({ TableName: 'stage-b-data' })),
      );
      await denied(() =>
        callers.stageA.send(
          new BatchGetItemCommand({
            RequestItems: {
              'stage-a-data': { Keys: [item('k')] },
              'stage-b-data': { Keys: [item('k')] },
            },
          }),
        ),
      );
      await denied(() =>
        callers.stageA.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName: 'stage-a-data', Item: item('t') } },
              { Put: { TableName: 'stage-b-data', Item: item('t') } },
            ],
          }),
        ),
      );
      const arn = (
        await callers.admin.send(new DescribeTableCommand({ TableName: 'stage-b-data' }))
      ).Table?.LatestStreamArn;
      assert.ok(arn);
      const streams = callers.track(new DynamoDBStreamsClient(callers.configOf(callers.stageAKey)));
      await denied(() => streams.send(new DescribeStreamCommand({ StreamArn: arn })));
      // Nothing of stage b changed.
      const kept = await callers.admin.send(new ScanCommand({ TableName: 'stage-b-data' }));
      assert.deepEqual(kept.Items, [item('k')]);
    });

    test('ListTables shows a stage only its own tables, the shared ones and what it created', async () => {
      await callers.stageA.send(
        new CreateTableCommand({
          TableName: 'made-by-a',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      const seen = await callers.stageA.send(new ListTablesCommand({}));
      assert.deepEqual(seen.TableNames, ['made-by-a', 'shared-data', 'stage-a-data']);
      const all = await callers.admin.send(new ListTablesCommand({}));
      assert.deepEqual(all.TableNames, [
        'made-by-a',
        'shared-data',
        'stage-a-data',
        'stage-b-data',
      ]);
      // Stage b's key does not reach what stage a's key made.
      const stageB = await callers.stageClient('b');
      await denied(() =>
        stageB.send(new GetItemCommand({ TableName: 'made-by-a', Key: item('k') })),
      );
      await callers.stageA.send(new DeleteTableCommand({ TableName: 'made-by-a' }));
    });

    test('a read-only key reads every table but writes none', async () => {
      const got = await callers.readOnly.send(
        new GetItemCommand({ TableName: 'stage-b-data', Key: item('k') }),
      );
      assert.deepEqual(got.Item, item('k'));
      await denied(() =>
        callers.readOnly.send(new PutItemCommand({ TableName: 'shared-data', Item: item('r') })),
      );
      await denied(() =>
        callers.readOnly.send(new DeleteTableCommand({ TableName: 'shared-data' })),
      );
    });
  });
