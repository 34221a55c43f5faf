/**
 * EventBridge to functions on SQLite and PostgreSQL: a rule's Lambda target invokes the deployed
 * function through the AsyncInvoker (its onSuccess destination, an SQS queue, shows the event it
 * got); a failing function with the target's RetryPolicy of 0 retries lands in the target's
 * dead-letter queue; and a function whose onSuccess destination is an event bus puts the
 * Lambda invocation result event there, where a rule routes it to a queue.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { loadService } from '../../../src/service/load-service.js';
import {
  type AwsPlatform,
  awsPlatformVariants,
  deployService,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { waitForValue } from '../../helpers/wait-for.js';
import { cleanupServiceDirs, writeServiceDir } from '../../service/service-dir.js';

const account = '000000000000';
const handlerCode =
  'exports.echo = async (e) => ({ got: e });\nexports.broken = async () => { throw new Error("boom"); };\n';
const queueArn = (name: string) => `arn:aws:sqs:us-east-1:${account}:${name}`;
const fnArn = (key: string) => `arn:aws:lambda:us-east-1:${account}:function:svc-dev-${key}`;

for (const variant of awsPlatformVariants)
  describe(`EventBridge to functions on ${variant.name}`, () => {
    let aws: AwsPlatform;
    let eb: EventBridgeClient;
    let sqs: SQSClient;
    const urls: Record<string, string> = {};

    before(async () => {
      aws = await startAwsPlatform(variant, {
        label: 'eventbridge lambda',
        runFunctions: true,
        options: { asyncRetryDelayMs: 50 },
      });
      const common = {
        endpoint: aws.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
        maxAttempts: 1,
      };
      eb = new EventBridgeClient(common);
      sqs = new SQSClient(common);
      for (const name of ['seen', 'eb-dead', 'results']) {
        urls[name] = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
      }
      await eb.send(new CreateEventBusCommand({ Name: 'outcomes' }));
      // serverless.yml, loaded as the CLI loads it, then deployed.
      const cwd = await writeServiceDir({
        'serverless.yml': [
          'service: svc',
          'provider: { name: aws, runtime: nodejs20.x }',
          'functions:',
          '  echo:',
          '    handler: handler.echo',
          `    destinations: { onSuccess: '${queueArn('seen')}' }`,
          '    events:',
          '      - eventBridge:',
          '          eventBus: app-bus',
          '          pattern: { source: [deployed], detail: { n: [{ numeric: [">", 1] }] } }',
          "          inputPath: '$.detail'",
          '  broken:',
          '    handler: handler.broken',
          '    maximumRetryAttempts: 2',
          '  reporter:',
          '    handler: handler.echo',
          `    destinations: { onSuccess: 'arn:aws:events:us-east-1:${account}:event-bus/outcomes' }`,
          '',
        ].join('\n'),
        'handler.js': handlerCode,
      });
      const { definition } = await loadService({ cwd, options: {}, env: {} });
      await deployService(aws.platform, definition, {
        'handler.js':
          'exports.echo = async (e) => ({ got: e });\nexports.broken = async () => { throw new Error("boom"); };\n',
      });
    });
    after(async () => {
      eb?.destroy();
      sqs?.destroy();
      await aws?.close();
      await cleanupServiceDirs();
    });

    const receive = (queue: string, what: string) =>
      waitForValue(
        async () =>
          (
            await sqs.send(
              new ReceiveMessageCommand({
                QueueUrl: urls[queue],
                WaitTimeSeconds: 1,
                MessageAttributeNames: ['All'],
              }),
            )
          ).Messages?.[0],
        what,
        30_000,
      );

    test('a Lambda target invokes the function with the event (an input transformer applied)', async () => {
      await eb.send(new PutRuleCommand({ Name: 'to-echo', EventPattern: '{"source":["app"]}' }));
      await eb.send(
        new PutTargetsCommand({
          Rule: 'to-echo',
          Targets: [
            {
              Id: 'echo',
              Arn: fnArn('echo'),
              InputTransformer: {
                InputPathsMap: { who: '$.detail.who' },
                InputTemplate: '{"greeting": "hello <who>"}',
              },
            },
          ],
        }),
      );
      const out = await eb.send(
        new PutEventsCommand({
          Entries: [{ Source: 'app', DetailType: 'Greet', Detail: '{"who":"ada"}' }],
        }),
      );
      assert.equal(out.FailedEntryCount, 0);
      const message = await receive('seen', 'the echo destination');
      const record = JSON.parse(message.Body!);
      assert.deepEqual(record.requestPayload, { greeting: 'hello ada' });
      assert.deepEqual(record.responsePayload, { got: { greeting: 'hello ada' } });
    });

    test('a deployed eventBridge event receives PutEvents events on its bus', async () => {
      const out = await eb.send(
        new PutEventsCommand({
          Entries: [
            { Source: 'deployed', DetailType: 'X', Detail: '{"n":1}', EventBusName: 'app-bus' },
            { Source: 'deployed', DetailType: 'X', Detail: '{"n":2}', EventBusName: 'app-bus' },
          ],
        }),
      );
      assert.equal(out.FailedEntryCount, 0);
      const message = await receive('seen', 'the deployed rule delivery');
      assert.deepEqual(JSON.parse(message.Body!).requestPayload, { n: 2 });
    });

    test("a failing target goes to the target's DLQ after the rule's retries", async () => {
      await eb.send(new PutRuleCommand({ Name: 'to-broken', EventPattern: '{"source":["bad"]}' }));
      await eb.send(
        new PutTargetsCommand({
          Rule: 'to-broken',
          Targets: [
            {
              Id: 'broken',
              Arn: fnArn('broken'),
              RetryPolicy: { MaximumRetryAttempts: 1 },
              DeadLetterConfig: { Arn: queueArn('eb-dead') },
            },
          ],
        }),
      );
      await eb.send(
        new PutEventsCommand({ Entries: [{ Source: 'bad', DetailType: 'X', Detail: '{"n":1}' }] }),
      );
      const message = await receive('eb-dead', 'the dead-letter queue');
      const record = JSON.parse(message.Body!);
      assert.equal(record.requestContext.condition, 'RetriesExhausted');
      // One retry (the target's policy), not the function's two.
      assert.equal(record.requestContext.approximateInvokeCount, 2);
      assert.equal(record.requestPayload.source, 'bad');
      assert.deepEqual(record.requestPayload.detail, { n: 1 });
    });

    test('an event bus destination receives the invocation result event', async () => {
      await eb.send(
        new PutRuleCommand({
          Name: 'results',
          EventBusName: 'outcomes',
          EventPattern: JSON.stringify({
            source: ['lambda'],
            'detail-type': ['Lambda Function Invocation Result - Success'],
          }),
        }),
      );
      await eb.send(
        new PutTargetsCommand({
          Rule: 'results',
          EventBusName: 'outcomes',
          Targets: [{ Id: 'q', Arn: queueArn('results') }],
        }),
      );
      await eb.send(
        new PutRuleCommand({ Name: 'to-reporter', EventPattern: '{"source":["rep"]}' }),
      );
      await eb.send(
        new PutTargetsCommand({
          Rule: 'to-reporter',
          Targets: [{ Id: 'r', Arn: fnArn('reporter'), InputPath: '$.detail' }],
        }),
      );
      await eb.send(
        new PutEventsCommand({ Entries: [{ Source: 'rep', DetailType: 'X', Detail: '{"k":7}' }] }),
      );
      const message = await receive('results', 'the result event');
      const event = JSON.parse(message.Body!);
      assert.equal(event.source, 'lambda');
      assert.match(event.resources[0], /:function:svc-dev-reporter:/);
      assert.deepEqual(event.detail.requestPayload, { k: 7 });
      assert.deepEqual(event.detail.responsePayload, { got: { k: 7 } });
    });
  });
