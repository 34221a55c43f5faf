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
import { awsPlatformVariants } from '../../helpers/aws-platform.js';
import { type StageCallers, stageCallers } from '../../helpers/stage-callers.js';
import { failure } from '../s3/s3-platform.js';

const stream = (name: string) => ({
  Type: 'AWS::Kinesis::Stream',
  Properties: { Name: name, ShardCount: 1 },
});
const record = (StreamName: string) =>
  new PutRecordCommand({ StreamName, PartitionKey: 'k', Data: Buffer.from('x') });

for (const variant of awsPlatformVariants)
  describe(`Kinesis streams belong to their service stage (${variant.name})`, () => {
    let callers: StageCallers<KinesisClient>;

    before(async () => {
      callers = await stageCallers(variant, {
        label: 'kinesis-owners',
        client: (config) => new KinesisClient(config),
        resources: (stage) => ({ Feed: stream(`stage-${stage}-feed`) }),
      });
      await callers.admin.send(
        new CreateStreamCommand({ StreamName: 'shared-feed', ShardCount: 1 }),
      );
    });
    after(() => callers?.close());

    const denied = async (run: () => Promise<unknown>) => {
      const error = await failure(run);
      assert.equal(error.name, 'AccessDeniedException');
    };

    test("a stage's key writes and reads its own and shared streams", async () => {
      await callers.stageA.send(record('stage-a-feed'));
      await callers.stageA.send(record('shared-feed'));
      await callers.stageA.send(new DescribeStreamSummaryCommand({ StreamName: 'stage-a-feed' }));
    });

    test("another stage's stream is refused for reads and writes", async () => {
      await denied(() => callers.stageA.send(record('stage-b-feed')));
      await denied(() =>
        callers.stageA.send(new DescribeStreamSummaryCommand({ StreamName: 'stage-b-feed' })),
      );
      const arn = (
        await callers.admin.send(new DescribeStreamSummaryCommand({ StreamName: 'stage-b-feed' }))
      ).StreamDescriptionSummary!.StreamARN!;
      await denied(() =>
        callers.stageA.send(
          new GetShardIteratorCommand({
            StreamARN: arn,
            ShardId: 'shardId-000000000000',
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        ),
      );
    });

    test('ListStreams shows a stage only what it reaches; what it creates is its own', async () => {
      await callers.stageA.send(
        new CreateStreamCommand({ StreamName: 'made-by-a', ShardCount: 1 }),
      );
      const seen = await callers.stageA.send(new ListStreamsCommand({}));
      assert.deepEqual(seen.StreamNames, ['made-by-a', 'shared-feed', 'stage-a-feed']);
      const all = await callers.admin.send(new ListStreamsCommand({}));
      assert.equal(all.StreamNames?.length, 4);
      const stageB = await callers.stageClient('b');
      await denied(() => stageB.send(record('made-by-a')));
    });

    test('a read-only key reads every stream but writes none', async () => {
      await callers.readOnly.send(new DescribeStreamSummaryCommand({ StreamName: 'stage-b-feed' }));
      await denied(() => callers.readOnly.send(record('shared-feed')));
    });
  });
