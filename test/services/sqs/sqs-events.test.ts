/**
 * `sqs` events end to end on a running platform, on SQLite and PostgreSQL: a service deployed by
 * the CLI, messages sent with @aws-sdk/client-sqs, a real function process receiving Lambda's SQS
 * record shape; a partial batch failure leaves only the failed message, which goes to the
 * dead-letter queue after maxReceiveCount; a disabled mapping does not poll; a restart loses
 * nothing. Real time: the queue's visibility timeout is 3 s.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateEventSourceMappingCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  awsPlatformVariants,
  type RestartableAwsPlatform,
  restartableAwsPlatform,
} from '../../helpers/aws-platform.js';
import { waitForValue, waitUntil } from '../../helpers/wait-for.js';

const account = '000000000000';
const arnOf = (name: string) => `arn:aws:sqs:us-east-1:${account}:${name}`;

const handler = `
const fs = require('node:fs');
const out = (name, event) =>
  fs.appendFileSync(process.env.OUT + '/' + name + '.jsonl', JSON.stringify(event) + '\\n');
exports.worker = async (event) => {
  out('worker', event);
  return {
    batchItemFailures: event.Records.filter((r) => r.body.startsWith('fail'))
      .map((r) => ({ itemIdentifier: r.messageId })),
  };
};
exports.idle = async (event) => out('idle', event);
`;

for (const variant of awsPlatformVariants)
  describe(`sqs events on ${variant.name}`, () => {
    let aws: RestartableAwsPlatform;
    let sqs: SQSClient;
    let outDir: string;

    const url = (name: string) => `${aws.platform.url}/${account}/${name}`;
    const seen = async (fn: string): Promise<{ Records: Record<string, unknown>[] }[]> => {
      const text = await readFile(join(outDir, `${fn}.jsonl`), 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    };
    const seenBodies = async (fn: string) =>
      (await seen(fn)).flatMap((e) => e.Records.map((r) => r.body as string));
    const counts = async (name: string) => {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url(name), AttributeNames: ['All'] }),
      );
      return (
        Number(Attributes.ApproximateNumberOfMessages) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible)
      );
    };

    before(async () => {
      aws = await restartableAwsPlatform(variant, {
        label: 'sqs events',
        clients: (config) => {
          sqs = new SQSClient(config);
          return () => sqs.destroy();
        },
      });
      // Functions run as their stage's own uid: the output directory is theirs to write.
      outDir = join(aws.dir, 'out');
      await mkdir(outDir);
      await chmod(outDir, 0o777);
      await sqs.send(new CreateQueueCommand({ QueueName: 'jobs-dlq' }));
      await sqs.send(
        new CreateQueueCommand({
          QueueName: 'jobs',
          Attributes: {
            VisibilityTimeout: '3',
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: arnOf('jobs-dlq'),
              maxReceiveCount: 2,
            }),
          },
        }),
      );
      await sqs.send(new CreateQueueCommand({ QueueName: 'idle' }));
      await aws.deploy({
        'handler.js': handler,
        'serverless.yml': [
          'service: esm',
          'provider:',
          '  name: aws',
          '  runtime: nodejs20.x',
          '  environment:',
          `    OUT: ${outDir}`,
          'functions:',
          '  worker:',
          '    handler: handler.worker',
          '    events:',
          '      - sqs:',
          `          arn: ${arnOf('jobs')}`,
          '          batchSize: 10',
          '          maximumBatchingWindow: 0',
          '          functionResponseType: ReportBatchItemFailures',
          '  idle:',
          '    handler: handler.idle',
          '    events:',
          `      - sqs: {arn: '${arnOf('idle')}', enabled: false}`,
          '',
        ].join('\n'),
      });
    });
    after(() => aws?.close());

    test('the function receives the Lambda SQS record shape; done messages are deleted', async () => {
      const sent = await sqs.send(
        new SendMessageCommand({
          QueueUrl: url('jobs'),
          MessageBody: JSON.stringify({ order: 1 }),
          MessageAttributes: {
            kind: { DataType: 'String', StringValue: 'order' },
            blob: { DataType: 'Binary', BinaryValue: Buffer.from('hi') },
          },
        }),
      );
      const record = await waitForValue(
        async () => (await seen('worker')).flatMap((e) => e.Records)[0],
        'the worker to receive the message',
        20_000,
      );
      assert.deepEqual(Object.keys(record).sort(), [
        'attributes',
        'awsRegion',
        'body',
        'eventSource',
        'eventSourceARN',
        'md5OfBody',
        'md5OfMessageAttributes',
        'messageAttributes',
        'messageId',
        'receiptHandle',
      ]);
      assert.equal(record.messageId, sent.MessageId);
      assert.equal(record.body, '{"order":1}');
      assert.equal(record.md5OfBody, sent.MD5OfMessageBody);
      assert.equal(record.eventSource, 'aws:sqs');
      assert.equal(record.eventSourceARN, arnOf('jobs'));
      assert.equal(record.awsRegion, 'us-east-1');
      assert.equal(typeof record.receiptHandle, 'string');
      const attributes = record.attributes as Record<string, string>;
      assert.deepEqual(Object.keys(attributes).sort(), [
        'ApproximateFirstReceiveTimestamp',
        'ApproximateReceiveCount',
        'SenderId',
        'SentTimestamp',
      ]);
      assert.equal(attributes.ApproximateReceiveCount, '1');
      assert.deepEqual(record.messageAttributes, {
        kind: {
          stringValue: 'order',
          stringListValues: [],
          binaryListValues: [],
          dataType: 'String',
        },
        blob: {
          binaryValue: Buffer.from('hi').toString('base64'),
          stringListValues: [],
          binaryListValues: [],
          dataType: 'Binary',
        },
      });
      await waitUntil(async () => (await counts('jobs')) === 0, 'the message to be deleted');
      // The mapping's lag (IteratorAge) is in the metrics, labelled by mapping and function.
      const metrics = await (
        await fetch(`${aws.platform.url}/metrics`, {
          headers: { authorization: `Bearer ${aws.platform.adminToken}` },
        })
      ).text();
      assert.match(
        metrics,
        /^nimbus_event_source_iterator_age_seconds\{mapping="[0-9a-f-]{36}",function="[^"]*worker"\} \d/m,
      );
      assert.match(metrics, /^nimbus_disk_bytes\{what="blobs"\} [1-9]/m);
      assert.match(metrics, /^nimbus_disk_bytes\{what="logs"\} \d/m);
    });

    test('a partial batch failure leaves only the failed message; it reaches the DLQ after maxReceiveCount', async () => {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url('jobs'),
          Entries: ['ok-1', 'fail-1', 'ok-2'].map((body, i) => ({
            Id: `e${i}`,
            MessageBody: body,
          })),
        }),
      );
      // Received twice (maxReceiveCount 2), then moved on the next receive.
      await waitUntil(
        async () => (await seenBodies('worker')).filter((b) => b === 'fail-1').length === 2,
        'the failed message to be received twice',
        20_000,
      );
      const bodies = await seenBodies('worker');
      assert.equal(bodies.filter((b) => b === 'ok-1').length, 1, 'ok-1 ran once and was deleted');
      assert.equal(bodies.filter((b) => b === 'ok-2').length, 1);
      const inDlq = await waitForValue(
        async () => {
          const got = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: url('jobs-dlq'), WaitTimeSeconds: 1 }),
          );
          return got.Messages?.[0];
        },
        'the failed message in the dead-letter queue',
        20_000,
      );
      assert.equal(inDlq.Body, 'fail-1');
      assert.equal(await counts('jobs'), 0);
      const attempts = (await seen('worker'))
        .flatMap((e) => e.Records)
        .filter((r) => r.body === 'fail-1')
        .map((r) => (r.attributes as Record<string, string>).ApproximateReceiveCount);
      assert.deepEqual(attempts, ['1', '2']);
    });

    test('a disabled mapping does not poll', async () => {
      await sqs.send(new SendMessageCommand({ QueueUrl: url('idle'), MessageBody: 'waiting' }));
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual(await seen('idle'), []);
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url('idle') }));
      assert.equal(got.Messages?.[0]?.Body, 'waiting');
      assert.equal(got.Messages?.[0]?.ReceiptHandle !== undefined, true);
    });

    test('a mapping created through the Lambda API delivers too', async () => {
      await sqs.send(new CreateQueueCommand({ QueueName: 'api-made' }));
      const lambda = new LambdaClient(aws.clientConfig());
      try {
        await lambda.send(
          new CreateEventSourceMappingCommand({
            EventSourceArn: arnOf('api-made'),
            FunctionName: 'esm-dev-idle',
            FilterCriteria: { Filters: [{ Pattern: '{"body":{"keep":[true]}}' }] },
          }),
        );
      } finally {
        lambda.destroy();
      }
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url('api-made'),
          Entries: [
            { Id: 'a', MessageBody: '{"keep":false,"n":1}' },
            { Id: 'b', MessageBody: '{"keep":true,"n":2}' },
          ],
        }),
      );
      await waitUntil(
        async () => (await seenBodies('idle')).includes('{"keep":true,"n":2}'),
        'the API-made mapping to deliver the matching message',
        20_000,
      );
      await waitUntil(async () => (await counts('api-made')) === 0, 'both to be deleted');
      assert.deepEqual(await seenBodies('idle'), ['{"keep":true,"n":2}'], 'filtered out unseen');
    });

    test('a platform restart loses nothing', async () => {
      const bodies = Array.from({ length: 8 }, (_, i) => `restart-${i}`);
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url('jobs'),
          Entries: bodies.map((body, i) => ({ Id: `r${i}`, MessageBody: body })),
        }),
      );
      await aws.restart();
      await waitUntil(
        async () => {
          const got = new Set(await seenBodies('worker'));
          return bodies.every((b) => got.has(b));
        },
        'every message sent before the restart to reach the function',
        20_000,
      );
      await waitUntil(async () => (await counts('jobs')) === 0, 'the queue to drain', 20_000);
    });
  });
