/**
 * DynamoDB `stream` events end to end on a running platform, on SQLite and PostgreSQL: a table
 * from serverless.yml `resources` with a stream, functions mapped to it through
 * `Fn::GetAtt [Table, StreamArn]`, changes made with @aws-sdk/client-dynamodb, real function
 * processes receiving Lambda's DynamoDB stream record shape. Every change arrives in order,
 * also across a platform restart; a reported item failure is retried from that item; a failing
 * batch is bisected and, retries spent, reported to the onFailure SQS queue.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BatchWriteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  awsPlatformVariants,
  type RestartableAwsPlatform,
  restartableAwsPlatform,
} from '../../helpers/aws-platform.js';
import { waitForValue, waitUntil } from '../../helpers/wait-for.js';

const account = '000000000000';
const streamLabel = '1970-01-01T00:00:00.000';
const streamArnOf = (table: string) =>
  `arn:aws:dynamodb:us-east-1:${account}:table/${table}/stream/${streamLabel}`;

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
exports.changes = async (event) => {
  out('changes', event);
  // An item marked poison fails the first time it is seen, reported by item.
  const poison = event.Records.find(
    (r) => r.dynamodb.NewImage && r.dynamodb.NewImage.poison && once(r.dynamodb.Keys.id.S),
  );
  return { batchItemFailures: poison ? [{ itemIdentifier: poison.dynamodb.SequenceNumber }] : [] };
};
exports.strict = async (event) => {
  out('strict', event);
  if (event.Records.some((r) => r.dynamodb.NewImage && r.dynamodb.NewImage.bad)) {
    throw new Error('bad record in batch');
  }
};
`;

interface Rec {
  eventName: string;
  eventSourceARN: string;
  dynamodb: {
    Keys: { id: { S: string } };
    NewImage?: Record<string, { S?: string; N?: string }>;
    SequenceNumber: string;
  };
}

for (const variant of awsPlatformVariants)
  describe(`dynamodb stream events on ${variant.name}`, () => {
    let aws: RestartableAwsPlatform;
    let ddb: DynamoDBClient;
    let sqs: SQSClient;
    let outDir: string;

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
        .map((r) => r.dynamodb.Keys.id.S)
        .filter((id) => id.startsWith(prefix));
    const put = (table: string, id: string, extra: Record<string, { S: string }> = {}) =>
      ddb.send(new PutItemCommand({ TableName: table, Item: { id: { S: id }, ...extra } }));

    before(async () => {
      aws = await restartableAwsPlatform(variant, {
        label: 'dynamodb stream events',
        clients: (config) => {
          ddb = new DynamoDBClient(config);
          sqs = new SQSClient(config);
          return () => {
            ddb.destroy();
            sqs.destroy();
          };
        },
      });
      // Functions run as their stage's own uid: the output directory is theirs to write.
      outDir = join(aws.dir, 'out');
      await mkdir(outDir);
      await chmod(outDir, 0o777);
      await sqs.send(new CreateQueueCommand({ QueueName: 'stream-failures' }));
      const table = (logical: string, name: string) => [
        `    ${logical}:`,
        '      Type: AWS::DynamoDB::Table',
        '      Properties:',
        `        TableName: ${name}`,
        '        BillingMode: PAY_PER_REQUEST',
        '        AttributeDefinitions: [{AttributeName: id, AttributeType: S}]',
        '        KeySchema: [{AttributeName: id, KeyType: HASH}]',
        '        StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}',
      ];
      await aws.deploy({
        'handler.js': handler,
        'serverless.yml': [
          'service: ddbs',
          'provider:',
          '  name: aws',
          '  runtime: nodejs20.x',
          '  environment:',
          `    OUT: ${outDir}`,
          'functions:',
          '  changes:',
          '    handler: handler.changes',
          '    events:',
          '      - stream:',
          '          type: dynamodb',
          '          arn: !GetAtt [Orders, StreamArn]',
          '          batchSize: 5',
          '          startingPosition: TRIM_HORIZON',
          '          functionResponseType: ReportBatchItemFailures',
          '  strict:',
          '    handler: handler.strict',
          '    events:',
          '      - stream:',
          '          arn: !GetAtt [Audit, StreamArn]',
          '          batchSize: 10',
          '          maximumBatchingWindow: 2',
          '          bisectBatchOnFunctionError: true',
          '          maximumRetryAttempts: 1',
          '          filterPatterns:',
          '            - eventName: [INSERT]',
          '          destinations:',
          `            onFailure: arn:aws:sqs:us-east-1:${account}:stream-failures`,
          'resources:',
          '  Resources:',
          ...table('Orders', 'ddbs-orders'),
          ...table('Audit', 'ddbs-audit'),
          '',
        ].join('\n'),
      });
    });
    after(() => aws?.close());

    test('the table made from resources has the stream ARN GetAtt gave', async () => {
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName: 'ddbs-orders' }));
      assert.equal(Table?.LatestStreamArn, streamArnOf('ddbs-orders'));
      assert.equal(Table?.LatestStreamLabel, streamLabel);
    });

    test('the function receives the DynamoDB stream record shape, in order', async () => {
      await put('ddbs-orders', 'shape-1', { note: { S: 'first' } });
      await ddb.send(
        new UpdateItemCommand({
          TableName: 'ddbs-orders',
          Key: { id: { S: 'shape-1' } },
          UpdateExpression: 'SET note = :n',
          ExpressionAttributeValues: { ':n': { S: 'second' } },
        }),
      );
      const records = await waitForValue(
        async () => {
          const got = (await seen('changes'))
            .flat()
            .filter((r) => r.dynamodb.Keys.id.S === 'shape-1');
          return got.length >= 2 ? got : undefined;
        },
        'both changes to arrive',
        20_000,
      );
      const [insert, modify] = records as [Rec, Rec];
      assert.deepEqual(Object.keys(insert).sort(), [
        'awsRegion',
        'dynamodb',
        'eventID',
        'eventName',
        'eventSource',
        'eventSourceARN',
        'eventVersion',
      ]);
      const raw = insert as unknown as Record<string, unknown>;
      assert.equal(raw.eventSource, 'aws:dynamodb');
      assert.equal(raw.eventVersion, '1.1');
      assert.equal(raw.awsRegion, 'us-east-1');
      assert.equal(insert.eventSourceARN, streamArnOf('ddbs-orders'));
      assert.equal(insert.eventName, 'INSERT');
      assert.equal(modify.eventName, 'MODIFY');
      assert.equal(modify.dynamodb.NewImage?.note?.S, 'second');
      assert.equal(
        (modify.dynamodb as unknown as { OldImage: { note: { S: string } } }).OldImage.note.S,
        'first',
      );
      assert.ok(BigInt(modify.dynamodb.SequenceNumber) > BigInt(insert.dynamodb.SequenceNumber));
    });

    test('a reported item failure is retried from that item; nothing after it is skipped', async () => {
      const keys = ['pf-1', 'pf-2', 'pf-3', 'pf-4'];
      for (const id of keys) {
        await put('ddbs-orders', id, id === 'pf-2' ? { poison: { S: 'yes' } } : {});
      }
      // The retry comes after the engine's first backoff (1 s).
      await waitUntil(
        async () => {
          const got = await ids('changes', 'pf-');
          return got.filter((id) => id === 'pf-2').length === 2 && got.includes('pf-4');
        },
        'the reported failure to be retried',
        20_000,
      );
      const delivered = await ids('changes', 'pf-');
      // pf-1 once (checkpointed before the failure); pf-2 twice: reported, then retried.
      assert.equal(delivered.filter((id) => id === 'pf-1').length, 1);
      assert.equal(delivered.filter((id) => id === 'pf-2').length, 2);
      const batches = (await seen('changes'))
        .map((b) => b.map((r) => r.dynamodb.Keys.id.S))
        .filter((b) => b.some((id) => id.startsWith('pf-')));
      // The retry starts at the failed item and keeps the order after it.
      const retried = batches.filter((b) => b.includes('pf-2'))[1];
      assert.equal(retried?.[0], 'pf-2');
      assert.deepEqual([...new Set(delivered)], keys);
    });

    test('a failing batch is bisected; retries spent, its metadata goes to onFailure', async () => {
      // One commit, so one batch: [ok-a, bad-b, ok-c, ok-d].
      await ddb.send(
        new BatchWriteItemCommand({
          RequestItems: {
            'ddbs-audit': ['ok-a', 'bad-b', 'ok-c', 'ok-d'].map((id) => ({
              PutRequest: {
                Item: { id: { S: id }, ...(id.startsWith('bad') ? { bad: { S: 'x' } } : {}) },
              },
            })),
          },
        }),
      );
      const failure = await waitForValue(
        async () => {
          const got = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: `${aws.platform.url}/${account}/stream-failures`,
              WaitTimeSeconds: 1,
            }),
          );
          return got.Messages?.[0];
        },
        'the on-failure report',
        30_000,
      );
      const report = JSON.parse(failure.Body!) as {
        requestContext: { condition: string; functionArn: string; approximateInvokeCount: number };
        DDBStreamBatchInfo: {
          shardId: string;
          batchSize: number;
          streamArn: string;
          startSequenceNumber: string;
          endSequenceNumber: string;
        };
      };
      assert.equal(report.requestContext.condition, 'RetryAttemptsExhausted');
      assert.match(report.requestContext.functionArn, /:function:ddbs-dev-strict/);
      assert.equal(report.DDBStreamBatchInfo.streamArn, streamArnOf('ddbs-audit'));
      assert.equal(report.DDBStreamBatchInfo.batchSize, 2, 'the failing half only');
      // ok-d was already in the whole batch: the healthy half is its second delivery.
      await waitUntil(
        async () => (await ids('strict', 'ok-')).filter((id) => id === 'ok-d').length >= 2,
        'the healthy half to be delivered',
        20_000,
      );
      const batches = (await seen('strict')).map((b) => b.map((r) => r.dynamodb.Keys.id.S));
      assert.deepEqual(batches[0], ['ok-a', 'bad-b', 'ok-c', 'ok-d'], 'whole batch first');
      assert.deepEqual(batches[1], ['ok-a', 'bad-b'], 'then bisected');
      assert.deepEqual(batches.at(-1), ['ok-c', 'ok-d']);
    });

    test('a stream mapping made through the Lambda API; a bad start position is refused', async () => {
      const lambda = new LambdaClient(aws.clientConfig());
      try {
        await assert.rejects(
          lambda.send(
            new CreateEventSourceMappingCommand({
              EventSourceArn: streamArnOf('ddbs-audit'),
              FunctionName: 'ddbs-dev-changes',
            }),
          ),
          /StartingPosition/,
        );
        await assert.rejects(
          lambda.send(
            new CreateEventSourceMappingCommand({
              EventSourceArn: streamArnOf('no-such-table'),
              FunctionName: 'ddbs-dev-changes',
              StartingPosition: 'LATEST',
            }),
          ),
          /Stream not found/,
        );
        const made = await lambda.send(
          new CreateEventSourceMappingCommand({
            EventSourceArn: streamArnOf('ddbs-audit'),
            FunctionName: 'ddbs-dev-changes',
            StartingPosition: 'LATEST',
            BatchSize: 3,
            MaximumRetryAttempts: 2,
          }),
        );
        assert.equal(made.StartingPosition, 'LATEST');
        assert.equal(made.MaximumRetryAttempts, 2);
        // LATEST: changes made before the mapping ran are not delivered; later ones are.
        await new Promise((r) => setTimeout(r, 1000));
        await put('ddbs-audit', 'api-1');
        await waitUntil(
          async () => (await ids('changes', 'api-')).includes('api-1'),
          'the API-made mapping to deliver',
          20_000,
        );
        assert.deepEqual(await ids('changes', 'ok-'), [], 'nothing from before LATEST');
        await lambda.send(new DeleteEventSourceMappingCommand({ UUID: made.UUID }));
      } finally {
        lambda.destroy();
      }
    });

    test('a mapping that names the stream in another region (a provider.region) reads it', async () => {
      // serverless.yml's Fn::GetAtt [Table, StreamArn] carries the service's provider.region;
      // the platform is one region, so that ARN names the same stream.
      const lambda = new LambdaClient(aws.clientConfig());
      try {
        const elsewhere = streamArnOf('ddbs-audit').replace(':us-east-1:', ':ap-south-1:');
        const made = await lambda.send(
          new CreateEventSourceMappingCommand({
            EventSourceArn: elsewhere,
            FunctionName: 'ddbs-dev-changes',
            StartingPosition: 'LATEST',
          }),
        );
        await new Promise((r) => setTimeout(r, 1000));
        await put('ddbs-audit', 'region-1');
        await waitUntil(
          async () => (await ids('changes', 'region-')).includes('region-1'),
          'the mapping naming another region to deliver',
          20_000,
        );
        const record = (await seen('changes'))
          .flat()
          .find((r) => r.dynamodb.Keys.id.S === 'region-1');
        assert.equal(record?.eventSourceARN, elsewhere);
        await lambda.send(new DeleteEventSourceMappingCommand({ UUID: made.UUID }));
      } finally {
        lambda.destroy();
      }
    });

    test('every change arrives in order across a platform restart', async () => {
      const keys = Array.from({ length: 30 }, (_, i) => `rs-${String(i).padStart(2, '0')}`);
      for (const id of keys.slice(0, 15)) await put('ddbs-orders', id);
      // Close while records are still being delivered: the rest waits in the stream.
      await aws.restart();
      for (const id of keys.slice(15)) await put('ddbs-orders', id);
      await waitUntil(
        async () => new Set(await ids('changes', 'rs-')).size === keys.length,
        'every change to be delivered after the restart',
        30_000,
      );
      // The checkpoint was durable: what was done before the restart is not delivered again.
      assert.equal((await ids('changes', 'pf-1')).length, 1);
      assert.equal((await ids('changes', 'shape-1')).length, 2);
      const delivered = await ids('changes', 'rs-');
      // At least once: a batch cut short by the stop may come again, but in order and whole.
      assert.deepEqual([...new Set(delivered)], keys);
      const seqs = (await seen('changes'))
        .flat()
        .filter((r) => r.dynamodb.Keys.id.S.startsWith('rs-'))
        .map((r) => BigInt(r.dynamodb.SequenceNumber));
      for (let i = 1; i < seqs.length; i++) {
        if (seqs[i]! <= seqs[i - 1]!) {
          // Only a redelivery from the last checkpoint may go back, never past a record unseen.
          assert.ok(seqs.slice(0, i).includes(seqs[i]!), 'went back only to redeliver');
        }
      }
    });
  });
