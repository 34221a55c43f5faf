/**
 * A scheduled rule made with PutRule fires its SQS target on schedule on a running platform
 * (injected clock): each slot once, through the platform's one ScheduleRunner and a target job
 * in the WorkQueue, which the async worker leaves to EventBridge. SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  type AwsPlatform,
  awsPlatformVariants,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { manualClock } from '../../queue/manual-clock.js';

for (const variant of awsPlatformVariants)
  describe(`scheduled rules through the API on ${variant.name}`, () => {
    let aws: AwsPlatform;
    let eb: EventBridgeClient;
    let sqs: SQSClient;
    // Near the real time (requests are signed with it), 10 s past a whole minute.
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const clock = manualClock(minute + 10_000);
    const slot = (n: number) =>
      new Date(minute + n * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

    before(async () => {
      aws = await startAwsPlatform(variant, { label: 'scheduled rules', clock });
      const config = {
        endpoint: aws.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
      };
      eb = new EventBridgeClient(config);
      sqs = new SQSClient(config);
    });
    after(() => aws.close());

    const receiveOne = async (QueueUrl: string) => {
      const got = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20, MaxNumberOfMessages: 10 }),
      );
      for (const m of got.Messages ?? []) {
        await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
      }
      return (got.Messages ?? []).map((m) => JSON.parse(m.Body!));
    };

    test('a rate() rule sends each slot to its queue once', async () => {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'ticks' }));
      await eb.send(
        new PutRuleCommand({ Name: 'every-minute', ScheduleExpression: 'rate(1 minute)' }),
      );
      await eb.send(
        new PutTargetsCommand({
          Rule: 'every-minute',
          Targets: [
            {
              Id: 'ticks',
              Arn: 'arn:aws:sqs:us-east-1:000000000000:ticks',
              InputTransformer: { InputPathsMap: { t: '$.time' }, InputTemplate: '{"at": <t>}' },
            },
          ],
        }),
      );
      // Moving the clock arms nothing by itself (the runner's timer is real); a rule change
      // makes the runner look again, and the slot that has come fires.
      clock.advance(60_000);
      await eb.send(new PutRuleCommand({ Name: 'nudge-1', ScheduleExpression: 'rate(1 hour)' }));
      assert.deepEqual(await receiveOne(QueueUrl!), [{ at: slot(1) }]);
      clock.advance(60_000);
      await eb.send(new PutRuleCommand({ Name: 'nudge-2', ScheduleExpression: 'rate(1 hour)' }));
      assert.deepEqual(await receiveOne(QueueUrl!), [{ at: slot(2) }]);
    });

    test('a bad schedule expression is refused', async () => {
      await assert.rejects(
        eb.send(new PutRuleCommand({ Name: 'bad', ScheduleExpression: 'rate(0 minutes)' })),
        { name: 'ValidationException' },
      );
    });
  });
