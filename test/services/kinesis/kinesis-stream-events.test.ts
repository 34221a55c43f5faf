/**
 * Kinesis `stream` events end to end on a running platform, on SQLite and PostgreSQL, and with
 * the records (and the async queue) on NATS JetStream (`--nats-url`, one prefix per suite kept
 * across the restart, its streams deleted at the end): streams
 * from serverless.yml `resources`, functions mapped to them through `Fn::GetAtt [S, Arn]` and a
 * plain ARN, records put with @aws-sdk/client-kinesis, real function processes receiving
 * Lambda's Kinesis record shape. Records of a shard arrive in order, also across a platform
 * restart; a function puts records with the platform's client-kinesis as is (HTTP/2); a reported
 * item failure is retried from that item; a failing batch is bisected and,
 * retries spent, reported to the onFailure SQS queue with KinesisBatchInfo.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DescribeStreamSummaryCommand,
  KinesisClient,
  PutRecordCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  InvokeCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type RestartableAwsPlatform, restartableAwsPlatform } from '../../helpers/aws-platform.js';
import { sdkSkip } from '../../helpers/function-reach.js';
import { testNatsUrl, uniqueNatsPrefix } from '../../helpers/nats.js';
import { runCli } from '../../helpers/run-cli.js';
import { waitForValue, waitUntil } from '../../helpers/wait-for.js';
import { failure } from '../s3/s3-platform.js';
import { dropNatsPrefix, kinesisVariants } from './kinesis-platform.js';

const account = '000000000000';
const arnOf = (name: string) => `arn:aws:kinesis:us-east-1:${account}:stream/${name}`;

const handler = `
const fs = require('node:fs');
const out = (name, event) =>
  fs.appendFileSync(process.env.OUT + '/' + name + '.jsonl', JSON.stringify(event) + '\\n');
const once = (tag) => {
  const marker = process.env.OUT + '/' + tag + '.done';
  if (fs.existsSync(marker)) return false;
  fs.writeFileSync(marker, '');
  return true;
};
const body = (r) => JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString('utf8'));
exports.consume = async (event) => {
  out('consume', event);
  // A record marked poison fails the first time it is seen, reported by item.
  const poison = event.Records.find((r) => body(r).poison && once(body(r).id));
  return { batchItemFailures: poison ? [{ itemIdentifier: poison.kinesis.sequenceNumber }] : [] };
};
// A producer using the platform's client-kinesis as is: HTTP/2, endpoint and keys from the env.
exports.produce = async (event) => {
  const { KinesisClient, PutRecordCommand } = require('@aws-sdk/client-kinesis');
  const client = new KinesisClient({});
  const put = await client.send(
    new PutRecordCommand({
      StreamName: 'kev-readings',
      PartitionKey: event.id,
      Data: Buffer.from(JSON.stringify({ id: event.id })),
    }),
  );
  client.destroy();
  return put.SequenceNumber;
};
exports.fan = async (event) => {
  out('fan', event);
  // Slow enough for the lanes' batches to overlap.
  await new Promise((r) => setTimeout(r, 50));
};
exports.strict = async (event) => {
  out('strict', event);
  if (event.Records.some((r) => body(r).bad)) throw new Error('bad record in batch');
};
`;

interface Rec {
  kinesis: {
    kinesisSchemaVersion: string;
    partitionKey: string;
    sequenceNumber: string;
    data: string;
    approximateArrivalTimestamp: number;
  };
  eventSource: string;
  eventVersion: string;
  eventID: string;
  eventName: string;
  eventSourceARN: string;
  awsRegion: string;
  invokeIdentityArn: string;
}

const idOf = (r: Rec) =>
  (JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString()) as { id: string }).id;

for (const variant of kinesisVariants)
  describe(`kinesis stream events on ${variant.name}`, () => {
    let aws: RestartableAwsPlatform;
    let kinesis: KinesisClient;
    let sqs: SQSClient;
    let outDir: string;
    const natsPrefix = variant.nats ? uniqueNatsPrefix() : undefined;

    const seen = async (fn: string): Promise<Rec[][]> => {
      const text = await readFile(join(outDir, `${fn}.jsonl`), 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { Records: Rec[] }).Records);
    };
    const ids = async (fn: string, prefix: string) =>
      (await seen(fn))
        .flat()
        .map(idOf)
        .filter((id) => id.startsWith(prefix));
    const put = (stream: string, id: string, partitionKey = id, extra: object = {}) =>
      kinesis.send(
        new PutRecordCommand({
          StreamName: stream,
          PartitionKey: partitionKey,
          Data: new TextEncoder().encode(JSON.stringify({ id, ...extra })),
        }),
      );

    before(async () => {
      aws = await restartableAwsPlatform(variant, {
        label: 'kinesis stream events',
        ...(natsPrefix
          ? {
              options: { natsUrl: testNatsUrl, natsPrefix },
              cleanup: () => dropNatsPrefix(natsPrefix),
            }
          : {}),
        clients: (config) => {
          // client-kinesis's default: HTTP/2 with prior knowledge (docs/kinesis.md#clients).
          kinesis = new KinesisClient(config);
          sqs = new SQSClient(config);
          return () => {
            kinesis.destroy();
            sqs.destroy();
          };
        },
      });
      // Functions run as their stage's own uid: the output directory is theirs to write.
      outDir = join(aws.dir, 'out');
      await mkdir(outDir);
      await chmod(outDir, 0o777);
      await sqs.send(new CreateQueueCommand({ QueueName: 'kinesis-failures' }));
      await aws.deploy({
        'handler.js': handler,
        'serverless.yml': [
          'service: kev',
          'provider:',
          '  name: aws',
          '  runtime: nodejs20.x',
          '  environment:',
          `    OUT: ${outDir}`,
          'functions:',
          '  consume:',
          '    handler: handler.consume',
          '    events:',
          '      - stream:',
          '          type: kinesis',
          '          arn: !GetAtt [Readings, Arn]',
          '          batchSize: 5',
          '          startingPosition: TRIM_HORIZON',
          '          functionResponseType: ReportBatchItemFailures',
          '  produce:',
          '    handler: handler.produce',
          '  fan:',
          '    handler: handler.fan',
          '    events:',
          '      - stream:',
          '          type: kinesis',
          '          arn: !GetAtt [Fan, Arn]',
          '          batchSize: 3',
          '          parallelizationFactor: 4',
          '  strict:',
          '    handler: handler.strict',
          '    events:',
          '      - stream:',
          `          arn: ${arnOf('kev-audit')}`,
          '          batchSize: 10',
          '          maximumBatchingWindow: 2',
          '          bisectBatchOnFunctionError: true',
          '          maximumRetryAttempts: 1',
          '          filterPatterns:',
          '            - data: {kind: [audit]}',
          '          destinations:',
          `            onFailure: arn:aws:sqs:us-east-1:${account}:kinesis-failures`,
          'resources:',
          '  Resources:',
          '    Readings:',
          '      Type: AWS::Kinesis::Stream',
          '      Properties:',
          '        Name: kev-readings',
          '        ShardCount: 2',
          '        RetentionPeriodHours: 48',
          '    Fan:',
          '      Type: AWS::Kinesis::Stream',
          '      Properties:',
          '        Name: kev-fan',
          '        ShardCount: 1',
          '    Audit:',
          '      Type: AWS::Kinesis::Stream',
          '      Properties:',
          '        Name: kev-audit',
          '        ShardCount: 1',
          '',
        ].join('\n'),
      });
    });
    after(() => aws?.close());

    test('the streams made from resources have their properties', async () => {
      const { StreamDescriptionSummary: s } = await kinesis.send(
        new DescribeStreamSummaryCommand({ StreamName: 'kev-readings' }),
      );
      assert.equal(s?.StreamARN, arnOf('kev-readings'));
      assert.equal(s?.OpenShardCount, 2);
      assert.equal(s?.RetentionPeriodHours, 48);
    });

    test("the function receives Lambda's Kinesis record shape, in shard order", async () => {
      const sent: { id: string; pk: string; ShardId?: string; SequenceNumber?: string }[] = [];
      for (let i = 0; i < 12; i++) {
        const r = await put('kev-readings', `ord-${String(i).padStart(2, '0')}`, `dev-${i % 3}`);
        sent.push({ id: `ord-${String(i).padStart(2, '0')}`, pk: `dev-${i % 3}`, ...r });
      }
      const records = await waitForValue(
        async () => {
          const got = (await seen('consume')).flat().filter((r) => idOf(r).startsWith('ord-'));
          return new Set(got.map(idOf)).size === sent.length ? got : undefined;
        },
        'every record to arrive',
        30_000,
      );
      const first = records.find((r) => idOf(r) === 'ord-00')!;
      assert.deepEqual(Object.keys(first).sort(), [
        'awsRegion',
        'eventID',
        'eventName',
        'eventSource',
        'eventSourceARN',
        'eventVersion',
        'invokeIdentityArn',
        'kinesis',
      ]);
      assert.equal(first.eventSource, 'aws:kinesis');
      assert.equal(first.eventName, 'aws:kinesis:record');
      assert.equal(first.eventVersion, '1.0');
      assert.equal(first.awsRegion, 'us-east-1');
      assert.equal(first.eventSourceARN, arnOf('kev-readings'));
      assert.equal(first.kinesis.kinesisSchemaVersion, '1.0');
      assert.equal(first.kinesis.partitionKey, 'dev-0');
      assert.equal(first.kinesis.sequenceNumber, sent[0]!.SequenceNumber);
      assert.equal(first.eventID, `${sent[0]!.ShardId}:${sent[0]!.SequenceNumber}`);
      assert.equal(typeof first.kinesis.approximateArrivalTimestamp, 'number');
      // Within a shard, records come in the order they were put.
      for (const shard of new Set(sent.map((s) => s.ShardId))) {
        const want = sent.filter((s) => s.ShardId === shard).map((s) => s.id);
        const got = records.filter((r) => r.eventID.startsWith(`${shard}:`)).map(idOf);
        assert.deepEqual([...new Set(got)], want);
      }
    });

    test('a reported item failure is retried from that item; nothing after it is skipped', async () => {
      const keys = ['pf-1', 'pf-2', 'pf-3', 'pf-4'];
      // One partition key: one shard, one order.
      for (const id of keys)
        await put('kev-readings', id, 'same', id === 'pf-2' ? { poison: true } : {});
      await waitUntil(
        async () => {
          const got = await ids('consume', 'pf-');
          return got.filter((id) => id === 'pf-2').length === 2 && got.includes('pf-4');
        },
        'the reported failure to be retried',
        30_000,
      );
      const delivered = await ids('consume', 'pf-');
      assert.equal(delivered.filter((id) => id === 'pf-1').length, 1);
      assert.equal(delivered.filter((id) => id === 'pf-2').length, 2);
      const batches = (await seen('consume'))
        .map((b) => b.map(idOf))
        .filter((b) => b.some((id) => id.startsWith('pf-')));
      const retried = batches.filter((b) => b.includes('pf-2'))[1];
      assert.equal(retried?.[0], 'pf-2');
      assert.deepEqual([...new Set(delivered)], keys);
    });

    test('a failing batch is bisected; retries spent, its metadata goes to onFailure', async () => {
      // One PutRecords, so one batch: [ok-a, bad-b, ok-c, ok-d], plus one filtered out.
      await kinesis.send(
        new PutRecordsCommand({
          StreamName: 'kev-audit',
          Records: ['ok-a', 'bad-b', 'skip-x', 'ok-c', 'ok-d'].map((id) => ({
            PartitionKey: 'a',
            Data: new TextEncoder().encode(
              JSON.stringify({
                id,
                kind: id.startsWith('skip') ? 'other' : 'audit',
                ...(id.startsWith('bad') ? { bad: true } : {}),
              }),
            ),
          })),
        }),
      );
      const failure = await waitForValue(
        async () => {
          const got = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: `${aws.platform.url}/${account}/kinesis-failures`,
              WaitTimeSeconds: 1,
            }),
          );
          return got.Messages?.[0];
        },
        'the on-failure report',
        30_000,
      );
      const report = JSON.parse(failure.Body!) as {
        requestContext: { condition: string; functionArn: string };
        KinesisBatchInfo: { shardId: string; batchSize: number; streamArn: string };
      };
      assert.equal(report.requestContext.condition, 'RetryAttemptsExhausted');
      assert.match(report.requestContext.functionArn, /:function:kev-dev-strict/);
      assert.equal(report.KinesisBatchInfo.streamArn, arnOf('kev-audit'));
      assert.equal(report.KinesisBatchInfo.shardId, 'shardId-000000000000');
      // The failing half of the five read: ok-a, bad-b and skip-x, which the filter left out.
      assert.equal(report.KinesisBatchInfo.batchSize, 3, 'the failing half only');
      // ok-d was already in the whole batch: the healthy half is its second delivery.
      await waitUntil(
        async () => (await ids('strict', 'ok-')).filter((id) => id === 'ok-d').length >= 2,
        'the healthy half to be delivered',
        20_000,
      );
      const batches = (await seen('strict')).map((b) => b.map(idOf));
      assert.deepEqual(
        batches[0],
        ['ok-a', 'bad-b', 'ok-c', 'ok-d'],
        'filtered, whole batch first',
      );
      assert.deepEqual(batches[1], ['ok-a', 'bad-b'], 'then bisected');
      assert.deepEqual(batches.at(-1), ['ok-c', 'ok-d']);
    });

    test('a Kinesis mapping made through the Lambda API starts at LATEST', async () => {
      const lambda = new LambdaClient(aws.clientConfig());
      try {
        await assert.rejects(
          lambda.send(
            new CreateEventSourceMappingCommand({
              EventSourceArn: arnOf('no-such-stream'),
              FunctionName: 'kev-dev-consume',
              StartingPosition: 'LATEST',
            }),
          ),
          /Stream not found/,
        );
        const made = await lambda.send(
          new CreateEventSourceMappingCommand({
            EventSourceArn: arnOf('kev-audit'),
            FunctionName: 'kev-dev-consume',
            StartingPosition: 'LATEST',
            BatchSize: 3,
          }),
        );
        assert.equal(made.StartingPosition, 'LATEST');
        assert.equal(made.EventSourceArn, arnOf('kev-audit'));
        // LATEST: records put before the mapping ran are not delivered; later ones are.
        await new Promise((r) => setTimeout(r, 1000));
        await put('kev-audit', 'api-1', 'a', { kind: 'note' });
        await waitUntil(
          async () => (await ids('consume', 'api-')).includes('api-1'),
          'the API-made mapping to deliver',
          20_000,
        );
        assert.deepEqual(await ids('consume', 'ok-'), [], 'nothing from before LATEST');
        await lambda.send(new DeleteEventSourceMappingCommand({ UUID: made.UUID }));
      } finally {
        lambda.destroy();
      }
    });

    test('parallelizationFactor: batches of one shard overlap, each partition key in order', async () => {
      const devices = ['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7'];
      const records = Array.from({ length: 48 }, (_, i) => ({
        id: `fan-${devices[i % 8]}-${String(Math.floor(i / 8)).padStart(2, '0')}`,
        device: devices[i % 8]!,
      }));
      await kinesis.send(
        new PutRecordsCommand({
          StreamName: 'kev-fan',
          Records: records.map((r) => ({
            PartitionKey: r.device,
            Data: new TextEncoder().encode(JSON.stringify({ id: r.id })),
          })),
        }),
      );
      await waitUntil(
        async () => new Set(await ids('fan', 'fan-')).size === records.length,
        'every record to reach the parallel consumer',
        30_000,
      );
      const batches = await seen('fan');
      for (const b of batches) assert.ok(b.length <= 3, `a batch of ${b.length}`);
      // More batches than one lane of 3 would make: the shard was dealt to several lanes.
      const keysPerBatch = batches.map((b) => new Set(b.map((r) => r.kinesis.partitionKey)));
      assert.ok(keysPerBatch.every((k) => k.size <= 4));
      const delivered = batches.flat().map(idOf);
      for (const d of devices) {
        const mine = delivered.filter((id) => id.startsWith(`fan-${d}-`));
        assert.deepEqual(mine, [...mine].sort(), `records of ${d} in order`);
        assert.equal(new Set(mine).size, 6);
      }
    });

    test('AT_TIMESTAMP through the Lambda API reads from the first record at that time', async () => {
      const lambda = new LambdaClient(aws.clientConfig());
      try {
        await put('kev-fan', 'ts-before', 'ts');
        await new Promise((r) => setTimeout(r, 50));
        const at = new Date();
        await new Promise((r) => setTimeout(r, 50));
        await put('kev-fan', 'ts-after', 'ts');
        await assert.rejects(
          lambda.send(
            new CreateEventSourceMappingCommand({
              EventSourceArn: arnOf('kev-fan'),
              FunctionName: 'kev-dev-produce',
              StartingPosition: 'AT_TIMESTAMP',
            }),
          ),
          /startingPositionTimestamp is required/,
        );
        const made = await lambda.send(
          new CreateEventSourceMappingCommand({
            EventSourceArn: arnOf('kev-fan'),
            FunctionName: 'kev-dev-consume',
            StartingPosition: 'AT_TIMESTAMP',
            StartingPositionTimestamp: at,
            ParallelizationFactor: 2,
          }),
        );
        assert.equal(made.StartingPosition, 'AT_TIMESTAMP');
        assert.equal(made.StartingPositionTimestamp?.getTime(), at.getTime());
        assert.equal(made.ParallelizationFactor, 2);
        await waitUntil(
          async () => (await ids('consume', 'ts-')).includes('ts-after'),
          'the AT_TIMESTAMP mapping to deliver',
          20_000,
        );
        assert.deepEqual(await ids('consume', 'ts-'), ['ts-after'], 'nothing from before the time');
        await lambda.send(new DeleteEventSourceMappingCommand({ UUID: made.UUID }));
      } finally {
        lambda.destroy();
      }
    });

    test('a function puts a record with the SDK as is; the consumer function gets it', {
      skip: sdkSkip,
    }, async () => {
      const lambda = new LambdaClient(aws.clientConfig());
      try {
        const out = await lambda.send(
          new InvokeCommand({
            FunctionName: 'kev-dev-produce',
            Payload: new TextEncoder().encode(JSON.stringify({ id: 'fn-1' })),
          }),
        );
        const text = new TextDecoder().decode(out.Payload);
        assert.equal(out.FunctionError, undefined, text);
        assert.match(JSON.parse(text) as string, /^\d{56}$/);
        await waitUntil(
          async () => (await ids('consume', 'fn-')).includes('fn-1'),
          'the record put by a function to reach the consumer',
          20_000,
        );
      } finally {
        lambda.destroy();
      }
    });

    test('a bad stream resource or stream event is refused at deploy', async () => {
      const deploy = async (name: string, lines: string[]) => {
        const dir = join(aws.dir, name);
        await mkdir(dir);
        await writeFile(join(dir, 'handler.js'), handler);
        await writeFile(
          join(dir, 'serverless.yml'),
          [
            `service: ${name}`,
            'provider:',
            '  name: aws',
            '  runtime: nodejs20.x',
            ...lines,
            '',
          ].join('\n'),
        );
        return runCli(['deploy'], {
          cwd: dir,
          env: {
            HOME: join(aws.dir, 'home'),
            NIMBUS_ENDPOINT: aws.platform.url,
            NIMBUS_TOKEN: aws.platform.adminToken,
          },
        });
      };
      const zeroShards = await deploy('badshards', [
        'resources:',
        '  Resources:',
        '    S:',
        '      Type: AWS::Kinesis::Stream',
        '      Properties: {Name: bad-shards, ShardCount: 0}',
      ]);
      assert.notEqual(zeroShards.code, 0);
      assert.match(zeroShards.stderr + zeroShards.stdout, /ShardCount/);
      const wrongArn = await deploy('badarn', [
        'functions:',
        '  f:',
        '    handler: handler.consume',
        '    events:',
        '      - stream:',
        '          type: kinesis',
        `          arn: arn:aws:sqs:us-east-1:${account}:q`,
      ]);
      assert.notEqual(wrongArn.code, 0);
      assert.match(wrongArn.stderr + wrongArn.stdout, /not a Kinesis stream ARN/);
      const noTime = await deploy('badtime', [
        'functions:',
        '  f:',
        '    handler: handler.consume',
        '    events:',
        '      - stream:',
        `          arn: ${arnOf('kev-fan')}`,
        '          startingPosition: AT_TIMESTAMP',
      ]);
      assert.notEqual(noTime.code, 0);
      assert.match(
        noTime.stderr + noTime.stdout,
        /serverless\.yml:10:\d+ .*startingPositionTimestamp is required/,
      );
      const tooWide = await deploy('badfactor', [
        'functions:',
        '  f:',
        '    handler: handler.consume',
        '    events:',
        '      - stream:',
        `          arn: ${arnOf('kev-fan')}`,
        '          parallelizationFactor: 11',
      ]);
      assert.notEqual(tooWide.code, 0);
      assert.match(
        tooWide.stderr + tooWide.stdout,
        /serverless\.yml:\d+:\d+ .*parallelizationFactor must be an integer from 1 to 10/,
      );
      const summary = await failure(() =>
        kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'bad-shards' })),
      );
      assert.equal(summary.name, 'ResourceNotFoundException');
    });

    test('every record arrives in order across a platform restart', async () => {
      const keys = Array.from({ length: 30 }, (_, i) => `rs-${String(i).padStart(2, '0')}`);
      for (const id of keys.slice(0, 15)) await put('kev-readings', id, 'restart');
      // Close while records are still being delivered: the rest waits in the stream.
      await aws.restart();
      for (const id of keys.slice(15)) await put('kev-readings', id, 'restart');
      await waitUntil(
        async () => new Set(await ids('consume', 'rs-')).size === keys.length,
        'every record to be delivered after the restart',
        30_000,
      );
      // The checkpoint was durable: what was done before the restart is not delivered again.
      assert.equal((await ids('consume', 'pf-1')).length, 1);
      const delivered = await ids('consume', 'rs-');
      assert.deepEqual([...new Set(delivered)], keys);
      const seqs = (await seen('consume'))
        .flat()
        .filter((r) => idOf(r).startsWith('rs-'))
        .map((r) => BigInt(r.kinesis.sequenceNumber));
      for (let i = 1; i < seqs.length; i++) {
        if (seqs[i]! <= seqs[i - 1]!) {
          // Only a redelivery from the last checkpoint may go back, never past a record unseen.
          assert.ok(seqs.slice(0, i).includes(seqs[i]!), 'went back only to redeliver');
        }
      }
    });
  });
