/**
 * DynamoDB operations through the official @aws-sdk/client-dynamodb and lib-dynamodb, against a
 * platform started in-process, on SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  ListTagsOfResourceCommand,
  PutItemCommand,
  QueryCommand as RawQueryCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactGetCommand,
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
  describe(`DynamoDB through @aws-sdk/client-dynamodb on ${variant.name}`, () => {
    let p: AwsPlatform;
    let client: DynamoDBClient;
    let doc: DynamoDBDocumentClient;

    before(async () => {
      p = await startAwsPlatform(variant, { label: 'dynamodb' });
      client = new DynamoDBClient(p.clientConfig());
      doc = DynamoDBDocumentClient.from(client);
      await client.send(
        new CreateTableCommand({
          TableName: 'todos',
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
    });
    after(async () => {
      client?.destroy();
      await p?.close();
    });

    test('tables: describe, list, duplicate, unknown', async () => {
      const d = await client.send(new DescribeTableCommand({ TableName: 'todos' }));
      assert.equal(d.Table?.TableStatus, 'ACTIVE');
      assert.equal(d.Table?.KeySchema?.[0]?.AttributeName, 'user');
      const l = await client.send(new ListTablesCommand({}));
      assert.deepEqual(l.TableNames, ['todos']);
      const dup = await failure(() =>
        client.send(
          new CreateTableCommand({
            TableName: 'todos',
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        ),
      );
      assert.equal(dup.name, 'ResourceInUseException');
      const missing = await failure(() =>
        client.send(new GetItemCommand({ TableName: 'nope', Key: { id: { S: 'x' } } })),
      );
      assert.equal(missing.name, 'ResourceNotFoundException');
      assert.equal(missing.$metadata.httpStatusCode, 400);
    });

    test('put, get, update with expressions, conditional failures, delete', async () => {
      await doc.send(
        new PutCommand({
          TableName: 'todos',
          Item: { user: 'ann', n: 1, title: 'a', tags: new Set(['x']) },
        }),
      );
      const got = await doc.send(
        new GetCommand({ TableName: 'todos', Key: { user: 'ann', n: 1 } }),
      );
      assert.deepEqual(got.Item, { user: 'ann', n: 1, title: 'a', tags: new Set(['x']) });
      const updated = await doc.send(
        new UpdateCommand({
          TableName: 'todos',
          Key: { user: 'ann', n: 1 },
          UpdateExpression:
            'SET #t = :t, done = if_not_exists(done, :f), #i = list_append(if_not_exists(#i, :empty), :one), #c = if_not_exists(#c, :zero) + :inc REMOVE title ADD tags :more',
          ExpressionAttributeNames: { '#t': 'text', '#i': 'items', '#c': 'count' },
          ExpressionAttributeValues: {
            ':t': 'hello',
            ':f': false,
            ':empty': [],
            ':one': [1],
            ':zero': 0,
            ':inc': 2,
            ':more': new Set(['y']),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      assert.deepEqual(updated.Attributes, {
        user: 'ann',
        n: 1,
        text: 'hello',
        done: false,
        items: [1],
        count: 2,
        tags: new Set(['x', 'y']),
      });
      const failed = await failure(() =>
        doc.send(
          new PutCommand({
            TableName: 'todos',
            Item: { user: 'ann', n: 1 },
            ConditionExpression: 'attribute_not_exists(#u)',
            ExpressionAttributeNames: { '#u': 'user' },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      assert.equal(failed.name, 'ConditionalCheckFailedException');
      assert.equal((failed.Item as Record<string, unknown>)?.text !== undefined, true);
      const after1 = await doc.send(
        new GetCommand({ TableName: 'todos', Key: { user: 'ann', n: 1 } }),
      );
      assert.equal(after1.Item?.text, 'hello');
      const old = await doc.send(
        new DeleteCommand({
          TableName: 'todos',
          Key: { user: 'ann', n: 1 },
          ConditionExpression: '#n > :c',
          ExpressionAttributeNames: { '#n': 'count' },
          ExpressionAttributeValues: { ':c': 1 },
          ReturnValues: 'ALL_OLD',
        }),
      );
      assert.equal(old.Attributes?.count, 2);
      const gone = await doc.send(
        new GetCommand({ TableName: 'todos', Key: { user: 'ann', n: 1 } }),
      );
      assert.equal(gone.Item, undefined);
    });

    test('SET values in parentheses, as ElectroDB writes them; one operator per value', async () => {
      const set = (UpdateExpression: string, values: Record<string, unknown>) =>
        doc.send(
          new UpdateCommand({
            TableName: 'todos',
            Key: { user: 'eve', n: 1 },
            UpdateExpression,
            ExpressionAttributeNames: { '#p': 'points', '#l': 'log' },
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        );
      const first = await set('SET #p = (if_not_exists(#p, :zero) - :one), #l = (:l)', {
        ':zero': 10,
        ':one': 1,
        ':l': ['a'],
      });
      assert.deepEqual(first.Attributes, { user: 'eve', n: 1, points: 9, log: ['a'] });
      const second = await set('SET #p = ((#p) + (:one)), #l = list_append((#l), :l)', {
        ':one': 1,
        ':l': ['b'],
      });
      assert.deepEqual(second.Attributes, { user: 'eve', n: 1, points: 10, log: ['a', 'b'] });
      for (const expression of [
        'SET #p = (#p + :one) - :one',
        'SET #p = (#p + :one',
        'SET #p = ()',
      ]) {
        const refused = await failure(() => set(expression, { ':one': 1 }));
        assert.equal(refused.name, 'ValidationException', expression);
        assert.match(refused.message, /Syntax error/, expression);
      }
      const after = await doc.send(
        new GetCommand({ TableName: 'todos', Key: { user: 'eve', n: 1 } }),
      );
      assert.equal(after.Item?.points, 10);
    });

    test('query orders numbers numerically, pages, filters, projects; scan', async () => {
      for (const n of [10, -5, 2, 1.5, 100, -0.25, 3]) {
        await doc.send(
          new PutCommand({ TableName: 'todos', Item: { user: 'bob', n, even: n % 2 === 0 } }),
        );
      }
      const all = await doc.send(
        new QueryCommand({
          TableName: 'todos',
          KeyConditionExpression: '#u = :u',
          ExpressionAttributeNames: { '#u': 'user' },
          ExpressionAttributeValues: { ':u': 'bob' },
        }),
      );
      assert.deepEqual(
        all.Items?.map((i) => i.n),
        [-5, -0.25, 1.5, 2, 3, 10, 100],
      );
      const back = await doc.send(
        new QueryCommand({
          TableName: 'todos',
          KeyConditionExpression: '#u = :u AND n BETWEEN :a AND :b',
          ExpressionAttributeNames: { '#u': 'user' },
          ExpressionAttributeValues: { ':u': 'bob', ':a': 0, ':b': 10 },
          ScanIndexForward: false,
        }),
      );
      assert.deepEqual(
        back.Items?.map((i) => i.n),
        [10, 3, 2, 1.5],
      );
      const page1 = await doc.send(
        new QueryCommand({
          TableName: 'todos',
          KeyConditionExpression: '#u = :u',
          ExpressionAttributeNames: { '#u': 'user' },
          ExpressionAttributeValues: { ':u': 'bob' },
          Limit: 3,
        }),
      );
      assert.deepEqual(
        page1.Items?.map((i) => i.n),
        [-5, -0.25, 1.5],
      );
      assert.deepEqual(page1.LastEvaluatedKey, { user: 'bob', n: 1.5 });
      const page2 = await doc.send(
        new QueryCommand({
          TableName: 'todos',
          KeyConditionExpression: '#u = :u AND n > :z',
          ExpressionAttributeNames: { '#u': 'user' },
          ExpressionAttributeValues: { ':u': 'bob', ':z': -100, ':t': true },
          ExclusiveStartKey: page1.LastEvaluatedKey,
          FilterExpression: 'even = :t',
          ProjectionExpression: 'n',
        }),
      );
      assert.deepEqual(page2.Items, [{ n: 2 }, { n: 10 }, { n: 100 }]);
      assert.equal(page2.ScannedCount, 4);
      const scanned = await doc.send(
        new ScanCommand({
          TableName: 'todos',
          FilterExpression: 'n >= :x',
          ExpressionAttributeValues: { ':x': 10 },
        }),
      );
      assert.equal(scanned.Count, 2);
    });

    test('query pages end once 1 MB is read, by DynamoDB item sizes', async () => {
      // Each item: "user" + "big" + "n" + a one-digit number (2 bytes) + "data" + 262,120 bytes
      // of two-byte characters = 262,134; four come to 1,048,536 (40 bytes short of 1 MB), so a
      // page holds five. Sized by their JSON text, four would fill it; by UTF-16 units, none.
      const data = 'é'.repeat(131_060);
      for (let n = 1; n <= 7; n++) {
        await client.send(
          new PutItemCommand({
            TableName: 'todos',
            Item: { user: { S: 'big' }, n: { N: String(n) }, data: { S: data } },
          }),
        );
      }
      const ask = (extra: Record<string, unknown>) =>
        doc.send(
          new QueryCommand({
            TableName: 'todos',
            KeyConditionExpression: '#u = :u',
            ExpressionAttributeNames: { '#u': 'user' },
            ExpressionAttributeValues: { ':u': 'big' },
            ...extra,
          }),
        );
      const first = await ask({});
      assert.deepEqual(
        first.Items?.map((i) => i.n),
        [1, 2, 3, 4, 5],
      );
      assert.equal(first.Items?.[4]?.data, data);
      assert.deepEqual(first.LastEvaluatedKey, { user: 'big', n: 5 });
      const rest = await ask({ ExclusiveStartKey: first.LastEvaluatedKey });
      assert.deepEqual(
        rest.Items?.map((i) => i.n),
        [6, 7],
      );
      assert.equal(rest.LastEvaluatedKey, undefined);
      const counted = await ask({ Select: 'COUNT' });
      assert.equal(counted.Items, undefined);
      assert.equal(counted.Count, 5);
      assert.deepEqual(counted.LastEvaluatedKey, { user: 'big', n: 5 });
      // Items a filter leaves out count towards the page all the same.
      const filtered = await ask({
        FilterExpression: 'n > :x',
        ExpressionAttributeValues: { ':u': 'big', ':x': 3 },
        ProjectionExpression: 'n',
      });
      assert.deepEqual(filtered.Items, [{ n: 4 }, { n: 5 }]);
      assert.equal(filtered.ScannedCount, 5);
      assert.deepEqual(filtered.LastEvaluatedKey, { user: 'big', n: 5 });
    });

    test('bad input: oversized item, bad expressions, unused values, wrong key, wrong signature', async () => {
      const big = await failure(() =>
        client.send(
          new PutItemCommand({
            TableName: 'todos',
            Item: { user: { S: 'c' }, n: { N: '1' }, blob: { S: 'x'.repeat(410 * 1024) } },
          }),
        ),
      );
      assert.equal(big.name, 'ValidationException');
      assert.match(big.message, /Item size has exceeded/);
      const syntax = await failure(() =>
        doc.send(
          new UpdateCommand({
            TableName: 'todos',
            Key: { user: 'c', n: 1 },
            UpdateExpression: 'SET = :v',
            ExpressionAttributeValues: { ':v': 1 },
          }),
        ),
      );
      assert.equal(syntax.name, 'ValidationException');
      assert.match(syntax.message, /Syntax error/);
      const unused = await failure(() =>
        doc.send(
          new GetCommand({
            TableName: 'todos',
            Key: { user: 'c', n: 1 },
            ExpressionAttributeNames: { '#x': 'x' },
          }),
        ),
      );
      assert.match(unused.message, /unused in expressions/);
      const wrongKey = await failure(() =>
        doc.send(new GetCommand({ TableName: 'todos', Key: { user: 'c' } })),
      );
      assert.match(wrongKey.message, /does not match the schema/);
      const keyUpdate = await failure(() =>
        doc.send(
          new UpdateCommand({
            TableName: 'todos',
            Key: { user: 'c', n: 1 },
            UpdateExpression: 'SET #u = :v',
            ExpressionAttributeNames: { '#u': 'user' },
            ExpressionAttributeValues: { ':v': 'd' },
          }),
        ),
      );
      assert.match(keyUpdate.message, /part of the key/);
      // `status` and `name` are reserved: unaliased they are refused in every expression kind,
      // whatever their case; aliased through ExpressionAttributeNames they are fine.
      const reservedUpdate = await failure(() =>
        doc.send(
          new UpdateCommand({
            TableName: 'todos',
            Key: { user: 'c', n: 1 },
            UpdateExpression: 'SET Status = :v',
            ExpressionAttributeValues: { ':v': 'done' },
          }),
        ),
      );
      assert.equal(reservedUpdate.name, 'ValidationException');
      assert.equal(
        reservedUpdate.message,
        'Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: Status',
      );
      const reservedProjection = await failure(() =>
        doc.send(
          new GetCommand({
            TableName: 'todos',
            Key: { user: 'c', n: 1 },
            ProjectionExpression: 'name',
          }),
        ),
      );
      assert.match(
        reservedProjection.message,
        /^Invalid ProjectionExpression: .*reserved keyword: name$/,
      );
      const reservedFilter = await failure(() =>
        doc.send(
          new QueryCommand({
            TableName: 'todos',
            KeyConditionExpression: '#u = :u',
            FilterExpression: 'size(data) > :z',
            ExpressionAttributeNames: { '#u': 'user' },
            ExpressionAttributeValues: { ':u': 'c', ':z': 0 },
          }),
        ),
      );
      assert.match(reservedFilter.message, /reserved keyword: data/);
      await doc.send(
        new UpdateCommand({
          TableName: 'todos',
          Key: { user: 'c', n: 9 },
          UpdateExpression: 'SET #s = :v',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':v': 'done' },
        }),
      );
      const aliased = await doc.send(
        new GetCommand({
          TableName: 'todos',
          Key: { user: 'c', n: 9 },
          ProjectionExpression: '#s',
          ExpressionAttributeNames: { '#s': 'status' },
        }),
      );
      assert.deepEqual(aliased.Item, { status: 'done' });
      await doc.send(new DeleteCommand({ TableName: 'todos', Key: { user: 'c', n: 9 } }));
      const wrongSecret = new DynamoDBClient({
        endpoint: p.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: p.key.id, secretAccessKey: 'wrong' },
        maxAttempts: 1,
      });
      const sig = await failure(() => wrongSecret.send(new ListTablesCommand({})));
      assert.equal(sig.name, 'InvalidSignatureException');
      wrongSecret.destroy();
      const nothing = await doc.send(
        new GetCommand({ TableName: 'todos', Key: { user: 'c', n: 1 } }),
      );
      assert.equal(nothing.Item, undefined);
    });

    test('tags: CreateTable Tags, TagResource, UntagResource, ListTagsOfResource, and their refusals', async () => {
      const created = await client.send(
        new CreateTableCommand({
          TableName: 'tagged',
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
          Tags: [{ Key: 'team', Value: 'core' }],
        }),
      );
      const ResourceArn = created.TableDescription!.TableArn!;
      const tagsOf = async () =>
        (await client.send(new ListTagsOfResourceCommand({ ResourceArn }))).Tags;
      assert.deepEqual(await tagsOf(), [{ Key: 'team', Value: 'core' }]);
      await client.send(
        new TagResourceCommand({
          ResourceArn,
          Tags: [
            { Key: 'team', Value: 'platform' },
            { Key: 'cost center', Value: 'é-42 / x@y' },
            { Key: 'empty', Value: '' },
          ],
        }),
      );
      assert.deepEqual(await tagsOf(), [
        { Key: 'team', Value: 'platform' },
        { Key: 'cost center', Value: 'é-42 / x@y' },
        { Key: 'empty', Value: '' },
      ]);
      await client.send(new UntagResourceCommand({ ResourceArn, TagKeys: ['team', 'absent'] }));
      assert.deepEqual(
        (await tagsOf())?.map((t) => t.Key),
        ['cost center', 'empty'],
      );
      const described = await client.send(new DescribeTableCommand({ TableName: 'tagged' }));
      assert.equal('Tags' in (described.Table ?? {}), false, 'DescribeTable shows no tags');

      const refused = async (send: () => Promise<unknown>, name: string, message: RegExp) => {
        const error = await failure(send);
        assert.equal(error.name, name, error.message);
        assert.match(error.message, message);
      };
      const tag = (arn: string, Tags: { Key: string; Value: string }[]) => () =>
        client.send(new TagResourceCommand({ ResourceArn: arn, Tags }));
      await refused(
        tag('not-an-arn', [{ Key: 'a', Value: 'b' }]),
        'ValidationException',
        /Invalid TableArn/,
      );
      await refused(
        tag(ResourceArn.replace('/tagged', '/nope'), [{ Key: 'a', Value: 'b' }]),
        'ResourceNotFoundException',
        /Requested resource not found/,
      );
      await refused(
        tag(ResourceArn.replace(':000000000000:', ':111111111111:'), [{ Key: 'a', Value: 'b' }]),
        'ResourceNotFoundException',
        /not found/,
      );
      await refused(tag(ResourceArn, []), 'ValidationException', /Atleast one Tag/);
      await refused(
        tag(ResourceArn, [{ Key: 'k'.repeat(129), Value: 'v' }]),
        'ValidationException',
        /128/,
      );
      await refused(
        tag(ResourceArn, [{ Key: 'k', Value: 'v'.repeat(257) }]),
        'ValidationException',
        /256/,
      );
      await refused(
        tag(ResourceArn, [{ Key: 'aws:owner', Value: 'v' }]),
        'ValidationException',
        /aws:/,
      );
      await refused(
        tag(ResourceArn, [{ Key: 'semi;colon', Value: 'v' }]),
        'ValidationException',
        /letters/,
      );
      await refused(
        tag(
          ResourceArn,
          Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })),
        ),
        'LimitExceededException',
        /50/,
      );
      await refused(
        () => client.send(new UntagResourceCommand({ ResourceArn, TagKeys: [] })),
        'ValidationException',
        /Atleast one Tag Key/,
      );
      // Nothing refused changed anything.
      assert.deepEqual(
        (await tagsOf())?.map((t) => t.Key),
        ['cost center', 'empty'],
      );
      await client.send(new DeleteTableCommand({ TableName: 'tagged' }));
      await refused(
        () => client.send(new ListTagsOfResourceCommand({ ResourceArn })),
        'ResourceNotFoundException',
        /not found/,
      );
    });

    test('ReturnConsumedCapacity: units by DynamoDB rules, TOTAL and INDEXES, on every call', async () => {
      await client.send(
        new CreateTableCommand({
          TableName: 'metered',
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [
            { AttributeName: 'id', AttributeType: 'S' },
            { AttributeName: 'g', AttributeType: 'S' },
          ],
          GlobalSecondaryIndexes: [
            {
              IndexName: 'byG',
              KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }],
              Projection: { ProjectionType: 'KEYS_ONLY' },
            },
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      const pad = 'x'.repeat(2000); // an item of about 2 KB: 2 write units, half a read
      const put = await doc.send(
        new PutCommand({
          TableName: 'metered',
          Item: { id: 'a', g: 'one', pad },
          ReturnConsumedCapacity: 'INDEXES',
        }),
      );
      // Table: 2 KB, 2 units; index byG: a new keys-only entry, 1 unit.
      assert.deepEqual(put.ConsumedCapacity, {
        TableName: 'metered',
        CapacityUnits: 3,
        Table: { CapacityUnits: 2 },
        GlobalSecondaryIndexes: { byG: { CapacityUnits: 1 } },
      });
      const moved = await doc.send(
        new UpdateCommand({
          TableName: 'metered',
          Key: { id: 'a' },
          UpdateExpression: 'SET g = :g',
          ExpressionAttributeValues: { ':g': 'two' },
          ReturnConsumedCapacity: 'INDEXES',
        }),
      );
      // The index key changed: a delete and a put in byG.
      assert.deepEqual(moved.ConsumedCapacity?.GlobalSecondaryIndexes, {
        byG: { CapacityUnits: 2 },
      });
      const untouched = await doc.send(
        new UpdateCommand({
          TableName: 'metered',
          Key: { id: 'a' },
          UpdateExpression: 'SET #p = :p',
          ExpressionAttributeNames: { '#p': 'pad' },
          ExpressionAttributeValues: { ':p': `${pad}y` },
          ReturnConsumedCapacity: 'INDEXES',
        }),
      );
      // Nothing byG projects changed: the index is not written.
      assert.deepEqual(untouched.ConsumedCapacity, {
        TableName: 'metered',
        CapacityUnits: 2,
        Table: { CapacityUnits: 2 },
      });
      const units = async (consistent: boolean, id = 'a') =>
        (
          await doc.send(
            new GetCommand({
              TableName: 'metered',
              Key: { id },
              ConsistentRead: consistent,
              ReturnConsumedCapacity: 'TOTAL',
            }),
          )
        ).ConsumedCapacity;
      assert.deepEqual(await units(false), { TableName: 'metered', CapacityUnits: 0.5 });
      assert.deepEqual(await units(true), { TableName: 'metered', CapacityUnits: 1 });
      assert.deepEqual(await units(false, 'missing'), {
        TableName: 'metered',
        CapacityUnits: 0.5,
      });
      const got = await doc.send(
        new GetCommand({ TableName: 'metered', Key: { id: 'a' }, ReturnConsumedCapacity: 'TOTAL' }),
      );
      assert.equal(got.Item?.g, 'two', 'the item still comes with its capacity');

      const batch = await doc.send(
        new BatchWriteCommand({
          RequestItems: {
            metered: ['b', 'c', 'd'].map((id) => ({ PutRequest: { Item: { id, g: 'two', pad } } })),
          },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      // Three items of 2 KB, each with a new index entry: 3 x (2 + 1).
      assert.deepEqual(batch.ConsumedCapacity, [{ TableName: 'metered', CapacityUnits: 9 }]);
      // Four items of 2 KB read through the table: 8 KB, 2 units, eventually consistent: 1.
      const scanned = await doc.send(
        new ScanCommand({ TableName: 'metered', ReturnConsumedCapacity: 'TOTAL' }),
      );
      assert.equal(scanned.Count, 4);
      assert.deepEqual(scanned.ConsumedCapacity, { TableName: 'metered', CapacityUnits: 1 });
      // Through the keys-only index the entries are small: one 4 KB unit, halved.
      const byIndex = await client.send(
        new RawQueryCommand({
          TableName: 'metered',
          IndexName: 'byG',
          KeyConditionExpression: 'g = :g',
          ExpressionAttributeValues: { ':g': { S: 'two' } },
          ReturnConsumedCapacity: 'INDEXES',
        }),
      );
      assert.equal(byIndex.Count, 4);
      assert.deepEqual(byIndex.ConsumedCapacity, {
        TableName: 'metered',
        CapacityUnits: 0.5,
        Table: { CapacityUnits: 0 },
        GlobalSecondaryIndexes: { byG: { CapacityUnits: 0.5 } },
      });
      const gets = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            metered: { Keys: [{ id: 'a' }, { id: 'b' }, { id: 'zz' }], ConsistentRead: true },
          },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      assert.deepEqual(gets.ConsumedCapacity, [{ TableName: 'metered', CapacityUnits: 3 }]);
      const tx = await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: 'metered', Item: { id: 'e', pad } } },
            {
              ConditionCheck: {
                TableName: 'metered',
                Key: { id: 'a' },
                ConditionExpression: 'attribute_exists(id)',
              },
            },
          ],
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      // Transactional: twice the 2 units of each item.
      assert.deepEqual(tx.ConsumedCapacity, [{ TableName: 'metered', CapacityUnits: 8 }]);
      const txGet = await doc.send(
        new TransactGetCommand({
          TransactItems: [{ Get: { TableName: 'metered', Key: { id: 'a' } } }],
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      assert.deepEqual(txGet.ConsumedCapacity, [{ TableName: 'metered', CapacityUnits: 2 }]);
      const plain = await doc.send(new GetCommand({ TableName: 'metered', Key: { id: 'a' } }));
      assert.equal(plain.ConsumedCapacity, undefined, 'nothing when not asked');
      const bad = await failure(() =>
        doc.send(
          new GetCommand({
            TableName: 'metered',
            Key: { id: 'a' },
            ReturnConsumedCapacity: 'SOME' as 'TOTAL',
          }),
        ),
      );
      assert.equal(bad.name, 'ValidationException');
      await client.send(new DeleteTableCommand({ TableName: 'metered' }));
    });

    test('delete table', async () => {
      await client.send(new DeleteTableCommand({ TableName: 'todos' }));
      const missing = await failure(() =>
        client.send(new DescribeTableCommand({ TableName: 'todos' })),
      );
      assert.equal(missing.name, 'ResourceNotFoundException');
    });
  });
