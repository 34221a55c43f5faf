/**
 * A bucket's notification configuration through @aws-sdk/client-s3
 * (Put/GetBucketNotificationConfiguration) and `NotificationConfiguration` in serverless.yml:
 * changes reach SQS queues, SNS topics, Lambda functions and EventBridge's default bus, read back
 * through the real SQS, SNS and EventBridge clients.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketNotificationConfigurationCommand,
  GetObjectCommand,
  PutBucketNotificationConfigurationCommand,
  type PutBucketNotificationConfigurationCommandInput,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  type AwsPlatform,
  awsClientConfig,
  awsPlatformVariants,
  deployService,
  deployStageResources,
  makeKey,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';
import { sdkSkip } from '../../helpers/function-reach.js';
import { waitForValue } from '../../helpers/wait-for.js';
import { failure } from './s3-platform.js';

const region = 'us-east-1';
const queueArn = (name: string) => `arn:aws:sqs:${region}:000000000000:${name}`;

for (const variant of awsPlatformVariants) {
  describe(`bucket notification configurations (${variant.name})`, () => {
    let aws: AwsPlatform;
    let s3: S3Client;
    let sqs: SQSClient;
    let sns: SNSClient;
    let events: EventBridgeClient;

    before(async () => {
      aws = await startAwsPlatform(variant, { label: 's3 notifications' });
      s3 = new S3Client({ ...aws.clientConfig(), forcePathStyle: true });
      sqs = new SQSClient(aws.clientConfig());
      sns = new SNSClient(aws.clientConfig());
      events = new EventBridgeClient(aws.clientConfig());
    });
    after(async () => {
      for (const c of [s3, sqs, sns, events]) c?.destroy();
      await aws?.close();
    });

    const makeQueue = async (name: string) =>
      (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
    /** Every message the queue holds now, bodies parsed, deleted as read. */
    const drain = async (url: string): Promise<Record<string, unknown>[]> => {
      const out: Record<string, unknown>[] = [];
      for (;;) {
        const r = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        if (!r.Messages?.length) return out;
        for (const m of r.Messages) {
          out.push(JSON.parse(m.Body!) as Record<string, unknown>);
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }),
          );
        }
      }
    };
    const count = async (url: string) =>
      Number(
        (
          await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: url,
              AttributeNames: ['ApproximateNumberOfMessages'],
            }),
          )
        ).Attributes?.ApproximateNumberOfMessages,
      );
    const put = (Bucket: string, Key: string, Body = 'x') =>
      s3.send(new PutObjectCommand({ Bucket, Key, Body }));
    const configure = (
      Bucket: string,
      NotificationConfiguration: PutBucketNotificationConfigurationCommandInput['NotificationConfiguration'],
      extra: Partial<PutBucketNotificationConfigurationCommandInput> = {},
    ) =>
      s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket,
          NotificationConfiguration,
          ...extra,
        }),
      );
    type S3Record = {
      eventName: string;
      eventSource: string;
      s3: {
        configurationId: string;
        bucket: { name: string };
        object: { key: string; size?: number };
      };
    };
    const records = (messages: Record<string, unknown>[]) =>
      messages.flatMap((m) => (m.Records as S3Record[] | undefined) ?? []);

    test('a queue gets the test event, then a record for each matching change and none for others', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'queued' }));
      const url = await makeQueue('uploads-q');
      await configure('queued', {
        QueueConfigurations: [
          {
            Id: 'jpg-uploads',
            QueueArn: queueArn('uploads-q'),
            Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'],
            Filter: {
              Key: {
                FilterRules: [
                  { Name: 'prefix', Value: 'uploads/' },
                  { Name: 'suffix', Value: '.jpg' },
                ],
              },
            },
          },
        ],
      });
      const [testEvent] = await drain(url);
      assert.equal(testEvent?.Event, 's3:TestEvent');
      assert.equal(testEvent?.Service, 'Amazon S3');
      assert.equal(testEvent?.Bucket, 'queued');

      await put('queued', 'uploads/red flower.jpg', 'hello');
      await put('queued', 'uploads/notes.txt');
      await put('queued', 'elsewhere/a.jpg');
      await s3.send(
        new CopyObjectCommand({
          Bucket: 'queued',
          Key: 'uploads/copy.jpg',
          CopySource: 'queued/elsewhere/a.jpg',
        }),
      );
      await s3.send(new DeleteObjectCommand({ Bucket: 'queued', Key: 'uploads/red flower.jpg' }));
      const got = records(await drain(url));
      assert.deepEqual(
        got.map((r) => [r.eventName, r.s3.object.key]),
        [
          ['ObjectCreated:Put', 'uploads/red+flower.jpg'],
          ['ObjectCreated:Copy', 'uploads/copy.jpg'],
          ['ObjectRemoved:Delete', 'uploads/red+flower.jpg'],
        ],
      );
      assert.equal(got[0]!.eventSource, 'aws:s3');
      assert.equal(got[0]!.s3.configurationId, 'jpg-uploads');
      assert.equal(got[0]!.s3.bucket.name, 'queued');
      assert.equal(got[0]!.s3.object.size, 5);

      const read = await s3.send(
        new GetBucketNotificationConfigurationCommand({ Bucket: 'queued' }),
      );
      assert.equal(read.QueueConfigurations?.length, 1);
      const q = read.QueueConfigurations![0]!;
      assert.equal(q.Id, 'jpg-uploads');
      assert.equal(q.QueueArn, queueArn('uploads-q'));
      assert.deepEqual(q.Events, ['s3:ObjectCreated:*', 's3:ObjectRemoved:*']);
      assert.deepEqual(
        q.Filter?.Key?.FilterRules?.map((r) => [r.Name?.toLowerCase(), r.Value]),
        [
          ['prefix', 'uploads/'],
          ['suffix', '.jpg'],
        ],
      );
      assert.equal(read.TopicConfigurations, undefined);
      assert.equal(read.EventBridgeConfiguration, undefined);

      // An empty configuration removes it: nothing is sent any more.
      await configure('queued', {});
      await put('queued', 'uploads/after.jpg');
      assert.equal(await count(url), 0);
      const cleared = await s3.send(
        new GetBucketNotificationConfigurationCommand({ Bucket: 'queued' }),
      );
      assert.equal(cleared.QueueConfigurations, undefined);
    });

    test('tag changes reach s3:ObjectTagging configurations', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'tagged' }));
      const url = await makeQueue('tags-q');
      await configure('tagged', {
        QueueConfigurations: [{ QueueArn: queueArn('tags-q'), Events: ['s3:ObjectTagging:*'] }],
      });
      await drain(url);
      await put('tagged', 'a.txt');
      await s3.send(
        new PutObjectTaggingCommand({
          Bucket: 'tagged',
          Key: 'a.txt',
          Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] },
        }),
      );
      const got = records(await drain(url));
      assert.deepEqual(
        got.map((r) => r.eventName),
        ['ObjectTagging:Put'],
      );
      // S3 made up an id for the configuration; the record names it.
      const read = await s3.send(
        new GetBucketNotificationConfigurationCommand({ Bucket: 'tagged' }),
      );
      assert.ok(read.QueueConfigurations?.[0]?.Id);
      assert.equal(got[0]!.s3.configurationId, read.QueueConfigurations[0]!.Id);
    });

    test('a topic fans the record out to its subscribers', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'topical' }));
      const url = await makeQueue('topic-sub-q');
      const topic = (await sns.send(new CreateTopicCommand({ Name: 'uploads-topic' }))).TopicArn!;
      await sns.send(
        new SubscribeCommand({
          TopicArn: topic,
          Protocol: 'sqs',
          Endpoint: queueArn('topic-sub-q'),
          Attributes: { RawMessageDelivery: 'true' },
        }),
      );
      await configure('topical', {
        TopicConfigurations: [{ Id: 't', TopicArn: topic, Events: ['s3:ObjectCreated:Put'] }],
      });
      await put('topical', 'one.bin');
      const got = await drain(url);
      assert.equal(got[0]?.Event, 's3:TestEvent');
      assert.deepEqual(
        records(got).map((r) => [r.eventName, r.s3.object.key, r.s3.configurationId]),
        [['ObjectCreated:Put', 'one.bin', 't']],
      );
      const read = await s3.send(
        new GetBucketNotificationConfigurationCommand({ Bucket: 'topical' }),
      );
      assert.equal(read.TopicConfigurations?.[0]?.TopicArn, topic);
    });

    test('with EventBridge on, changes are aws.s3 events on the default bus', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'bridged' }));
      const url = await makeQueue('bridge-q');
      await events.send(
        new PutRuleCommand({
          Name: 's3-created',
          EventPattern: JSON.stringify({
            source: ['aws.s3'],
            'detail-type': ['Object Created', 'Object Deleted'],
            detail: { bucket: { name: ['bridged'] } },
          }),
        }),
      );
      await events.send(
        new PutTargetsCommand({
          Rule: 's3-created',
          Targets: [{ Id: 'q', Arn: queueArn('bridge-q') }],
        }),
      );
      await configure('bridged', { EventBridgeConfiguration: {} });
      const read = await s3.send(
        new GetBucketNotificationConfigurationCommand({ Bucket: 'bridged' }),
      );
      assert.deepEqual(read.EventBridgeConfiguration, {});

      await put('bridged', 'dir/a b.txt', 'four');
      await s3.send(new DeleteObjectCommand({ Bucket: 'bridged', Key: 'dir/a b.txt' }));
      const got = (await drain(url)) as {
        source: string;
        'detail-type': string;
        resources: string[];
        detail: {
          bucket: { name: string };
          object: { key: string; size?: number };
          reason: string;
        };
      }[];
      assert.deepEqual(
        got.map((e) => [e.source, e['detail-type'], e.detail.reason, e.detail.object.key]),
        [
          ['aws.s3', 'Object Created', 'PutObject', 'dir/a b.txt'],
          ['aws.s3', 'Object Deleted', 'DeleteObject', 'dir/a b.txt'],
        ],
      );
      assert.equal(got[0]!.detail.object.size, 4);
      assert.deepEqual(got[0]!.resources, ['arn:aws:s3:::bridged']);
      // Another bucket without EventBridge sends nothing there.
      await s3.send(new CreateBucketCommand({ Bucket: 'unbridged' }));
      await put('unbridged', 'x');
      assert.equal(await count(url), 0);
    });

    test('refusals: S3 codes, and the configuration unchanged', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'refusing' }));
      await makeQueue('kept-q');
      await configure('refusing', {
        QueueConfigurations: [
          { Id: 'kept', QueueArn: queueArn('kept-q'), Events: ['s3:ObjectCreated:*'] },
        ],
      });
      const cases: [
        string,
        PutBucketNotificationConfigurationCommandInput['NotificationConfiguration'],
        RegExp,
      ][] = [
        [
          'an unknown event',
          {
            QueueConfigurations: [
              {
                QueueArn: queueArn('kept-q'),
                Events: ['s3:ObjectMelted:*' as 's3:ObjectCreated:*'],
              },
            ],
          },
          /not supported/,
        ],
        [
          'a queue that does not exist',
          {
            QueueConfigurations: [
              { QueueArn: queueArn('no-such-q'), Events: ['s3:ObjectCreated:*'] },
            ],
          },
          /Unable to validate/,
        ],
        [
          'a topic ARN given as a queue',
          {
            QueueConfigurations: [
              { QueueArn: 'arn:aws:sns:us-east-1:000000000000:t', Events: ['s3:ObjectCreated:*'] },
            ],
          },
          /ARN/,
        ],
        [
          'overlapping configurations',
          {
            QueueConfigurations: [
              { QueueArn: queueArn('kept-q'), Events: ['s3:ObjectCreated:*'] },
              {
                QueueArn: queueArn('kept-q'),
                Events: ['s3:ObjectCreated:Put'],
                Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'a/' }] } },
              },
            ],
          },
          /overlap/,
        ],
        [
          'two prefix rules',
          {
            QueueConfigurations: [
              {
                QueueArn: queueArn('kept-q'),
                Events: ['s3:ObjectCreated:*'],
                Filter: {
                  Key: {
                    FilterRules: [
                      { Name: 'prefix', Value: 'a/' },
                      { Name: 'prefix', Value: 'b/' },
                    ],
                  },
                },
              },
            ],
          },
          /more than one prefix/,
        ],
        [
          'a function that does not exist',
          {
            LambdaFunctionConfigurations: [
              {
                LambdaFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:nope',
                Events: ['s3:ObjectCreated:*'],
              },
            ],
          },
          /Unable to validate/,
        ],
      ];
      for (const [what, config, message] of cases) {
        const e = await failure(() => configure('refusing', config));
        assert.equal(e.name, 'InvalidArgument', what);
        assert.equal(e.$metadata.httpStatusCode, 400, what);
        assert.match(e.message, message, what);
      }
      const missing = await failure(() => configure('no-such-bucket', {}));
      assert.equal(missing.name, 'NoSuchBucket');
      const read = await s3.send(
        new GetBucketNotificationConfigurationCommand({ Bucket: 'refusing' }),
      );
      assert.deepEqual(
        read.QueueConfigurations?.map((q) => q.Id),
        ['kept'],
      );
      // Non-overlapping filters on one event type are fine, as on S3.
      await configure('refusing', {
        QueueConfigurations: [
          {
            QueueArn: queueArn('kept-q'),
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'a/' }] } },
          },
          {
            QueueArn: queueArn('kept-q'),
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'b/' }] } },
          },
        ],
      });
      // SkipDestinationValidation takes a queue that is not there (yet).
      await configure(
        'refusing',
        {
          QueueConfigurations: [{ QueueArn: queueArn('later-q'), Events: ['s3:ObjectCreated:*'] }],
        },
        { SkipDestinationValidation: true },
      );
      await put('refusing', 'lost.txt');
    });

    test("a stage's credentials send its bucket's events only where that stage reaches", async () => {
      await deployStageResources(aws.platform, 'notif-a', {
        MineQ: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'notif-a-q' } },
      });
      await deployStageResources(aws.platform, 'notif-b', {
        TheirsQ: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'notif-b-q' } },
      });
      const key = await makeKey(aws.platform, 'stage a', { service: 'svc', stage: 'notif-a' });
      const staged = new S3Client({
        ...awsClientConfig(aws.platform.url, key),
        forcePathStyle: true,
      });
      try {
        await staged.send(new CreateBucketCommand({ Bucket: 'stage-a-bucket' }));
        const e = await failure(() =>
          staged.send(
            new PutBucketNotificationConfigurationCommand({
              Bucket: 'stage-a-bucket',
              NotificationConfiguration: {
                QueueConfigurations: [
                  { QueueArn: queueArn('notif-b-q'), Events: ['s3:ObjectCreated:*'] },
                ],
              },
            }),
          ),
        );
        assert.equal(e.name, 'AccessDenied');
        await staged.send(
          new PutBucketNotificationConfigurationCommand({
            Bucket: 'stage-a-bucket',
            NotificationConfiguration: {
              QueueConfigurations: [
                { QueueArn: queueArn('notif-a-q'), Events: ['s3:ObjectCreated:*'] },
              ],
            },
          }),
        );
      } finally {
        staged.destroy();
      }
    });

    test('serverless.yml NotificationConfiguration: queues and EventBridge from the deploy', async () => {
      await deployStageResources(aws.platform, 'cfn', {
        Landing: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'cfn-landing' } },
        Photos: {
          Type: 'AWS::S3::Bucket',
          Properties: {
            BucketName: 'cfn-photos',
            NotificationConfiguration: {
              QueueConfigurations: [
                {
                  Event: 's3:ObjectCreated:*',
                  Queue: { 'Fn::GetAtt': ['Landing', 'Arn'] },
                  Filter: { S3Key: { Rules: [{ Name: 'suffix', Value: '.png' }] } },
                },
              ],
              EventBridgeConfiguration: { EventBridgeEnabled: true },
            },
          },
        },
      });
      const url = (await sqs.send(new CreateQueueCommand({ QueueName: 'cfn-landing' }))).QueueUrl!;
      await put('cfn-photos', 'a.png');
      await put('cfn-photos', 'a.gif');
      assert.deepEqual(
        records(await drain(url)).map((r) => [r.s3.object.key, r.s3.configurationId]),
        [['a.png', 'Photos-Queue-1']],
      );
      const read = await s3.send(
        new GetBucketNotificationConfigurationCommand({ Bucket: 'cfn-photos' }),
      );
      assert.deepEqual(read.EventBridgeConfiguration, {});

      // A redeploy without it removes the configuration.
      await deployStageResources(aws.platform, 'cfn', {
        Landing: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'cfn-landing' } },
        Photos: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'cfn-photos' } },
      });
      await put('cfn-photos', 'b.png');
      assert.equal(await count(url), 0);
    });

    test('serverless.yml NotificationConfiguration that S3 would refuse fails the deploy, naming it', async () => {
      const refused = async (notification: unknown) => {
        try {
          await deployStageResources(aws.platform, 'cfn-bad', {
            Bad: {
              Type: 'AWS::S3::Bucket',
              Properties: { BucketName: 'cfn-bad', NotificationConfiguration: notification },
            },
          });
        } catch (error) {
          return (error as Error).message;
        }
        throw new Error('expected the deploy to fail');
      };
      assert.match(
        await refused({
          QueueConfigurations: [{ Event: 's3:ObjectMelted', Queue: queueArn('kept-q') }],
        }),
        /NotificationConfiguration.*not supported/s,
      );
      assert.match(
        await refused({
          QueueConfigurations: [{ Event: 's3:ObjectCreated:*', Queue: queueArn('nope-q') }],
        }),
        /does not exist/,
      );
      assert.match(
        await refused({ QueueConfigurations: [{ Event: 's3:ObjectCreated:*', Quuee: 'x' }] }),
        /Quuee/,
      );
      assert.match(await refused({ WebhookConfigurations: [] }), /WebhookConfigurations/);
    });
  });
}

describe('bucket notifications to a function', { skip: sdkSkip }, () => {
  let aws: AwsPlatform;
  let s3: S3Client;
  // No endpoint or credentials in code: the platform's environment supplies them.
  const recorder = `
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
const s3 = new S3Client({});
export async function handler(event) {
  const r = event.Records[0];
  await s3.send(new PutObjectCommand({
    Bucket: r.s3.bucket.name, Key: 'seen/' + r.s3.object.key, Body: JSON.stringify(r),
  }));
}
`;

  before(async () => {
    aws = await startAwsPlatform(awsPlatformVariants[0]!, {
      runFunctions: true,
      label: 's3 function notifications',
    });
    s3 = new S3Client({ ...aws.clientConfig(), forcePathStyle: true });
    await deployService(
      aws.platform,
      serviceDef([
        fnDef('recorder', {
          name: 'svc-dev-recorder',
          handler: 'recorder.handler',
          handlerFile: 'recorder.mjs',
        }),
      ]),
      { 'recorder.mjs': recorder },
    );
  });
  after(async () => {
    s3?.destroy();
    await aws?.close();
  });

  test('a LambdaFunctionConfiguration invokes the function asynchronously with the record', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'to-function' }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'to-function',
        NotificationConfiguration: {
          LambdaFunctionConfigurations: [
            {
              Id: 'fn',
              LambdaFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:svc-dev-recorder',
              Events: ['s3:ObjectCreated:Put'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'in/' }] } },
            },
          ],
        },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'to-function', Key: 'in/a.txt', Body: 'a' }));
    const seen = await waitForValue(async () => {
      try {
        const got = await s3.send(
          new GetObjectCommand({
            Bucket: 'to-function',
            Key: 'seen/in/a.txt',
          }),
        );
        return JSON.parse(await got.Body!.transformToString()) as {
          eventName: string;
          s3: { configurationId: string };
        };
      } catch {
        return undefined;
      }
    }, 'the record the function wrote');
    assert.equal(seen.eventName, 'ObjectCreated:Put');
    assert.equal(seen.s3.configurationId, 'fn');
  });
});
