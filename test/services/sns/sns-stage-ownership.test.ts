/**
 * Topics belong to the service stage whose deploy (or whose credentials) created them: a
 * `--service/--stage`-scoped key (what a function's session credentials are) reaches its own
 * stage's topics and shared ones, never another stage's (403 AuthorizationError), and may not
 * subscribe another stage's queue; ListTopics and ListSubscriptions show only what it reaches;
 * a `--read-only` key only reads. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsCommand,
  ListTopicsCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { awsPlatformVariants } from '../../helpers/aws-platform.js';
import { type StageCallers, stageCallers } from '../../helpers/stage-callers.js';
import { failure } from '../s3/s3-platform.js';

const topic = (name: string) => ({ Type: 'AWS::SNS::Topic', Properties: { TopicName: name } });
const queue = (name: string) => ({ Type: 'AWS::SQS::Queue', Properties: { QueueName: name } });

for (const variant of awsPlatformVariants)
  describe(`SNS topics belong to their service stage (${variant.name})`, () => {
    let callers: StageCallers<SNSClient>;
    const arns: Record<string, string> = {};

    before(async () => {
      callers = await stageCallers(variant, {
        label: 'sns-owners',
        client: (config) => new SNSClient(config),
        resources: (stage) => ({
          Events: topic(`stage-${stage}-events`),
          Inbox: queue(`stage-${stage}-inbox`),
        }),
      });
      const { admin } = callers;
      await admin.send(new CreateTopicCommand({ Name: 'shared-events' }));
      for (const t of (await admin.send(new ListTopicsCommand({}))).Topics ?? []) {
        arns[t.TopicArn!.split(':').at(-1)!] = t.TopicArn!;
      }
      const sqs = callers.track(new SQSClient(callers.configOf(callers.aws.key)));
      for (const name of ['stage-a-inbox', 'stage-b-inbox']) {
        const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
        const attrs = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
        );
        arns[name] = attrs.Attributes!.QueueArn!;
      }
      await admin.send(
        new SubscribeCommand({
          TopicArn: arns['stage-b-events'],
          Protocol: 'sqs',
          Endpoint: arns['stage-b-inbox'],
        }),
      );
    });
    after(() => callers?.close());

    const denied = async (run: () => Promise<unknown>) => {
      const error = await failure(run);
      assert.equal(error.$metadata.httpStatusCode, 403);
      assert.equal((error as { Code?: string }).Code, 'AuthorizationError');
    };

    test("a stage's key publishes to its own and shared topics, and subscribes its own queue", async () => {
      await callers.stageA.send(
        new PublishCommand({ TopicArn: arns['stage-a-events'], Message: 'a' }),
      );
      await callers.stageA.send(
        new PublishCommand({ TopicArn: arns['shared-events'], Message: 'a' }),
      );
      await callers.stageA.send(
        new SubscribeCommand({
          TopicArn: arns['stage-a-events'],
          Protocol: 'sqs',
          Endpoint: arns['stage-a-inbox'],
        }),
      );
    });

    test("another stage's topic and queue are refused", async () => {
      const other = arns['stage-b-events']!;
      await denied(() =>
        callers.stageA.send(new PublishCommand({ TopicArn: other, Message: 'x' })),
      );
      await denied(() => callers.stageA.send(new GetTopicAttributesCommand({ TopicArn: other })));
      await denied(() => callers.stageA.send(new DeleteTopicCommand({ TopicArn: other })));
      await denied(() =>
        callers.stageA.send(
          new SubscribeCommand({
            TopicArn: other,
            Protocol: 'sqs',
            Endpoint: arns['stage-a-inbox'],
          }),
        ),
      );
      // Its own topic may not deliver into another stage's queue.
      await denied(() =>
        callers.stageA.send(
          new SubscribeCommand({
            TopicArn: arns['stage-a-events'],
            Protocol: 'sqs',
            Endpoint: arns['stage-b-inbox'],
          }),
        ),
      );
    });

    test('ListTopics and ListSubscriptions show a stage only what it reaches', async () => {
      await callers.stageA.send(new CreateTopicCommand({ Name: 'made-by-a' }));
      const names = (await callers.stageA.send(new ListTopicsCommand({}))).Topics!.map((t) =>
        t.TopicArn!.split(':').at(-1),
      );
      assert.deepEqual(names.sort(), ['made-by-a', 'shared-events', 'stage-a-events']);
      const all = (await callers.admin.send(new ListTopicsCommand({}))).Topics!;
      assert.equal(all.length, 4);
      const subs =
        (await callers.stageA.send(new ListSubscriptionsCommand({}))).Subscriptions ?? [];
      assert.deepEqual(
        subs.map((s) => s.TopicArn),
        [arns['stage-a-events']],
      );
      const stageB = await callers.stageClient('b');
      await denied(() =>
        stageB.send(new PublishCommand({ TopicArn: arns['stage-a-events'], Message: 'x' })),
      );
    });

    test('a read-only key reads every topic but publishes to none', async () => {
      const attrs = await callers.readOnly.send(
        new GetTopicAttributesCommand({ TopicArn: arns['stage-b-events'] }),
      );
      assert.ok(attrs.Attributes);
      await denied(() =>
        callers.readOnly.send(
          new PublishCommand({ TopicArn: arns['shared-events'], Message: 'r' }),
        ),
      );
    });
  });
