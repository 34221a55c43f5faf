/**
 * Table streams and time to live through the official SDK, on SQLite and PostgreSQL: every
 * committed change (single, conditional, batch, transaction, TTL sweep) writes one record in
 * commit order, read through the platform's stream read port; TTL deletes in the background.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
} from '@aws-sdk/client-dynamodb-streams';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type AwsPlatform,
  awsPlatformVariants,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { waitForValue } from '../../helpers/wait-for.js';
import { failure } from '../s3/s3-platform.js';

for (const variant of awsPlatformVariants)
  describe(`DynamoDB streams and TTL on ${variant.name}`, () => {
    let p: AwsPlatform;
    let client: DynamoDBClient;
    let doc: DynamoDBDocumentClient;
    let now = Date.now();
    const clock = { now: () => now };
    let arn: string;
    const records = (from?: string) => p.platform.dynamodbStreams.read(arn, from, 1000);

    before(async () => {
      p = await startAwsPlatform(variant, {
        label: 'dynamodb',
        clock,
        options: { dynamodbMaintenanceMs: 100 },
      });
      client = new DynamoDBClient(p.clientConfig());
      doc = DynamoDBDocumentClient.from(client);
      const created = await client.send(
        new CreateTableCommand({
          TableName: 'events',
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
          StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
        }),
      );
      arn = created.TableDescription?.LatestStreamArn ?? '';
    });
    after(async () => {
      client?.destroy();
      await p?.close();
    });

    test('every committed change writes a record in order; unchanged and failed writes none', async () => {
      const d = await client.send(new DescribeTableCommand({ TableName: 'events' }));
      assert.match(arn, /^arn:aws:dynamodb:us-east-1:\d+:table\/events\/stream\/\d{4}-/);
      assert.equal(d.Table?.LatestStreamArn, arn);
      assert.equal(d.Table?.LatestStreamLabel, arn.split('/stream/')[1]);
      assert.deepEqual(d.Table?.StreamSpecification, {
        StreamEnabled: true,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      });
      await doc.send(new PutCommand({ TableName: 'events', Item: { id: 'a', v: 1 } }));
      await doc.send(
        new UpdateCommand({
          TableName: 'events',
          Key: { id: 'a' },
          UpdateExpression: 'SET v = :v',
          ExpressionAttributeValues: { ':v': 2 },
        }),
      );
      await doc.send(new PutCommand({ TableName: 'events', Item: { id: 'a', v: 2 } }));
      await failure(() =>
        doc.send(
          new PutCommand({
            TableName: 'events',
            Item: { id: 'a', v: 3 },
            ConditionExpression: 'attribute_not_exists(id)',
          }),
        ),
      );
      await doc.send(new DeleteCommand({ TableName: 'events', Key: { id: 'a' } }));
      await doc.send(new DeleteCommand({ TableName: 'events', Key: { id: 'a' } }));
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: 'events', Item: { id: 'b', v: 1 } } },
            { Put: { TableName: 'events', Item: { id: 'c', v: 1 } } },
          ],
        }),
      );
      await doc.send(
        new BatchWriteCommand({
          RequestItems: { events: [{ DeleteRequest: { Key: { id: 'b' } } }] },
        }),
      );
      const all = await records();
      assert.deepEqual(
        all.map((r) => `${r.eventName}:${JSON.stringify(r.dynamodb.Keys.id)}`),
        ['INSERT:a', 'MODIFY:a', 'REMOVE:a', 'INSERT:b', 'INSERT:c', 'REMOVE:b'].map((e) =>
          e.replace(/:(.)/, ':{"S":"$1"}'),
        ),
      );
      const modify = all[1]!;
      assert.deepEqual(modify.dynamodb.OldImage, { id: { S: 'a' }, v: { N: '1' } });
      assert.deepEqual(modify.dynamodb.NewImage, { id: { S: 'a' }, v: { N: '2' } });
      assert.equal(modify.dynamodb.StreamViewType, 'NEW_AND_OLD_IMAGES');
      assert.equal(modify.eventSource, 'aws:dynamodb');
      assert.equal(modify.awsRegion, 'us-east-1');
      assert.ok(modify.dynamodb.SizeBytes > 0);
      assert.equal(modify.dynamodb.ApproximateCreationDateTime, Math.floor(now / 1000));
      assert.equal(all[2]!.dynamodb.NewImage, undefined);
      assert.equal(all[2]!.userIdentity, undefined);
      const seqs = all.map((r) => r.dynamodb.SequenceNumber);
      assert.deepEqual([...seqs].sort(), seqs);
      assert.equal(new Set(seqs).size, seqs.length);
      const rest = await records(seqs[2]);
      assert.deepEqual(
        rest.map((r) => r.dynamodb.SequenceNumber),
        seqs.slice(3),
      );
      const bounds = await p.platform.dynamodbStreams.bounds(arn);
      assert.deepEqual(bounds, { oldest: seqs[0], latest: seqs.at(-1) });
    });

    test('UpdateTable turns a stream off and on (a new stream); KEYS_ONLY records only keys', async () => {
      const twice = await failure(() =>
        client.send(
          new UpdateTableCommand({
            TableName: 'events',
            StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' },
          }),
        ),
      );
      assert.match(twice.message, /already has an enabled stream/);
      await client.send(
        new UpdateTableCommand({
          TableName: 'events',
          StreamSpecification: { StreamEnabled: false },
        }),
      );
      const before = (await records()).length;
      await doc.send(new PutCommand({ TableName: 'events', Item: { id: 'quiet' } }));
      assert.equal((await records()).length, before);
      now += 1000;
      const enabled = await client.send(
        new UpdateTableCommand({
          TableName: 'events',
          StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' },
        }),
      );
      const second = enabled.TableDescription?.LatestStreamArn ?? '';
      assert.notEqual(second, arn);
      await doc.send(new PutCommand({ TableName: 'events', Item: { id: 'loud', x: 1 } }));
      const got = await p.platform.dynamodbStreams.read(second, undefined, 10);
      assert.deepEqual(
        got.map((r) => r.dynamodb),
        [
          {
            ApproximateCreationDateTime: Math.floor(now / 1000),
            Keys: { id: { S: 'loud' } },
            SequenceNumber: got[0]!.dynamodb.SequenceNumber,
            SizeBytes: got[0]!.dynamodb.SizeBytes,
            StreamViewType: 'KEYS_ONLY',
          },
        ],
      );
      assert.equal((await records()).length, before, 'the old stream keeps its records');
      const info = await p.platform.dynamodbStreams.stream(arn);
      assert.equal(info?.enabled, false);
      arn = second;
    });

    test('TTL: enabled per table, expired items deleted in the background as system deletes', async () => {
      const off = await client.send(new DescribeTimeToLiveCommand({ TableName: 'events' }));
      assert.deepEqual(off.TimeToLiveDescription, { TimeToLiveStatus: 'DISABLED' });
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: 'events',
          TimeToLiveSpecification: { Enabled: true, AttributeName: 'expires' },
        }),
      );
      const again = await failure(() =>
        client.send(
          new UpdateTimeToLiveCommand({
            TableName: 'events',
            TimeToLiveSpecification: { Enabled: true, AttributeName: 'expires' },
          }),
        ),
      );
      assert.equal(again.message, 'TimeToLive is already enabled');
      const on = await client.send(new DescribeTimeToLiveCommand({ TableName: 'events' }));
      assert.deepEqual(on.TimeToLiveDescription, {
        TimeToLiveStatus: 'ENABLED',
        AttributeName: 'expires',
      });
      const seconds = Math.floor(now / 1000);
      await doc.send(
        new PutCommand({ TableName: 'events', Item: { id: 'old', expires: seconds - 10 } }),
      );
      await doc.send(
        new PutCommand({ TableName: 'events', Item: { id: 'new', expires: seconds + 3 * 86_400 } }),
      );
      await doc.send(
        new PutCommand({ TableName: 'events', Item: { id: 'text', expires: 'soon' } }),
      );
      const removed = await waitForValue(async () => {
        const r = (await records()).find((x) => x.eventName === 'REMOVE');
        return r;
      }, 'the TTL sweep to remove the expired item');
      assert.deepEqual(removed.dynamodb.Keys, { id: { S: 'old' } });
      assert.deepEqual(removed.userIdentity, {
        type: 'Service',
        principalId: 'dynamodb.amazonaws.com',
      });
      const gone = await doc.send(new GetCommand({ TableName: 'events', Key: { id: 'old' } }));
      assert.equal(gone.Item, undefined);
      for (const id of ['new', 'text']) {
        const kept = await doc.send(new GetCommand({ TableName: 'events', Key: { id } }));
        assert.ok(kept.Item, id);
      }
      const wrongName = await failure(() =>
        client.send(
          new UpdateTimeToLiveCommand({
            TableName: 'events',
            TimeToLiveSpecification: { Enabled: false, AttributeName: 'other' },
          }),
        ),
      );
      assert.match(wrongName.message, /different AttributeName/);
    });

    test('the DynamoDB Streams API through @aws-sdk/client-dynamodb-streams', async () => {
      const streamsAt = (offset: number) =>
        new DynamoDBStreamsClient({
          ...p.clientConfig(),
          systemClockOffset: offset,
        });
      const streams = streamsAt(0);
      const listed = await streams.send(new ListStreamsCommand({ TableName: 'events' }));
      assert.equal(listed.Streams?.length, 2);
      assert.ok(listed.Streams?.some((s) => s.StreamArn === arn && s.TableName === 'events'));
      const described = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));
      const d = described.StreamDescription!;
      assert.equal(d.StreamStatus, 'ENABLED');
      assert.equal(d.StreamViewType, 'KEYS_ONLY');
      assert.deepEqual(d.KeySchema, [{ AttributeName: 'id', KeyType: 'HASH' }]);
      const shardId = d.Shards?.[0]?.ShardId;
      const iterator = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: arn,
          ShardId: shardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      const first = await streams.send(
        new GetRecordsCommand({ ShardIterator: iterator.ShardIterator, Limit: 1 }),
      );
      assert.equal(first.Records?.length, 1);
      assert.equal(first.Records?.[0]?.eventName, 'INSERT');
      assert.deepEqual(first.Records?.[0]?.dynamodb?.Keys, { id: { S: 'loud' } });
      assert.ok(first.Records?.[0]?.dynamodb?.ApproximateCreationDateTime instanceof Date);
      const rest = await streams.send(
        new GetRecordsCommand({ ShardIterator: first.NextShardIterator }),
      );
      const latest = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: arn,
          ShardId: shardId,
          ShardIteratorType: 'LATEST',
        }),
      );
      await doc.send(new PutCommand({ TableName: 'events', Item: { id: 'via-api' } }));
      const fresh = await streams.send(
        new GetRecordsCommand({ ShardIterator: latest.ShardIterator }),
      );
      assert.deepEqual(
        fresh.Records?.map((r) => r.dynamodb?.Keys?.id?.S),
        ['via-api'],
      );
      const tail = await streams.send(
        new GetRecordsCommand({ ShardIterator: rest.NextShardIterator }),
      );
      assert.equal(tail.Records?.at(-1)?.dynamodb?.Keys?.id?.S, 'via-api');
      const after1 = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: arn,
          ShardId: shardId,
          ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
          SequenceNumber: first.Records?.[0]?.dynamodb?.SequenceNumber,
        }),
      );
      const fromAfter = await streams.send(
        new GetRecordsCommand({ ShardIterator: after1.ShardIterator }),
      );
      assert.equal(
        fromAfter.Records?.[0]?.dynamodb?.SequenceNumber,
        rest.Records?.[0]?.dynamodb?.SequenceNumber ?? tail.Records?.[0]?.dynamodb?.SequenceNumber,
      );
      const badShard = await failure(() =>
        streams.send(
          new GetShardIteratorCommand({
            StreamArn: arn,
            ShardId: 'shardId-nope-00000000000000000',
            ShardIteratorType: 'LATEST',
          }),
        ),
      );
      assert.equal(badShard.name, 'ResourceNotFoundException');
      now += 16 * 60 * 1000;
      const later = streamsAt(16 * 60 * 1000);
      const expired = await failure(() =>
        later.send(new GetRecordsCommand({ ShardIterator: latest.ShardIterator })),
      );
      assert.equal(expired.name, 'ExpiredIteratorException');
      now -= 16 * 60 * 1000;
      later.destroy();
      streams.destroy();
    });

    test('stream records are trimmed after 24 hours', async () => {
      assert.ok((await records()).length > 0);
      now += 25 * 60 * 60 * 1000;
      assert.equal((await records()).length, 0, 'past retention is not read');
      await p.platform.dynamodbStreams.trim();
      now -= 25 * 60 * 60 * 1000;
      assert.equal((await records()).length, 0, 'and is deleted');
    });
  });
