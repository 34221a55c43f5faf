/**
 * Global and local secondary indexes through the official SDK, on SQLite and PostgreSQL:
 * CreateTable with indexes, projections, sparse indexes, index order and pagination, indexes
 * following every write (single, batch, transaction), UpdateTable adding and deleting an index.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type AwsPlatform,
  awsPlatformVariants,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { failure } from '../s3/s3-platform.js';

for (const variant of awsPlatformVariants)
  describe(`DynamoDB secondary indexes on ${variant.name}`, () => {
    let p: AwsPlatform;
    let client: DynamoDBClient;
    let doc: DynamoDBDocumentClient;
    const byScore = (extra: Record<string, unknown> = {}) =>
      doc.send(
        new QueryCommand({
          TableName: 'scores',
          IndexName: 'byScore',
          KeyConditionExpression: 'game = :g',
          ExpressionAttributeValues: { ':g': 'chess' },
          ScanIndexForward: false,
          ...extra,
        }),
      );

    before(async () => {
      p = await startAwsPlatform(variant, { label: 'dynamodb' });
      client = new DynamoDBClient(p.clientConfig());
      doc = DynamoDBDocumentClient.from(client);
      const created = await client.send(
        new CreateTableCommand({
          TableName: 'scores',
          KeySchema: [
            { AttributeName: 'player', KeyType: 'HASH' },
            { AttributeName: 'game', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: 'player', AttributeType: 'S' },
            { AttributeName: 'game', AttributeType: 'S' },
            { AttributeName: 'score', AttributeType: 'N' },
            { AttributeName: 'status', AttributeType: 'S' },
            { AttributeName: 'day', AttributeType: 'S' },
          ],
          GlobalSecondaryIndexes: [
            {
              IndexName: 'byScore',
              KeySchema: [
                { AttributeName: 'game', KeyType: 'HASH' },
                { AttributeName: 'score', KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['title'] },
            },
            {
              IndexName: 'byStatus',
              KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
              Projection: { ProjectionType: 'KEYS_ONLY' },
            },
          ],
          LocalSecondaryIndexes: [
            {
              IndexName: 'byDay',
              KeySchema: [
                { AttributeName: 'player', KeyType: 'HASH' },
                { AttributeName: 'day', KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      assert.equal(created.TableDescription?.GlobalSecondaryIndexes?.length, 2);
      for (const [player, score, day, status] of [
        ['ann', 10, '2026-01-03', 'active'],
        ['bob', 30, '2026-01-01', undefined],
        ['cat', 20, '2026-01-02', 'active'],
        ['dan', 20, '2026-01-05', undefined],
        ['eve', 20, '2026-01-04', 'banned'],
      ] as const) {
        await doc.send(
          new PutCommand({
            TableName: 'scores',
            Item: {
              player,
              game: 'chess',
              score,
              day,
              title: `${player} the great`,
              secret: 'x',
              ...(status ? { status } : {}),
            },
          }),
        );
      }
    });
    after(async () => {
      client?.destroy();
      await p?.close();
    });

    test('a GSI orders by its key then the table key, pages with both, projects INCLUDE', async () => {
      const all = await byScore();
      assert.deepEqual(
        all.Items?.map((i) => i.player),
        ['bob', 'eve', 'dan', 'cat', 'ann'],
      );
      assert.deepEqual(all.Items?.[0], {
        player: 'bob',
        game: 'chess',
        score: 30,
        title: 'bob the great',
      });
      const seen: string[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await byScore({ Limit: 2, ExclusiveStartKey: start });
        seen.push(...(page.Items ?? []).map((i) => i.player as string));
        start = page.LastEvaluatedKey;
        if (start) assert.deepEqual(Object.keys(start).sort(), ['game', 'player', 'score']);
      } while (start);
      assert.deepEqual(seen, ['bob', 'eve', 'dan', 'cat', 'ann']);
      const range = await byScore({
        KeyConditionExpression: 'game = :g AND score BETWEEN :a AND :b',
        ExpressionAttributeValues: { ':g': 'chess', ':a': 15, ':b': 25 },
        ScanIndexForward: true,
        Select: 'COUNT',
      });
      assert.equal(range.Count, 3);
      const allAttrs = await failure(() => byScore({ Select: 'ALL_ATTRIBUTES' }));
      assert.equal(allAttrs.name, 'ValidationException');
      assert.match(allAttrs.message, /projection type is not ALL/);
      const consistent = await failure(() => byScore({ ConsistentRead: true }));
      assert.match(consistent.message, /Consistent reads are not supported on global/);
      const unknown = await failure(() => byScore({ IndexName: 'nope' }));
      assert.equal(unknown.message, 'The table does not have the specified index: nope');
    });

    test('a sparse KEYS_ONLY index holds only items with its key; an LSI sorts by its own key', async () => {
      const sparse = await doc.send(
        new ScanCommand({ TableName: 'scores', IndexName: 'byStatus' }),
      );
      assert.deepEqual(sparse.Items?.map((i) => i.player).sort(), ['ann', 'cat', 'eve']);
      assert.deepEqual(Object.keys(sparse.Items![0]!).sort(), ['game', 'player', 'status']);
      const active = await doc.send(
        new QueryCommand({
          TableName: 'scores',
          IndexName: 'byStatus',
          KeyConditionExpression: '#s = :s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': 'active' },
        }),
      );
      assert.deepEqual(
        active.Items?.map((i) => i.player),
        ['ann', 'cat'],
      );
      await doc.send(
        new PutCommand({
          TableName: 'scores',
          Item: { player: 'ann', game: 'go', day: '2025-12-31' },
        }),
      );
      const days = await doc.send(
        new QueryCommand({
          TableName: 'scores',
          IndexName: 'byDay',
          KeyConditionExpression: 'player = :p AND #d >= :d',
          ExpressionAttributeNames: { '#d': 'day' },
          ExpressionAttributeValues: { ':p': 'ann', ':d': '2025' },
          ConsistentRead: true,
        }),
      );
      assert.deepEqual(
        days.Items?.map((i) => i.game),
        ['go', 'chess'],
      );
      assert.equal(days.Items?.[1]?.secret, 'x');
    });

    test('indexes follow updates, deletes, batches and transactions; bad index keys are refused', async () => {
      await doc.send(
        new UpdateCommand({
          TableName: 'scores',
          Key: { player: 'ann', game: 'chess' },
          UpdateExpression: 'SET score = :s REMOVE #st',
          ExpressionAttributeNames: { '#st': 'status' },
          ExpressionAttributeValues: { ':s': 99 },
        }),
      );
      await doc.send(
        new DeleteCommand({ TableName: 'scores', Key: { player: 'bob', game: 'chess' } }),
      );
      await doc.send(
        new BatchWriteCommand({
          RequestItems: {
            scores: [{ PutRequest: { Item: { player: 'fay', game: 'chess', score: 5 } } }],
          },
        }),
      );
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: 'scores', Item: { player: 'gus', game: 'chess', score: 50 } } },
            { Delete: { TableName: 'scores', Key: { player: 'eve', game: 'chess' } } },
          ],
        }),
      );
      const now = await byScore();
      assert.deepEqual(
        now.Items?.map((i) => `${i.player}:${i.score}`),
        ['ann:99', 'gus:50', 'dan:20', 'cat:20', 'fay:5'],
      );
      const statuses = await doc.send(
        new ScanCommand({ TableName: 'scores', IndexName: 'byStatus' }),
      );
      assert.deepEqual(
        statuses.Items?.map((i) => i.player),
        ['cat'],
      );
      const wrongType = await failure(() =>
        doc.send(
          new PutCommand({
            TableName: 'scores',
            Item: { player: 'hal', game: 'chess', score: 'high' },
          }),
        ),
      );
      assert.equal(wrongType.name, 'ValidationException');
      assert.match(wrongType.message, /Type mismatch for Index Key score/);
      const emptyKey = await failure(() =>
        doc.send(
          new PutCommand({ TableName: 'scores', Item: { player: 'hal', game: 'go', status: '' } }),
        ),
      );
      assert.match(emptyKey.message, /secondary index key/);
      const nothing = await byScore();
      assert.equal(
        nothing.Items?.some((i) => i.player === 'hal'),
        false,
      );
      const d = await client.send(new DescribeTableCommand({ TableName: 'scores' }));
      const gsi = d.Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === 'byScore');
      assert.equal(gsi?.IndexStatus, 'ACTIVE');
      assert.equal(gsi?.ItemCount, 5);
      assert.match(gsi?.IndexArn ?? '', /table\/scores\/index\/byScore$/);
      assert.equal(d.Table?.LocalSecondaryIndexes?.[0]?.IndexName, 'byDay');
    });

    test('UpdateTable adds a GSI filled from existing items, and deletes it', async () => {
      const added = await client.send(
        new UpdateTableCommand({
          TableName: 'scores',
          AttributeDefinitions: [{ AttributeName: 'title', AttributeType: 'S' }],
          GlobalSecondaryIndexUpdates: [
            {
              Create: {
                IndexName: 'byTitle',
                KeySchema: [{ AttributeName: 'title', KeyType: 'HASH' }],
                Projection: { ProjectionType: 'ALL' },
              },
            },
          ],
        }),
      );
      assert.equal(added.TableDescription?.GlobalSecondaryIndexes?.length, 3);
      const found = await doc.send(
        new QueryCommand({
          TableName: 'scores',
          IndexName: 'byTitle',
          KeyConditionExpression: 'title = :t',
          ExpressionAttributeValues: { ':t': 'cat the great' },
        }),
      );
      assert.equal(found.Items?.[0]?.secret, 'x');
      const two = await failure(() =>
        client.send(
          new UpdateTableCommand({
            TableName: 'scores',
            GlobalSecondaryIndexUpdates: [
              { Delete: { IndexName: 'byTitle' } },
              { Delete: { IndexName: 'byStatus' } },
            ],
          }),
        ),
      );
      assert.equal(two.name, 'LimitExceededException');
      const none = await failure(() =>
        client.send(new UpdateTableCommand({ TableName: 'scores' })),
      );
      assert.equal(none.name, 'ValidationException');
      await client.send(
        new UpdateTableCommand({
          TableName: 'scores',
          GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'byTitle' } }],
        }),
      );
      const gone = await failure(() =>
        doc.send(
          new QueryCommand({
            TableName: 'scores',
            IndexName: 'byTitle',
            KeyConditionExpression: 'title = :t',
            ExpressionAttributeValues: { ':t': 'x' },
          }),
        ),
      );
      assert.match(gone.message, /does not have the specified index/);
      const billed = await client.send(
        new UpdateTableCommand({
          TableName: 'scores',
          BillingMode: 'PROVISIONED',
          ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
        }),
      );
      assert.equal(billed.TableDescription?.BillingModeSummary?.BillingMode, 'PROVISIONED');
      assert.deepEqual(
        billed.TableDescription?.AttributeDefinitions?.map((a) => a.AttributeName).sort(),
        ['day', 'game', 'player', 'score', 'status'],
      );
    });

    test('CreateTable refuses bad index definitions', async () => {
      const base = {
        TableName: 'bad',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' as const }],
        BillingMode: 'PAY_PER_REQUEST' as const,
      };
      const lsiNoRange = await failure(() =>
        client.send(
          new CreateTableCommand({
            ...base,
            AttributeDefinitions: [
              { AttributeName: 'id', AttributeType: 'S' },
              { AttributeName: 'x', AttributeType: 'S' },
            ],
            LocalSecondaryIndexes: [
              {
                IndexName: 'lsi1',
                KeySchema: [
                  { AttributeName: 'id', KeyType: 'HASH' },
                  { AttributeName: 'x', KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: 'ALL' },
              },
            ],
          }),
        ),
      );
      assert.match(lsiNoRange.message, /does not have a range key/);
      const undefinedKey = await failure(() =>
        client.send(
          new CreateTableCommand({
            ...base,
            AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
            GlobalSecondaryIndexes: [
              {
                IndexName: 'gsi1',
                KeySchema: [{ AttributeName: 'y', KeyType: 'HASH' }],
                Projection: { ProjectionType: 'ALL' },
              },
            ],
          }),
        ),
      );
      assert.match(undefinedKey.message, /not defined in AttributeDefinitions/);
      const include = await failure(() =>
        client.send(
          new CreateTableCommand({
            ...base,
            AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
            GlobalSecondaryIndexes: [
              {
                IndexName: 'gsi1',
                KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
                Projection: { ProjectionType: 'INCLUDE' },
              },
            ],
          }),
        ),
      );
      assert.match(include.message, /NonKeyAttributes is not specified/);
    });
  });
