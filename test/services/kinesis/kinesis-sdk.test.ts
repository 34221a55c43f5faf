/**
 * Every supported Kinesis operation through the official @aws-sdk/client-kinesis (AWS JSON
 * 1.1), against a platform started in-process, on SQLite, on PostgreSQL, and with the records
 * in NATS JetStream (`--nats-url`). Shards are checked
 * against MD5 hash key ranges computed here, independently of the platform's code. Time moves
 * by the platform's injected clock: retention and iterator expiry need no sleeping.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  AddTagsToStreamCommand,
  CreateStreamCommand,
  DecreaseStreamRetentionPeriodCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  IncreaseStreamRetentionPeriodCommand,
  KinesisClient,
  ListShardsCommand,
  ListStreamsCommand,
  ListTagsForStreamCommand,
  PutRecordCommand,
  PutRecordsCommand,
  RemoveTagsFromStreamCommand,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import { failure } from '../s3/s3-platform.js';
import { type KinesisPlatform, kinesisVariants, startKinesisPlatform } from './kinesis-platform.js';

const account = '000000000000';
const arnOf = (name: string) => `arn:aws:kinesis:us-east-1:${account}:stream/${name}`;
const space = 1n << 128n;
/** The shard Kinesis puts a partition key in, for a stream of `count` even shards. */
const expectedShard = (key: string, count: number) => {
  const hash = BigInt(`0x${createHash('md5').update(key).digest('hex')}`);
  const index = Math.min(Number(hash / (space / BigInt(count))), count - 1);
  return `shardId-${String(index).padStart(12, '0')}`;
};
const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

for (const variant of kinesisVariants)
  describe(`Kinesis through @aws-sdk/client-kinesis on ${variant.name}`, () => {
    let k: KinesisPlatform;
    let client: KinesisClient;

    before(async () => {
      k = await startKinesisPlatform(variant);
      client = k.client();
    });
    after(async () => {
      client?.destroy();
      await k?.close();
    });

    /** Moves the platform's clock on; the client signs at the platform's time. */
    const advance = (ms: number) => {
      k.clock.advance(ms);
      client.destroy();
      client = k.client();
    };
    const iterator = async (
      StreamName: string,
      ShardId: string,
      ShardIteratorType: ShardIteratorType,
      extra: Record<string, unknown> = {},
    ) =>
      (
        await client.send(
          new GetShardIteratorCommand({ StreamName, ShardId, ShardIteratorType, ...extra }),
        )
      ).ShardIterator!;

    test("the client's default HTTP/2 handler (h2c on the platform's port) works too", async () => {
      const h2 = new KinesisClient({
        endpoint: k.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: k.key.id, secretAccessKey: k.key.secret },
        maxAttempts: 1,
        // Runs first, before the tests move the platform's clock on: this client keeps Node's
        // HTTP/2 Date header, from which the SDK corrects its signing time.
      });
      try {
        await h2.send(new CreateStreamCommand({ StreamName: 'over-h2', ShardCount: 1 }));
        const big = new Uint8Array(300_000).fill(7);
        const put = await h2.send(
          new PutRecordCommand({ StreamName: 'over-h2', PartitionKey: 'p', Data: big }),
        );
        const it = await h2.send(
          new GetShardIteratorCommand({
            StreamName: 'over-h2',
            ShardId: put.ShardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        );
        const got = await h2.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
        assert.deepEqual(got.Records?.[0]?.Data, big);
        const missing = await failure(() =>
          h2.send(new DescribeStreamSummaryCommand({ StreamName: 'not-there' })),
        );
        assert.equal(missing.name, 'ResourceNotFoundException');
      } finally {
        h2.destroy();
      }
    });

    test('streams: create, describe, summary, list, list shards, delete', async () => {
      await client.send(new CreateStreamCommand({ StreamName: 'orders', ShardCount: 3 }));
      await client.send(
        new CreateStreamCommand({
          StreamName: 'events',
          StreamModeDetails: { StreamMode: 'ON_DEMAND' },
        }),
      );
      const { StreamDescription: d } = await client.send(
        new DescribeStreamCommand({ StreamName: 'orders' }),
      );
      assert.equal(d?.StreamARN, arnOf('orders'));
      assert.equal(d?.StreamStatus, 'ACTIVE');
      assert.equal(d?.StreamModeDetails?.StreamMode, 'PROVISIONED');
      assert.equal(d?.RetentionPeriodHours, 24);
      assert.ok(d?.StreamCreationTimestamp instanceof Date);
      assert.equal(d?.Shards?.length, 3);
      // The shards split the hash key space evenly, without gaps, to 2^128-1.
      let next = 0n;
      for (const s of d?.Shards ?? []) {
        assert.equal(BigInt(s.HashKeyRange!.StartingHashKey!), next);
        next = BigInt(s.HashKeyRange!.EndingHashKey!) + 1n;
      }
      assert.equal(next, space);
      assert.deepEqual(
        d?.Shards?.map((s) => s.ShardId),
        ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002'],
      );

      const summary = await client.send(
        new DescribeStreamSummaryCommand({ StreamARN: arnOf('events') }),
      );
      assert.equal(summary.StreamDescriptionSummary?.StreamModeDetails?.StreamMode, 'ON_DEMAND');
      assert.equal(summary.StreamDescriptionSummary?.OpenShardCount, 4);

      const page = await client.send(new ListStreamsCommand({ Limit: 1 }));
      assert.deepEqual(page.StreamNames, ['events']);
      assert.equal(page.HasMoreStreams, true);
      const rest = await client.send(new ListStreamsCommand({ NextToken: page.NextToken }));
      assert.ok(rest.StreamNames?.includes('orders'));
      assert.equal(
        rest.StreamSummaries?.find((s) => s.StreamName === 'orders')?.StreamARN,
        arnOf('orders'),
      );

      const shards = await client.send(
        new ListShardsCommand({ StreamName: 'events', MaxResults: 3 }),
      );
      assert.equal(shards.Shards?.length, 3);
      const more = await client.send(new ListShardsCommand({ NextToken: shards.NextToken }));
      assert.deepEqual(
        more.Shards?.map((s) => s.ShardId),
        ['shardId-000000000003'],
      );
      assert.equal(more.NextToken, undefined);

      const dup = await failure(() =>
        client.send(new CreateStreamCommand({ StreamName: 'orders', ShardCount: 1 })),
      );
      assert.equal(dup.name, 'ResourceInUseException');
      assert.equal(dup.$metadata.httpStatusCode, 400);

      await client.send(new DeleteStreamCommand({ StreamName: 'events' }));
      const gone = await failure(() =>
        client.send(new DescribeStreamSummaryCommand({ StreamName: 'events' })),
      );
      assert.equal(gone.name, 'ResourceNotFoundException');
      assert.match(gone.message, /Stream events under account 000000000000 not found/);
    });

    test('records go to the shard of their MD5 hash key, in sequence order per shard', async () => {
      await client.send(new CreateStreamCommand({ StreamName: 'placed', ShardCount: 4 }));
      const keys = Array.from({ length: 24 }, (_, i) => `device-${i}`);
      const put: { key: string; shard: string; seq: string }[] = [];
      for (const key of keys) {
        const r = await client.send(
          new PutRecordCommand({ StreamName: 'placed', PartitionKey: key, Data: text(`v-${key}`) }),
        );
        assert.equal(r.ShardId, expectedShard(key, 4), key);
        assert.match(r.SequenceNumber!, /^\d{56}$/);
        put.push({ key, shard: r.ShardId!, seq: r.SequenceNumber! });
      }
      for (const shard of new Set(put.map((p) => p.shard))) {
        const seqs = put.filter((p) => p.shard === shard).map((p) => BigInt(p.seq));
        assert.deepEqual(
          seqs,
          [...seqs].sort((a, b) => (a < b ? -1 : 1)),
        );
        const got = await client.send(
          new GetRecordsCommand({ ShardIterator: await iterator('placed', shard, 'TRIM_HORIZON') }),
        );
        assert.deepEqual(
          got.Records?.map((r) => [r.PartitionKey, decode(r.Data), r.SequenceNumber]),
          put.filter((p) => p.shard === shard).map((p) => [p.key, `v-${p.key}`, p.seq]),
        );
        assert.equal(got.MillisBehindLatest, 0);
        assert.ok(got.Records?.[0]?.ApproximateArrivalTimestamp instanceof Date);
      }
      // ExplicitHashKey wins over the partition key.
      const explicit = await client.send(
        new PutRecordCommand({
          StreamName: 'placed',
          PartitionKey: 'device-0',
          ExplicitHashKey: String(space - 1n),
          Data: text('last'),
        }),
      );
      assert.equal(explicit.ShardId, 'shardId-000000000003');
      const binary = new Uint8Array([0, 255, 1, 254, 10, 13]);
      const b = await client.send(
        new PutRecordCommand({
          StreamName: 'placed',
          PartitionKey: 'x',
          ExplicitHashKey: '0',
          Data: binary,
        }),
      );
      assert.equal(b.ShardId, 'shardId-000000000000');
      const after = await client.send(
        new GetRecordsCommand({
          ShardIterator: await iterator('placed', 'shardId-000000000000', 'AT_SEQUENCE_NUMBER', {
            StartingSequenceNumber: b.SequenceNumber,
          }),
        }),
      );
      assert.deepEqual(after.Records?.[0]?.Data, binary);
    });

    test('PutRecords answers per record, in order', async () => {
      await client.send(new CreateStreamCommand({ StreamName: 'batch', ShardCount: 2 }));
      const records = Array.from({ length: 50 }, (_, i) => ({
        PartitionKey: `k${i % 7}`,
        Data: text(`r${i}`),
      }));
      const r = await client.send(new PutRecordsCommand({ StreamName: 'batch', Records: records }));
      assert.equal(r.FailedRecordCount, 0);
      assert.equal(r.Records?.length, 50);
      for (const [i, res] of (r.Records ?? []).entries()) {
        assert.equal(res.ShardId, expectedShard(`k${i % 7}`, 2));
      }
      const read = async (shard: string) =>
        (
          await client.send(
            new GetRecordsCommand({
              ShardIterator: await iterator('batch', shard, 'TRIM_HORIZON'),
            }),
          )
        ).Records?.map((x) => decode(x.Data));
      for (const shard of ['shardId-000000000000', 'shardId-000000000001']) {
        assert.deepEqual(
          await read(shard),
          records.filter((_, i) => r.Records?.[i]?.ShardId === shard).map((x) => decode(x.Data)),
        );
      }
    });

    test('shard iterators: LATEST, AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP, paging, expiry', async () => {
      await client.send(new CreateStreamCommand({ StreamName: 'iter', ShardCount: 1 }));
      const shard = 'shardId-000000000000';
      const put = async (d: string) =>
        (
          await client.send(
            new PutRecordCommand({ StreamName: 'iter', PartitionKey: 'p', Data: text(d) }),
          )
        ).SequenceNumber!;
      const first = await put('a');
      const latest = await iterator('iter', shard, 'LATEST');
      advance(1000);
      const middle = k.clock.now();
      const second = await put('b');
      await put('c');
      const fromLatest = await client.send(new GetRecordsCommand({ ShardIterator: latest }));
      assert.deepEqual(
        fromLatest.Records?.map((r) => decode(r.Data)),
        ['b', 'c'],
      );
      const afterFirst = await iterator('iter', shard, 'AFTER_SEQUENCE_NUMBER', {
        StartingSequenceNumber: first,
      });
      const one = await client.send(new GetRecordsCommand({ ShardIterator: afterFirst, Limit: 1 }));
      assert.deepEqual(
        one.Records?.map((r) => r.SequenceNumber),
        [second],
      );
      assert.ok((one.MillisBehindLatest ?? 0) >= 0);
      const two = await client.send(
        new GetRecordsCommand({ ShardIterator: one.NextShardIterator, Limit: 1 }),
      );
      assert.deepEqual(
        two.Records?.map((r) => decode(r.Data)),
        ['c'],
      );
      const none = await client.send(
        new GetRecordsCommand({ ShardIterator: two.NextShardIterator }),
      );
      assert.deepEqual(none.Records, []);
      assert.ok(none.NextShardIterator);
      const atTime = await iterator('iter', shard, 'AT_TIMESTAMP', { Timestamp: new Date(middle) });
      const timed = await client.send(new GetRecordsCommand({ ShardIterator: atTime }));
      assert.deepEqual(
        timed.Records?.map((r) => decode(r.Data)),
        ['b', 'c'],
      );

      advance(5 * 60 * 1000 + 1);
      const expired = await failure(() =>
        client.send(new GetRecordsCommand({ ShardIterator: none.NextShardIterator })),
      );
      assert.equal(expired.name, 'ExpiredIteratorException');
    });

    test('retention: old records are not answered; retention can be raised and lowered', async () => {
      await client.send(new CreateStreamCommand({ StreamName: 'kept', ShardCount: 1 }));
      const shard = 'shardId-000000000000';
      await client.send(
        new PutRecordCommand({ StreamName: 'kept', PartitionKey: 'p', Data: text('old') }),
      );
      await client.send(
        new IncreaseStreamRetentionPeriodCommand({ StreamName: 'kept', RetentionPeriodHours: 48 }),
      );
      advance(30 * 3_600_000);
      const read = async () =>
        (
          await client.send(
            new GetRecordsCommand({ ShardIterator: await iterator('kept', shard, 'TRIM_HORIZON') }),
          )
        ).Records?.map((r) => decode(r.Data));
      assert.deepEqual(await read(), ['old']);
      await client.send(
        new DecreaseStreamRetentionPeriodCommand({ StreamName: 'kept', RetentionPeriodHours: 24 }),
      );
      assert.deepEqual(await read(), []);
      const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: 'kept' }));
      assert.equal(summary.StreamDescriptionSummary?.RetentionPeriodHours, 24);
      const wrongWay = await failure(() =>
        client.send(
          new IncreaseStreamRetentionPeriodCommand({
            StreamName: 'kept',
            RetentionPeriodHours: 12,
          }),
        ),
      );
      assert.equal(wrongWay.name, 'InvalidArgumentException');
      const shorter = await failure(() =>
        client.send(
          new DecreaseStreamRetentionPeriodCommand({
            StreamName: 'kept',
            RetentionPeriodHours: 48,
          }),
        ),
      );
      assert.equal(shorter.name, 'InvalidArgumentException');
    });

    test('tags: add, list, remove', async () => {
      await client.send(new CreateStreamCommand({ StreamName: 'tagged', ShardCount: 1 }));
      await client.send(
        new AddTagsToStreamCommand({ StreamName: 'tagged', Tags: { team: 'a', env: 'dev' } }),
      );
      const listed = await client.send(new ListTagsForStreamCommand({ StreamName: 'tagged' }));
      assert.deepEqual(listed.Tags, [
        { Key: 'env', Value: 'dev' },
        { Key: 'team', Value: 'a' },
      ]);
      assert.equal(listed.HasMoreTags, false);
      await client.send(
        new RemoveTagsFromStreamCommand({ StreamName: 'tagged', TagKeys: ['env'] }),
      );
      const after = await client.send(new ListTagsForStreamCommand({ StreamARN: arnOf('tagged') }));
      assert.deepEqual(after.Tags, [{ Key: 'team', Value: 'a' }]);
    });

    test('a PROVISIONED shard takes 1,000 records a second; the rest fail by record', async () => {
      await client.send(new CreateStreamCommand({ StreamName: 'narrow', ShardCount: 1 }));
      const batch = (n: number) =>
        client.send(
          new PutRecordsCommand({
            StreamName: 'narrow',
            Records: Array.from({ length: n }, (_, i) => ({
              PartitionKey: 'p',
              Data: text(`${i}`),
            })),
          }),
        );
      assert.equal((await batch(500)).FailedRecordCount, 0);
      assert.equal((await batch(499)).FailedRecordCount, 0);
      const over = await batch(3);
      assert.equal(over.FailedRecordCount, 2);
      assert.equal(over.Records?.[0]?.ErrorCode, undefined);
      assert.equal(over.Records?.[1]?.ErrorCode, 'ProvisionedThroughputExceededException');
      const single = await failure(() =>
        client.send(
          new PutRecordCommand({ StreamName: 'narrow', PartitionKey: 'p', Data: text('x') }),
        ),
      );
      assert.equal(single.name, 'ProvisionedThroughputExceededException');
      advance(1000);
      assert.equal((await batch(1)).FailedRecordCount, 0);
    });

    test('bad input gets Kinesis errors', async () => {
      await client.send(new CreateStreamCommand({ StreamName: 'strict', ShardCount: 1 }));
      const MiB = 1024 * 1024;
      const cases: [() => Promise<unknown>, string, RegExp?][] = [
        [
          () =>
            client.send(
              new PutRecordCommand({ StreamName: 'nope', PartitionKey: 'p', Data: text('x') }),
            ),
          'ResourceNotFoundException',
        ],
        [
          () =>
            client.send(
              new PutRecordCommand({
                StreamName: 'strict',
                PartitionKey: 'p',
                Data: new Uint8Array(MiB + 1),
              }),
            ),
          'ValidationException',
          /less than or equal to 1048576/,
        ],
        [
          () =>
            client.send(
              new PutRecordCommand({
                StreamName: 'strict',
                PartitionKey: 'pp',
                Data: new Uint8Array(MiB - 1),
              }),
            ),
          'InvalidArgumentException',
          /exceeds the limit/,
        ],
        [
          () =>
            client.send(
              new PutRecordCommand({ StreamName: 'strict', PartitionKey: '', Data: text('x') }),
            ),
          'ValidationException',
          /greater than or equal to 1/,
        ],
        [
          () =>
            client.send(
              new PutRecordCommand({
                StreamName: 'strict',
                PartitionKey: 'k'.repeat(257),
                Data: text('x'),
              }),
            ),
          'ValidationException',
          /less than or equal to 256/,
        ],
        [
          () =>
            client.send(
              new PutRecordCommand({
                StreamName: 'strict',
                PartitionKey: 'p',
                ExplicitHashKey: String(space),
                Data: text('x'),
              }),
            ),
          'InvalidArgumentException',
          /ExplicitHashKey/,
        ],
        [
          () =>
            client.send(
              new PutRecordsCommand({
                StreamName: 'strict',
                Records: Array.from({ length: 501 }, () => ({
                  PartitionKey: 'p',
                  Data: text('x'),
                })),
              }),
            ),
          'ValidationException',
          /less than or equal to 500/,
        ],
        [
          () =>
            client.send(
              new PutRecordsCommand({
                StreamName: 'strict',
                // Five records of just under 1 MiB and one small one: 5 MiB + 11 bytes.
                Records: [
                  ...Array.from({ length: 5 }, () => ({
                    PartitionKey: 'p',
                    Data: new Uint8Array(MiB - 10),
                  })),
                  { PartitionKey: 'p', Data: new Uint8Array(60) },
                ],
              }),
            ),
          'InvalidArgumentException',
          /5242880/,
        ],
        [
          () => client.send(new PutRecordsCommand({ StreamName: 'strict', Records: [] })),
          'ValidationException',
        ],
        [
          () => client.send(new CreateStreamCommand({ StreamName: 'bad name!', ShardCount: 1 })),
          'ValidationException',
          /regular expression/,
        ],
        [
          () => client.send(new CreateStreamCommand({ StreamName: 'zero', ShardCount: 0 })),
          'ValidationException',
        ],
        [
          () =>
            client.send(
              new CreateStreamCommand({
                StreamName: 'mixed',
                ShardCount: 2,
                StreamModeDetails: { StreamMode: 'ON_DEMAND' },
              }),
            ),
          'InvalidArgumentException',
        ],
        [
          () => client.send(new CreateStreamCommand({ StreamName: 'huge', ShardCount: 100_000 })),
          'LimitExceededException',
        ],
        [
          () => client.send(new GetRecordsCommand({ ShardIterator: 'not-an-iterator' })),
          'InvalidArgumentException',
          /ShardIterator/,
        ],
        [
          () =>
            client.send(
              new GetShardIteratorCommand({
                StreamName: 'strict',
                ShardId: 'shardId-000000000009',
                ShardIteratorType: 'TRIM_HORIZON',
              }),
            ),
          'InvalidArgumentException',
          /Could not find shard/,
        ],
        [
          () =>
            client.send(
              new GetShardIteratorCommand({
                StreamName: 'strict',
                ShardId: 'shardId-000000000000',
                ShardIteratorType: 'AT_SEQUENCE_NUMBER',
                StartingSequenceNumber: '12345',
              }),
            ),
          'InvalidArgumentException',
          /did not come from this stream/,
        ],
        [
          () =>
            client.send(
              new GetShardIteratorCommand({
                StreamName: 'strict',
                ShardId: 'shardId-000000000000',
                ShardIteratorType: 'SOMEWHERE' as ShardIteratorType,
              }),
            ),
          'ValidationException',
        ],
        [() => client.send(new DescribeStreamSummaryCommand({})), 'InvalidArgumentException'],
        [
          () =>
            client.send(
              new DescribeStreamSummaryCommand({
                StreamARN: 'arn:aws:kinesis:us-east-1:111111111111:stream/strict',
              }),
            ),
          'InvalidArgumentException',
        ],
      ];
      for (const [run, code, message] of cases) {
        const e = await failure(run);
        assert.equal(e.name, code, `${e.name}: ${e.message}`);
        assert.equal(e.$metadata.httpStatusCode, 400);
        if (message) assert.match(e.message, message);
      }
      // Nothing was written to the stream by any of them.
      const read = await client.send(
        new GetRecordsCommand({
          ShardIterator: await iterator('strict', 'shardId-000000000000', 'TRIM_HORIZON'),
        }),
      );
      assert.deepEqual(read.Records, []);
    });

    test('a CBOR body (the Java SDK default) is refused, signed or not', async () => {
      const cbor = k.client();
      // Rewritten before signing, as a CBOR client sends it: a CBOR map {"StreamName": "x"}.
      cbor.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { headers: Record<string, string>; body: unknown };
          request.headers['content-type'] = 'application/x-amz-cbor-1.1';
          request.body = Buffer.from('a16a53747265616d4e616d656178', 'hex');
          request.headers['content-length'] = String((request.body as Buffer).length);
          return next(args);
        },
        { step: 'build' },
      );
      const e = await failure(() => cbor.send(new ListStreamsCommand({})));
      cbor.destroy();
      assert.equal(e.name, 'SerializationException');
      assert.equal(e.$metadata.httpStatusCode, 400);
    });

    test('an unknown key or a bad signature is refused', async () => {
      const stranger = k.client({ credentials: { accessKeyId: 'AKIDNOPE', secretAccessKey: 'x' } });
      const e = await failure(() => stranger.send(new ListStreamsCommand({})));
      assert.equal(e.name, 'UnrecognizedClientException');
      stranger.destroy();
      const forger = k.client({ credentials: { accessKeyId: k.key.id, secretAccessKey: 'wrong' } });
      const f = await failure(() => forger.send(new ListStreamsCommand({})));
      assert.equal(f.name, 'InvalidSignatureException');
      forger.destroy();
    });
  });
