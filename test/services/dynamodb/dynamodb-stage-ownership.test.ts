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
import {
  type AwsPlatform,
  awsPlatformVariants,
  deployStageResources,
  makeKey,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
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
    let p: AwsPlatform;
    const clients: { destroy(): void }[] = [];
    const clientOf = (key: { id: string; secret: string }) => {
      const c = new DynamoDBClient({
        endpoint: p.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
        maxAttempts: 1,
      });
      clients.push(c);
      return c;
    };
    let admin: DynamoDBClient;
    let stageA: DynamoDBClient;
    let readOnly: DynamoDBClient;

    before(async () => {
      p = await startAwsPlatform(variant, { label: 'dynamodb-owners' });
      await deployStageResources(p.platform, 'a', { Data: table('stage-a-data') });
      await deployStageResources(p.platform, 'b', { Data: table('stage-b-data') });
      admin = clientOf(p.key);
      stageA = clientOf(await makeKey(p.platform, 'stage a', { service: 'svc', stage: 'a' }));
      readOnly = clientOf(await makeKey(p.platform, 'read-only', { readOnly: true }));
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
    after(async () => {
      for (const c of clients) c.destroy();
      await p?.close();
    });

    const denied = async (run: () => Promise<unknown>) => {
      const error = await failure(run);
      assert.equal(error.name, 'AccessDeniedException');
      assert.equal(error.$metadata.httpStatusCode, 400);
    };

    test("a stage's key reads and writes its own and shared tables", async () => {
      await stageA.send(new PutItemCommand({ TableName: 'stage-a-data', Item: item('a') }));
      await stageA.send(new PutItemCommand({ TableName: 'shared-data', Item: item('a') }));
      const got = await stageA.send(
        new GetItemCommand({ TableName: 'stage-a-data', Key: item('a') }),
      );
      assert.deepEqual(got.Item, item('a'));
      const batch = await stageA.send(
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
        stageA.send(new GetItemCommand({ TableName: 'stage-b-data', Key: item('k') })),
      );
      await denied(() => stageA.send(new ScanCommand({ TableName: 'stage-b-data' })));
      await denied(() => stageA.send(new DescribeTableCommand({ TableName: 'stage-b-data' })));
      await denied(() =>
        stageA.send(new PutItemCommand({ TableName: 'stage-b-data', Item: item('x') })),
      );
      await denied(() => stageA.send(new DeleteTableCommand({ TableName: 'stage-b-data' })));
      await denied(() =>
        stageA.send(
          new BatchGetItemCommand({
            RequestItems: {
              'stage-a-data': { Keys: [item('k')] },
              'stage-b-data': { Keys: [item('k')] },
            },
          }),
        ),
      );
      await denied(() =>
        stageA.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName: 'stage-a-data', Item: item('t') } },
              { Put: { TableName: 'stage-b-data', Item: item('t') } },
            ],
          }),
        ),
      );
      const arn = (await admin.send(new DescribeTableCommand({ TableName: 'stage-b-data' }))).Table
        ?.LatestStreamArn;
      assert.ok(arn);
      const streams = new DynamoDBStreamsClient({
        endpoint: p.platform.url,
        region: 'us-east-1',
        credentials: await stageA.config.credentials(),
        maxAttempts: 1,
      });
      clients.push(streams);
      await denied(() => streams.send(new DescribeStreamCommand({ StreamArn: arn })));
      // Nothing of stage b changed.
      const kept = await admin.send(new ScanCommand({ TableName: 'stage-b-data' }));
      assert.deepEqual(kept.Items, [item('k')]);
    });

    test('ListTables shows a stage only its own tables, the shared ones and what it created', async () => {
      await stageA.send(
        new CreateTableCommand({
          TableName: 'made-by-a',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      const seen = await stageA.send(new ListTablesCommand({}));
      assert.deepEqual(seen.TableNames, ['made-by-a', 'shared-data', 'stage-a-data']);
      const all = await admin.send(new ListTablesCommand({}));
      assert.deepEqual(all.TableNames, [
        'made-by-a',
        'shared-data',
        'stage-a-data',
        'stage-b-data',
      ]);
      // Stage b's key does not reach what stage a's key made.
      const stageB = clientOf(await makeKey(p.platform, 'stage b', { service: 'svc', stage: 'b' }));
      await denied(() =>
        stageB.send(new GetItemCommand({ TableName: 'made-by-a', Key: item('k') })),
      );
      await stageA.send(new DeleteTableCommand({ TableName: 'made-by-a' }));
    });

    test('a read-only key reads every table but writes none', async () => {
      const got = await readOnly.send(
        new GetItemCommand({ TableName: 'stage-b-data', Key: item('k') }),
      );
      assert.deepEqual(got.Item, item('k'));
      await denied(() =>
        readOnly.send(new PutItemCommand({ TableName: 'shared-data', Item: item('r') })),
      );
      await denied(() => readOnly.send(new DeleteTableCommand({ TableName: 'shared-data' })));
    });
  });
