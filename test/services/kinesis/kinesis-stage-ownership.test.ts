/**
 * Streams belong to the service stage whose deploy (or whose credentials) created them: a
 * `--service/--stage`-scoped key (what a function's session credentials are) reaches its own
 * stage's streams and shared ones, never another stage's (AccessDeniedException), reads and
 * writes alike; ListStreams shows only what it reaches; a `--read-only` key only reads. On
 * SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListStreamsCommand,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis';
import {
  type AwsPlatform,
  awsPlatformVariants,
  deployStageResources,
  makeKey,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { failure } from '../s3/s3-platform.js';

const stream = (name: string) => ({
  Type: 'AWS::Kinesis::Stream',
  Properties: { Name: name, ShardCount: 1 },
});
const record = (StreamName: string) =>
  new PutRecordCommand({ StreamName, PartitionKey: 'k', Data: Buffer.from('x') });

for (const variant of awsPlatformVariants)
  describe(`Kinesis streams belong to their service stage (${variant.name})`, () => {
    let p: AwsPlatform;
    const clients: KinesisClient[] = [];
    const clientOf = (key: { id: string; secret: string }) => {
      const c = new KinesisClient({
        endpoint: p.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
        maxAttempts: 1,
      });
      clients.push(c);
      return c;
    };
    let admin: KinesisClient;
    let stageA: KinesisClient;
    let readOnly: KinesisClient;

    before(async () => {
      p = await startAwsPlatform(variant, { label: 'kinesis-owners' });
      await deployStageResources(p.platform, 'a', { Feed: stream('stage-a-feed') });
      await deployStageResources(p.platform, 'b', { Feed: stream('stage-b-feed') });
      admin = clientOf(p.key);
      stageA = clientOf(await makeKey(p.platform, 'stage a', { service: 'svc', stage: 'a' }));
      readOnly = clientOf(await makeKey(p.platform, 'read-only', { readOnly: true }));
      await admin.send(new CreateStreamCommand({ StreamName: 'shared-feed', ShardCount: 1 }));
    });
    after(async () => {
      for (const c of clients) c.destroy();
      await p?.close();
    });

    const denied = async (run: () => Promise<unknown>) => {
      const error = await failure(run);
      assert.equal(error.name, 'AccessDeniedException');
    };

    test("a stage's key writes and reads its own and shared streams", async () => {
      await stageA.send(record('stage-a-feed'));
      await stageA.send(record('shared-feed'));
      await stageA.send(new DescribeStreamSummaryCommand({ StreamName: 'stage-a-feed' }));
    });

    test("another stage's stream is refused for reads and writes", async () => {
      await denied(() => stageA.send(record('stage-b-feed')));
      await denied(() =>
        stageA.send(new DescribeStreamSummaryCommand({ StreamName: 'stage-b-feed' })),
      );
      const arn = (
        await admin.send(new DescribeStreamSummaryCommand({ StreamName: 'stage-b-feed' }))
      ).StreamDescriptionSummary!.StreamARN!;
      await denied(() =>
        stageA.send(
          new GetShardIteratorCommand({
            StreamARN: arn,
            ShardId: 'shardId-000000000000',
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        ),
      );
    });

    test('ListStreams shows a stage only what it reaches; what it creates is its own', async () => {
      await stageA.send(new CreateStreamCommand({ StreamName: 'made-by-a', ShardCount: 1 }));
      const seen = await stageA.send(new ListStreamsCommand({}));
      assert.deepEqual(seen.StreamNames, ['made-by-a', 'shared-feed', 'stage-a-feed']);
      const all = await admin.send(new ListStreamsCommand({}));
      assert.equal(all.StreamNames?.length, 4);
      const stageB = clientOf(await makeKey(p.platform, 'stage b', { service: 'svc', stage: 'b' }));
      await denied(() => stageB.send(record('made-by-a')));
    });

    test('a read-only key reads every stream but writes none', async () => {
      await readOnly.send(new DescribeStreamSummaryCommand({ StreamName: 'stage-b-feed' }));
      await denied(() => readOnly.send(record('shared-feed')));
    });
  });
