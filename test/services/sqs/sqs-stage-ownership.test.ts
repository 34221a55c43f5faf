/**
 * Queues belong to the service stage whose deploy (or whose credentials) created them: a
 * `--service/--stage`-scoped key (what a function's session credentials are) reaches its own
 * stage's queues and shared ones, never another stage's (403 AccessDenied, in the JSON and the
 * query protocol), GetQueueUrl included; ListQueues shows only what it reaches; a `--read-only`
 * key only reads. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { signRequest } from '../../auth/aws-signer.js';
import { awsPlatformVariants } from '../../helpers/aws-platform.js';
import { type StageCallers, stageCallers } from '../../helpers/stage-callers.js';
import { failure } from '../s3/s3-platform.js';

const queue = (name: string) => ({ Type: 'AWS::SQS::Queue', Properties: { QueueName: name } });

for (const variant of awsPlatformVariants)
  describe(`SQS queues belong to their service stage (${variant.name})`, () => {
    let callers: StageCallers<SQSClient>;
    const urls: Record<string, string> = {};

    before(async () => {
      callers = await stageCallers(variant, {
        label: 'sqs-owners',
        client: (config) => new SQSClient(config),
        resources: (stage) => ({ Jobs: queue(`stage-${stage}-jobs`) }),
      });
      const { admin } = callers;
      await admin.send(new CreateQueueCommand({ QueueName: 'shared-jobs' }));
      for (const name of ['stage-a-jobs', 'stage-b-jobs', 'shared-jobs']) {
        urls[name] = (await admin.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
        await admin.send(new SendMessageCommand({ QueueUrl: urls[name], MessageBody: name }));
      }
    });
    after(() => callers?.close());

    const denied = async (run: () => Promise<unknown>) => {
      const error = await failure(run);
      assert.equal(error.$metadata.httpStatusCode, 403);
      assert.equal((error as { Code?: string }).Code, 'AccessDenied');
    };

    test("a stage's key uses its own and shared queues", async () => {
      await callers.stageA.send(
        new SendMessageCommand({ QueueUrl: urls['stage-a-jobs'], MessageBody: 'a' }),
      );
      await callers.stageA.send(
        new SendMessageCommand({ QueueUrl: urls['shared-jobs'], MessageBody: 'a' }),
      );
      const got = await callers.stageA.send(
        new ReceiveMessageCommand({ QueueUrl: urls['stage-a-jobs'], MaxNumberOfMessages: 10 }),
      );
      assert.ok((got.Messages ?? []).length > 0);
      const url = await callers.stageA.send(new GetQueueUrlCommand({ QueueName: 'shared-jobs' }));
      assert.equal(url.QueueUrl, urls['shared-jobs']);
    });

    test("another stage's queue is refused for reads and writes, GetQueueUrl included", async () => {
      const other = urls['stage-b-jobs']!;
      await denied(() =>
        callers.stageA.send(new GetQueueUrlCommand({ QueueName: 'stage-b-jobs' })),
      );
      await denied(() =>
        callers.stageA.send(
          new GetQueueAttributesCommand({ QueueUrl: other, AttributeNames: ['All'] }),
        ),
      );
      await denied(() =>
        callers.stageA.send(new SendMessageCommand({ QueueUrl: other, MessageBody: 'x' })),
      );
      await denied(() => callers.stageA.send(new ReceiveMessageCommand({ QueueUrl: other })));
      await denied(() => callers.stageA.send(new DeleteQueueCommand({ QueueUrl: other })));
      // The query protocol (aws-sdk v2, boto3) answers the same refusal in its XML shape.
      const host = new URL(callers.aws.platform.url).host;
      const body = new URLSearchParams({
        Version: '2012-11-05',
        Action: 'SendMessage',
        QueueUrl: other,
        MessageBody: 'x',
      }).toString();
      const signed = await signRequest(
        {
          path: '/',
          body,
          host,
          headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        },
        {
          accessKeyId: callers.stageAKey.id,
          secret: callers.stageAKey.secret,
          at: Date.now(),
          service: 'sqs',
        },
      );
      const headers = { ...(signed.headers as Record<string, string>) };
      delete headers.host;
      const res = await fetch(`${callers.aws.platform.url}${signed.target}`, {
        method: 'POST',
        headers,
        body,
      });
      assert.equal(res.status, 403);
      assert.match(await res.text(), /<Code>AccessDenied<\/Code>/);
      // Stage b's queue still holds just its own message.
      const kept = await callers.admin.send(
        new ReceiveMessageCommand({ QueueUrl: other, MaxNumberOfMessages: 10 }),
      );
      assert.deepEqual(
        kept.Messages?.map((m) => m.Body),
        ['stage-b-jobs'],
      );
    });

    test('ListQueues shows a stage only what it reaches; what it creates is its own', async () => {
      await callers.stageA.send(new CreateQueueCommand({ QueueName: 'made-by-a' }));
      const names = async (c: SQSClient) =>
        ((await c.send(new ListQueuesCommand({}))).QueueUrls ?? [])
          .map((u) => u.split('/').at(-1))
          .sort();
      assert.deepEqual(await names(callers.stageA), ['made-by-a', 'shared-jobs', 'stage-a-jobs']);
      assert.deepEqual(await names(callers.admin), [
        'made-by-a',
        'shared-jobs',
        'stage-a-jobs',
        'stage-b-jobs',
      ]);
      const stageB = await callers.stageClient('b');
      await denied(() => stageB.send(new GetQueueUrlCommand({ QueueName: 'made-by-a' })));
      // CreateQueue of an existing shared queue answers its URL and leaves it shared.
      await stageB.send(new CreateQueueCommand({ QueueName: 'shared-jobs' }));
      await callers.stageA.send(new GetQueueUrlCommand({ QueueName: 'shared-jobs' }));
    });

    test('a read-only key reads every queue but writes none', async () => {
      const attrs = await callers.readOnly.send(
        new GetQueueAttributesCommand({ QueueUrl: urls['stage-b-jobs'], AttributeNames: ['All'] }),
      );
      assert.ok(attrs.Attributes);
      await denied(() =>
        callers.readOnly.send(
          new SendMessageCommand({ QueueUrl: urls['shared-jobs'], MessageBody: 'r' }),
        ),
      );
      await denied(() =>
        callers.readOnly.send(new CreateQueueCommand({ QueueName: 'read-only-made' })),
      );
    });
  });
