/**
 * `onError` (Lambda's DeadLetterConfig) end to end: a function that fails an async event, its
 * retries spent, sends the event itself to its dead-letter SQS queue or SNS topic with
 * RequestID / ErrorCode / ErrorMessage attributes, read back through @aws-sdk/client-sqs; beside
 * an onFailure destination both get it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { awsPlatformVariants, deployService } from '../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../helpers/definitions.js';
import { type EventsPlatform, queueArn, startEventsPlatform } from '../helpers/events-platform.js';

const handler = `
exports.fails = async (event) => { throw new Error('boom: order ' + event.order); };
`;

describe('dead-letter queues (onError)', () => {
  let p: EventsPlatform;
  let lambda: LambdaClient;

  before(async () => {
    p = await startEventsPlatform(awsPlatformVariants[0]!, {
      label: 'dead letters',
      runFunctions: true,
    });
    lambda = new LambdaClient(p.aws.clientConfig());
    await p.queue('dest-q');
    await p.queue('via-topic-q');
    const topic = (await p.sns.send(new CreateTopicCommand({ Name: 'dlq-topic' }))).TopicArn!;
    await p.sns.send(
      new SubscribeCommand({
        TopicArn: topic,
        Protocol: 'sqs',
        Endpoint: queueArn('via-topic-q'),
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    const failing = (key: string, extra: object) =>
      fnDef(key, { handler: 'handler.fails', maximumRetryAttempts: 0, ...extra });
    await deployService(
      p.aws.platform,
      serviceDef(
        [
          // The queue by intrinsic, as serverless.yml writes it; resolved at deploy.
          failing('alone', { unresolvedDeadLetterTarget: { 'Fn::GetAtt': ['Dlq', 'Arn'] } }),
          failing('both', {
            deadLetterTarget: queueArn('dlq-both'),
            destinations: { onFailure: queueArn('dest-q') },
          }),
          failing('topic', { deadLetterTarget: topic }),
          // A destination by intrinsic too (`onFailure: {type: sqs, arn: !GetAtt DestQ.Arn}`).
          failing('dest', {
            unresolvedDestinations: { onFailure: { 'Fn::GetAtt': ['DestQ', 'Arn'] } },
          }),
        ],
        {
          resources: {
            Resources: {
              Dlq: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'dlq-alone' } },
              DlqBoth: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'dlq-both' } },
              DestQ: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'dest-by-getatt' } },
            },
          },
        },
      ),
      { 'handler.js': handler },
    );
  });
  after(async () => {
    lambda?.destroy();
    await p?.close();
  });

  const invokeAsync = async (fn: string, order: number) => {
    const r = await lambda.send(
      new InvokeCommand({
        FunctionName: fn,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ order })),
      }),
    );
    assert.equal(r.StatusCode, 202);
  };
  /** Every message that reached the queue within a while, with its typed attributes. */
  const drainOne = async (queue: string) => {
    const url = await p.queue(queue);
    for (let i = 0; i < 20; i++) {
      const r = await p.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
        }),
      );
      if (r.Messages?.length) {
        return r.Messages.map((m) => ({ body: m.Body!, attributes: m.MessageAttributes ?? {} }));
      }
    }
    throw new Error(`nothing reached ${queue}`);
  };

  test('the event itself reaches the queue, with the attributes Lambda sets', async () => {
    await invokeAsync('svc-dev-alone', 1);
    const [message, ...more] = await drainOne('dlq-alone');
    assert.equal(more.length, 0);
    assert.deepEqual(JSON.parse(message!.body), { order: 1 });
    const attrs = message!.attributes;
    assert.match(attrs.RequestID?.StringValue ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(attrs.ErrorCode, { DataType: 'Number', StringValue: '200' });
    assert.equal(attrs.ErrorMessage?.StringValue, 'boom: order 1');
  });

  test('beside an onFailure destination, both get it: the record there, the event here', async () => {
    await invokeAsync('svc-dev-both', 2);
    const [dead] = await drainOne('dlq-both');
    assert.deepEqual(JSON.parse(dead!.body), { order: 2 });
    const [record] = await drainOne('dest-q');
    const parsed = JSON.parse(record!.body) as {
      requestContext: { condition: string; requestId: string };
      requestPayload: unknown;
    };
    assert.equal(parsed.requestContext.condition, 'RetriesExhausted');
    assert.deepEqual(parsed.requestPayload, { order: 2 });
    assert.equal(dead!.attributes.RequestID?.StringValue, parsed.requestContext.requestId);
  });

  test('GetFunctionConfiguration shows the DeadLetterConfig, resolved', async () => {
    const c = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'svc-dev-alone' }),
    );
    assert.deepEqual(c.DeadLetterConfig, { TargetArn: queueArn('dlq-alone') });
  });

  test('a destination given by intrinsic is resolved at deploy and gets the record', async () => {
    await invokeAsync('svc-dev-dest', 4);
    const [record] = await drainOne('dest-by-getatt');
    const parsed = JSON.parse(record!.body) as { requestPayload: unknown };
    assert.deepEqual(parsed.requestPayload, { order: 4 });
  });

  test('an SNS topic publishes the event with the same attributes', async () => {
    await invokeAsync('svc-dev-topic', 3);
    const [message] = await drainOne('via-topic-q');
    assert.deepEqual(JSON.parse(message!.body), { order: 3 });
    assert.equal(message!.attributes.ErrorMessage?.StringValue, 'boom: order 3');
  });
});
