/**
 * Every supported SNS operation through the official @aws-sdk/client-sns (the query protocol),
 * against a platform started in-process on SQLite and on PostgreSQL: topics, subscriptions,
 * filter policies, fan-out into SQS queues (envelope and raw), http(s) confirmation and
 * delivery, dead-letter redrive, FIFO topics, and bad input in SNS's own error shape.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  ConfirmSubscriptionCommand,
  CreateTopicCommand,
  DeleteTopicCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListSubscriptionsCommand,
  ListTopicsCommand,
  PublishBatchCommand,
  PublishCommand,
  SetSubscriptionAttributesCommand,
  SetTopicAttributesCommand,
  SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type AwsPlatform, awsPlatformVariants } from '../../helpers/aws-platform.js';
import {
  type EventsPlatform,
  queueArn,
  startEventsPlatform,
} from '../../helpers/events-platform.js';
import { waitForValue } from '../../helpers/wait-for.js';
import { failure } from '../s3/s3-platform.js';

for (const variant of awsPlatformVariants)
  describe(`SNS through @aws-sdk/client-sns on ${variant.name}`, () => {
    let events: EventsPlatform;
    let aws: AwsPlatform;
    let sns: SNSClient;
    let sqs: SQSClient;
    let hook: Server;
    let hookUrl: string;
    const posts: { headers: IncomingHttpHeaders; body: string }[] = [];
    let failNext = 0;

    before(async () => {
      events = await startEventsPlatform(variant, {
        label: 'sns',
        options: { snsRetryDelayMs: 50 },
      });
      ({ aws, sns, sqs } = events);
      hook = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          if (failNext > 0) {
            failNext -= 1;
            res.writeHead(503).end();
            return;
          }
          posts.push({ headers: req.headers, body });
          res.writeHead(200).end();
        });
      });
      await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
      hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/sns`;
    });
    after(async () => {
      await new Promise((r) => hook?.close(r));
      await events?.close();
    });

    const topic = async (Name: string, Attributes?: Record<string, string>) =>
      (await sns.send(new CreateTopicCommand({ Name, Attributes }))).TopicArn!;
    const queue = (name: string, attributes?: Record<string, string>) =>
      events.queue(name, attributes);
    const receiveAll = async (QueueUrl: string, expected: number) => {
      const got: { Body?: string; MessageAttributes?: Record<string, { StringValue?: string }> }[] =
        [];
      await waitForValue(async () => {
        const r = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: 10,
            MessageAttributeNames: ['All'],
          }),
        );
        for (const m of r.Messages ?? []) {
          got.push(m);
          await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle! }));
        }
        return got.length >= expected ? true : undefined;
      }, `${expected} messages in ${QueueUrl}`);
      return got;
    };
    const subscribeQueue = async (
      TopicArn: string,
      name: string,
      Attributes?: Record<string, string>,
    ) =>
      (
        await sns.send(
          new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: queueArn(name), Attributes }),
        )
      ).SubscriptionArn!;

    test('topics: create (again), list, attributes, delete', async () => {
      const arn = await topic('orders', { DisplayName: 'Orders' });
      assert.equal(arn, 'arn:aws:sns:us-east-1:000000000000:orders');
      assert.equal(await topic('orders', { DisplayName: 'Orders' }), arn);
      const differs = await failure(() => topic('orders', { DisplayName: 'Other' }));
      assert.equal(differs.name, 'InvalidParameterException');
      const fifo = await topic('ledger.fifo', {
        FifoTopic: 'true',
        ContentBasedDeduplication: 'true',
      });
      const listed = await sns.send(new ListTopicsCommand({}));
      const arns = (listed.Topics ?? []).map((t) => t.TopicArn);
      assert.ok(arns.includes(arn) && arns.includes(fifo));
      const attrs = (await sns.send(new GetTopicAttributesCommand({ TopicArn: arn }))).Attributes!;
      assert.equal(attrs.DisplayName, 'Orders');
      assert.equal(attrs.TopicArn, arn);
      assert.equal(attrs.SubscriptionsConfirmed, '0');
      await sns.send(
        new SetTopicAttributesCommand({
          TopicArn: arn,
          AttributeName: 'DisplayName',
          AttributeValue: 'Orders 2',
        }),
      );
      const after = (await sns.send(new GetTopicAttributesCommand({ TopicArn: arn }))).Attributes!;
      assert.equal(after.DisplayName, 'Orders 2');
      const fifoAttrs = (await sns.send(new GetTopicAttributesCommand({ TopicArn: fifo })))
        .Attributes!;
      assert.equal(fifoAttrs.FifoTopic, 'true');
      const gone = await topic('short-lived');
      await sns.send(new DeleteTopicCommand({ TopicArn: gone }));
      const missing = await failure(() =>
        sns.send(new GetTopicAttributesCommand({ TopicArn: gone })),
      );
      assert.equal(missing.name, 'NotFoundException');
      assert.equal(missing.$metadata.httpStatusCode, 404);
    });

    test('bad input: names, unknown topics, attributes, protocols, policies', async () => {
      const badName = await failure(() => topic('bad name!'));
      assert.equal(badName.name, 'InvalidParameterException');
      const fifoName = await failure(() => topic('plain', { FifoTopic: 'true' }));
      assert.equal(fifoName.name, 'InvalidParameterException');
      const unknown = 'arn:aws:sns:us-east-1:000000000000:nope';
      const publishUnknown = await failure(() =>
        sns.send(new PublishCommand({ TopicArn: unknown, Message: 'x' })),
      );
      assert.equal(publishUnknown.name, 'NotFoundException');
      const subscribeUnknown = await failure(() =>
        sns.send(
          new SubscribeCommand({ TopicArn: unknown, Protocol: 'sqs', Endpoint: queueArn('q') }),
        ),
      );
      assert.equal(subscribeUnknown.name, 'NotFoundException');
      const arn = await topic('strict');
      const badAttr = await failure(() =>
        sns.send(
          new SetTopicAttributesCommand({
            TopicArn: arn,
            AttributeName: 'Bogus',
            AttributeValue: '1',
          }),
        ),
      );
      assert.equal(badAttr.name, 'InvalidParameterException');
      const sms = await failure(() =>
        sns.send(
          new SubscribeCommand({ TopicArn: arn, Protocol: 'sms', Endpoint: '+15555550100' }),
        ),
      );
      assert.equal(sms.name, 'InvalidParameterException');
      const email = await failure(() =>
        sns.send(
          new SubscribeCommand({ TopicArn: arn, Protocol: 'email', Endpoint: 'not an address' }),
        ),
      );
      assert.equal(email.name, 'InvalidParameterException');
      assert.match(email.message, /Email address/);
      const badEndpoint = await failure(() =>
        sns.send(
          new SubscribeCommand({ TopicArn: arn, Protocol: 'lambda', Endpoint: 'not-an-arn' }),
        ),
      );
      assert.equal(badEndpoint.name, 'InvalidParameterException');
      const badPolicy = await failure(() =>
        subscribeQueue(arn, 'q', {
          FilterPolicy: JSON.stringify({ color: [{ numeric: ['>', 'x'] }] }),
        }),
      );
      assert.equal(badPolicy.name, 'InvalidParameterException');
      assert.match(badPolicy.message, /numeric/);
      const notJson = await failure(() => subscribeQueue(arn, 'q', { FilterPolicy: '{' }));
      assert.equal(notJson.name, 'InvalidParameterException');
      const nested = await failure(() =>
        subscribeQueue(arn, 'q', { FilterPolicy: JSON.stringify({ a: { b: ['c'] } }) }),
      );
      assert.equal(nested.name, 'InvalidParameterException', 'attribute policies are flat');
      const tooLong = await failure(() =>
        sns.send(new PublishCommand({ TopicArn: arn, Message: 'x'.repeat(262_145) })),
      );
      assert.equal(tooLong.name, 'InvalidParameterException');
      assert.match(tooLong.message, /Message too long/);
      const badAttribute = await failure(() =>
        sns.send(
          new PublishCommand({
            TopicArn: arn,
            Message: 'x',
            MessageAttributes: { n: { DataType: 'Number', StringValue: 'abc' } },
          }),
        ),
      );
      assert.equal(badAttribute.name, 'InvalidParameterException');
      const structure = await failure(() =>
        sns.send(
          new PublishCommand({ TopicArn: arn, Message: '{"sqs":"x"}', MessageStructure: 'json' }),
        ),
      );
      assert.equal(structure.name, 'InvalidParameterException');
      const fifoNoGroup = await failure(async () =>
        sns.send(
          new PublishCommand({
            TopicArn: await topic('g.fifo', { FifoTopic: 'true' }),
            Message: 'x',
          }),
        ),
      );
      assert.equal(fifoNoGroup.name, 'InvalidParameterException');
      const unsubscribeUnknown = await failure(() =>
        sns.send(
          new UnsubscribeCommand({
            SubscriptionArn: `${arn}:00000000-0000-0000-0000-000000000000`,
          }),
        ),
      );
      assert.equal(unsubscribeUnknown.name, 'NotFoundException');
    });

    test('fan-out to SQS: envelope, raw delivery, attribute and body filter policies', async () => {
      const arn = await topic('shop');
      const allUrl = await queue('shop-all');
      const rawUrl = await queue('shop-raw');
      const redUrl = await queue('shop-red');
      const bigUrl = await queue('shop-big');
      const all = await subscribeQueue(arn, 'shop-all');
      await subscribeQueue(arn, 'shop-raw', { RawMessageDelivery: 'true' });
      await subscribeQueue(arn, 'shop-red', {
        FilterPolicy: JSON.stringify({
          color: ['red', { prefix: 'crim' }],
          size: [{ numeric: ['>=', 10] }],
        }),
      });
      await subscribeQueue(arn, 'shop-big', {
        FilterPolicyScope: 'MessageBody',
        FilterPolicy: JSON.stringify({ order: { total: [{ numeric: ['>', 100] }] } }),
      });
      const sent = await sns.send(
        new PublishCommand({
          TopicArn: arn,
          Subject: 'new order',
          Message: JSON.stringify({ order: { total: 250 } }),
          MessageAttributes: {
            color: { DataType: 'String', StringValue: 'crimson' },
            size: { DataType: 'Number', StringValue: '12' },
          },
        }),
      );
      await sns.send(
        new PublishCommand({
          TopicArn: arn,
          Message: JSON.stringify({ order: { total: 5 } }),
          MessageAttributes: { color: { DataType: 'String', StringValue: 'blue' } },
        }),
      );
      const [first, second] = await receiveAll(allUrl, 2);
      const envelope = JSON.parse(first!.Body!);
      assert.equal(envelope.Type, 'Notification');
      assert.equal(envelope.MessageId, sent.MessageId);
      assert.equal(envelope.TopicArn, arn);
      assert.equal(envelope.Subject, 'new order');
      assert.deepEqual(JSON.parse(envelope.Message), { order: { total: 250 } });
      assert.deepEqual(envelope.MessageAttributes.color, { Type: 'String', Value: 'crimson' });
      assert.deepEqual(envelope.MessageAttributes.size, { Type: 'Number', Value: '12' });
      assert.ok(!Number.isNaN(Date.parse(envelope.Timestamp)));
      assert.equal(envelope.SignatureVersion, '1');
      assert.match(envelope.UnsubscribeURL, /Action=Unsubscribe/);
      assert.equal(JSON.parse(second!.Body!).Subject, undefined);
      const raw = await receiveAll(rawUrl, 2);
      assert.equal(raw[0]!.Body, JSON.stringify({ order: { total: 250 } }));
      assert.equal(raw[0]!.MessageAttributes?.color?.StringValue, 'crimson');
      const red = await receiveAll(redUrl, 1);
      assert.equal(JSON.parse(red[0]!.Body!).MessageId, sent.MessageId);
      const big = await receiveAll(bigUrl, 1);
      assert.equal(JSON.parse(big[0]!.Body!).MessageId, sent.MessageId);
      // Nothing more arrived in the filtered queues.
      for (const url of [redUrl, bigUrl]) {
        const more = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }),
        );
        assert.equal(more.Messages, undefined);
      }
      const attrs = (await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: all })))
        .Attributes!;
      assert.equal(attrs.Protocol, 'sqs');
      assert.equal(attrs.Endpoint, queueArn('shop-all'));
      assert.equal(attrs.RawMessageDelivery, 'false');
      assert.equal(attrs.PendingConfirmation, 'false');
    });

    test('subscriptions: list, list by topic, set attributes, unsubscribe', async () => {
      const arn = await topic('subs');
      await queue('subs-a');
      const sub = await subscribeQueue(arn, 'subs-a');
      assert.equal(await subscribeQueue(arn, 'subs-a'), sub, 'the same endpoint subscribes once');
      const byTopic = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: arn }));
      assert.deepEqual(
        byTopic.Subscriptions?.map((s) => [s.SubscriptionArn, s.Protocol, s.Endpoint, s.TopicArn]),
        [[sub, 'sqs', queueArn('subs-a'), arn]],
      );
      const every = await sns.send(new ListSubscriptionsCommand({}));
      assert.ok(every.Subscriptions?.some((s) => s.SubscriptionArn === sub));
      await sns.send(
        new SetSubscriptionAttributesCommand({
          SubscriptionArn: sub,
          AttributeName: 'FilterPolicy',
          AttributeValue: JSON.stringify({ kind: [{ 'anything-but': 'test' }] }),
        }),
      );
      await sns.send(
        new SetSubscriptionAttributesCommand({
          SubscriptionArn: sub,
          AttributeName: 'RawMessageDelivery',
          AttributeValue: 'true',
        }),
      );
      const attrs = (await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: sub })))
        .Attributes!;
      assert.equal(attrs.RawMessageDelivery, 'true');
      assert.equal(attrs.FilterPolicyScope, 'MessageAttributes');
      assert.deepEqual(JSON.parse(attrs.FilterPolicy!), { kind: [{ 'anything-but': 'test' }] });
      const badScope = await failure(() =>
        sns.send(
          new SetSubscriptionAttributesCommand({
            SubscriptionArn: sub,
            AttributeName: 'FilterPolicyScope',
            AttributeValue: 'Body',
          }),
        ),
      );
      assert.equal(badScope.name, 'InvalidParameterException');
      await sns.send(new UnsubscribeCommand({ SubscriptionArn: sub }));
      const left = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: arn }));
      assert.deepEqual(left.Subscriptions ?? [], []);
    });

    test('PublishBatch: per-entry results and failures; batch limits', async () => {
      const arn = await topic('batch');
      const url = await queue('batch-q');
      await subscribeQueue(arn, 'batch-q', { RawMessageDelivery: 'true' });
      const out = await sns.send(
        new PublishBatchCommand({
          TopicArn: arn,
          PublishBatchRequestEntries: [
            { Id: 'a', Message: 'one' },
            {
              Id: 'b',
              Message: 'two',
              MessageAttributes: { n: { DataType: 'Number', StringValue: 'NaN!' } },
            },
            { Id: 'c', Message: 'three' },
          ],
        }),
      );
      assert.deepEqual(
        out.Successful?.map((s) => s.Id),
        ['a', 'c'],
      );
      assert.ok(out.Successful?.every((s) => typeof s.MessageId === 'string'));
      assert.deepEqual(
        out.Failed?.map((f) => [f.Id, f.Code, f.SenderFault]),
        [['b', 'InvalidParameter', true]],
      );
      const got = await receiveAll(url, 2);
      assert.deepEqual(got.map((m) => m.Body).sort(), ['one', 'three']);
      const tooMany = await failure(() =>
        sns.send(
          new PublishBatchCommand({
            TopicArn: arn,
            PublishBatchRequestEntries: Array.from({ length: 11 }, (_, i) => ({
              Id: `e${i}`,
              Message: 'x',
            })),
          }),
        ),
      );
      assert.equal(tooMany.name, 'TooManyEntriesInBatchRequestException');
      const dup = await failure(() =>
        sns.send(
          new PublishBatchCommand({
            TopicArn: arn,
            PublishBatchRequestEntries: [
              { Id: 'x', Message: 'a' },
              { Id: 'x', Message: 'b' },
            ],
          }),
        ),
      );
      assert.equal(dup.name, 'BatchEntryIdsNotDistinctException');
      const tooLong = await failure(() =>
        sns.send(
          new PublishBatchCommand({
            TopicArn: arn,
            PublishBatchRequestEntries: [
              { Id: 'x', Message: 'a'.repeat(200_000) },
              { Id: 'y', Message: 'b'.repeat(200_000) },
            ],
          }),
        ),
      );
      assert.equal(tooLong.name, 'BatchRequestTooLongException');
    });

    test('MessageStructure json picks the message per protocol', async () => {
      const arn = await topic('structured');
      const url = await queue('structured-q');
      await subscribeQueue(arn, 'structured-q', { RawMessageDelivery: 'true' });
      await sns.send(
        new PublishCommand({
          TopicArn: arn,
          MessageStructure: 'json',
          Message: JSON.stringify({ default: 'for everyone', sqs: 'for queues' }),
        }),
      );
      const [m] = await receiveAll(url, 1);
      assert.equal(m!.Body, 'for queues');
    });

    test('FIFO topic into a FIFO queue keeps the group order', async () => {
      const arn = await topic('pay.fifo', { FifoTopic: 'true', ContentBasedDeduplication: 'true' });
      const url = await queue('pay.fifo', { FifoQueue: 'true' });
      await subscribeQueue(arn, 'pay.fifo', { RawMessageDelivery: 'true' });
      for (const n of [1, 2, 3]) {
        const r = await sns.send(
          new PublishCommand({ TopicArn: arn, Message: `m${n}`, MessageGroupId: 'g' }),
        );
        assert.match(r.SequenceNumber ?? '', /^\d{20}$/);
      }
      const got = await receiveAll(url, 3);
      assert.deepEqual(
        got.map((m) => m.Body),
        ['m1', 'm2', 'm3'],
      );
    });

    test('a failed delivery goes to the subscription dead-letter queue', async () => {
      const arn = await topic('redrive');
      const dlq = await queue('redrive-dlq');
      await subscribeQueue(arn, 'missing-queue', {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn('redrive-dlq') }),
      });
      const sent = await sns.send(new PublishCommand({ TopicArn: arn, Message: 'lost?' }));
      const [m] = await receiveAll(dlq, 1);
      assert.equal(JSON.parse(m!.Body!).MessageId, sent.MessageId);
    });

    test('http: SubscriptionConfirmation, ConfirmSubscription, notifications with retries', async () => {
      const arn = await topic('hooks');
      const sub = await sns.send(
        new SubscribeCommand({ TopicArn: arn, Protocol: 'http', Endpoint: hookUrl }),
      );
      assert.equal(sub.SubscriptionArn, 'pending confirmation');
      const confirmation = await waitForValue(
        () => posts.find((p) => p.headers['x-amz-sns-message-type'] === 'SubscriptionConfirmation'),
        'the confirmation request',
      );
      const body = JSON.parse(confirmation.body);
      assert.equal(body.Type, 'SubscriptionConfirmation');
      assert.equal(body.TopicArn, arn);
      assert.match(body.SubscribeURL, /Action=ConfirmSubscription/);
      const pending = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: arn }));
      assert.equal(pending.Subscriptions?.[0]?.SubscriptionArn, 'PendingConfirmation');
      // Not confirmed yet: nothing is delivered.
      await sns.send(new PublishCommand({ TopicArn: arn, Message: 'too early' }));
      const badToken = await failure(() =>
        sns.send(new ConfirmSubscriptionCommand({ TopicArn: arn, Token: 'nope' })),
      );
      assert.equal(badToken.name, 'InvalidParameterException');
      const confirmed = await sns.send(
        new ConfirmSubscriptionCommand({ TopicArn: arn, Token: body.Token }),
      );
      assert.match(confirmed.SubscriptionArn ?? '', /^arn:aws:sns:us-east-1:000000000000:hooks:/);
      failNext = 1;
      const sent = await sns.send(new PublishCommand({ TopicArn: arn, Message: 'hello hook' }));
      const note = await waitForValue(
        () => posts.find((p) => p.headers['x-amz-sns-message-id'] === sent.MessageId),
        'the notification, after one retry',
      );
      assert.equal(note.headers['x-amz-sns-message-type'], 'Notification');
      assert.equal(note.headers['x-amz-sns-subscription-arn'], confirmed.SubscriptionArn);
      assert.equal(JSON.parse(note.body).Message, 'hello hook');
      assert.ok(!posts.some((p) => p.body.includes('too early')));
    });

    test('http: the SubscribeURL confirms unsigned, by its token alone', async () => {
      const arn = await topic('hooks-get');
      const endpoint = `${hookUrl}?via=get`;
      await sns.send(new SubscribeCommand({ TopicArn: arn, Protocol: 'http', Endpoint: endpoint }));
      const confirmation = await waitForValue(
        () =>
          posts.find(
            (p) =>
              p.headers['x-amz-sns-message-type'] === 'SubscriptionConfirmation' &&
              JSON.parse(p.body).TopicArn === arn,
          ),
        'the confirmation request',
      );
      const { SubscribeURL, Token } = JSON.parse(confirmation.body);
      const forged = await fetch(SubscribeURL.replace(Token, 'f'.repeat(64)));
      assert.equal(forged.status, 400);
      assert.match(await forged.text(), /<Code>InvalidParameter<\/Code>/);
      const other = await fetch(
        `${aws.platform.url}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(arn)}`,
      );
      assert.equal(other.status, 400, 'no token, no confirmation');
      const res = await fetch(SubscribeURL);
      assert.equal(res.status, 200);
      assert.match(
        await res.text(),
        /<ConfirmSubscriptionResult><SubscriptionArn>arn:aws:sns:us-east-1:000000000000:hooks-get:/,
      );
      const subs = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: arn }));
      assert.match(subs.Subscriptions?.[0]?.SubscriptionArn ?? '', /^arn:aws:sns:/);
    });

    test('unsigned and wrongly signed calls are refused', async () => {
      const unsigned = await fetch(aws.platform.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIDNOPE/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=00',
        },
        body: 'Action=ListTopics&Version=2010-03-31',
      });
      assert.equal(unsigned.status, 403);
      assert.match(
        await unsigned.text(),
        /<ErrorResponse xmlns="http:\/\/sns.amazonaws.com\/doc\/2010-03-31\/"><Error><Type>Sender<\/Type><Code>\w+<\/Code>/,
      );
      const wrong = new SNSClient({
        endpoint: aws.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: aws.key.id, secretAccessKey: 'wrong' },
        maxAttempts: 1,
      });
      const refused = await failure(() => wrong.send(new ListTopicsCommand({})));
      wrong.destroy();
      assert.equal(refused.name, 'SignatureDoesNotMatch');
    });
  });
