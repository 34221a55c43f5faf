/**
 * Every supported SQS operation through the official @aws-sdk/client-sqs (AWS JSON 1.0, its MD5
 * checks on), against a platform started in-process, on SQLite and on PostgreSQL. Time moves by
 * the platform's injected clock: nothing sleeps for visibility timeouts or delays.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { failure } from '../s3/s3-platform.js';
import { type SqsPlatform, sqsVariants, startSqsPlatform } from './sqs-platform.js';

for (const variant of sqsVariants)
  describe(`SQS through @aws-sdk/client-sqs on ${variant.name}`, () => {
    let sqs: SqsPlatform;
    let client: SQSClient;

    before(async () => {
      sqs = await startSqsPlatform(variant);
      client = sqs.client();
    });
    after(async () => {
      client?.destroy();
      await sqs?.close();
    });

    const create = async (name: string, Attributes?: Record<string, string>) =>
      (await client.send(new CreateQueueCommand({ QueueName: name, Attributes }))).QueueUrl!;
    const receive = (QueueUrl: string, extra: Record<string, unknown> = {}) =>
      client.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
          ...extra,
        }),
      );

    test('queues: create, get url, list, attributes, purge, delete', async () => {
      const url = await create('orders', { VisibilityTimeout: '45', DelaySeconds: '0' });
      assert.equal(url, `${sqs.platform.url}/000000000000/orders`);
      assert.equal(await create('orders', { VisibilityTimeout: '45' }), url);
      await create('orders-audit');
      await create('other');
      const got = await client.send(new GetQueueUrlCommand({ QueueName: 'orders' }));
      assert.equal(got.QueueUrl, url);
      const listed = await client.send(new ListQueuesCommand({ QueueNamePrefix: 'orders' }));
      assert.deepEqual(listed.QueueUrls, [url, `${sqs.platform.url}/000000000000/orders-audit`]);
      const paged = await client.send(new ListQueuesCommand({ MaxResults: 1 }));
      assert.equal(paged.QueueUrls?.length, 1);
      assert.ok(paged.NextToken);

      await client.send(
        new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { DelaySeconds: '5' } }),
      );
      await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'a' }));
      const attrs = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
      );
      assert.equal(attrs.Attributes?.VisibilityTimeout, '45');
      assert.equal(attrs.Attributes?.DelaySeconds, '5');
      assert.equal(attrs.Attributes?.ApproximateNumberOfMessagesDelayed, '1');
      assert.equal(attrs.Attributes?.QueueArn, 'arn:aws:sqs:us-east-1:000000000000:orders');
      sqs.clock.advance(5_000);
      const counted = await client.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      assert.deepEqual(counted.Attributes, { ApproximateNumberOfMessages: '1' });
      await client.send(new PurgeQueueCommand({ QueueUrl: url }));
      assert.equal((await receive(url)).Messages, undefined);
      await client.send(new DeleteQueueCommand({ QueueUrl: url }));
      const gone = await failure(() =>
        client.send(new GetQueueUrlCommand({ QueueName: 'orders' })),
      );
      assert.equal(gone.name, 'QueueDoesNotExist');
      assert.equal(gone.Code, 'AWS.SimpleQueueService.NonExistentQueue');
      assert.equal(gone.$metadata.httpStatusCode, 400);
    });

    test('send and receive with message attributes: the SDK checks the MD5 digests', async () => {
      const url = await create('attrs');
      const sent = await client.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: 'héllo ✓',
          MessageAttributes: {
            kind: { DataType: 'String', StringValue: 'order' },
            count: { DataType: 'Number', StringValue: '3' },
            blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 255]) },
          },
        }),
      );
      assert.ok(sent.MessageId);
      assert.match(sent.MD5OfMessageAttributes ?? '', /^[0-9a-f]{32}$/);
      const got = await receive(url);
      assert.equal(got.Messages?.length, 1);
      const m = got.Messages![0]!;
      assert.equal(m.Body, 'héllo ✓');
      assert.equal(m.MessageId, sent.MessageId);
      assert.equal(m.MD5OfMessageAttributes, sent.MD5OfMessageAttributes);
      assert.equal(m.MessageAttributes?.kind?.StringValue, 'order');
      assert.deepEqual([...(m.MessageAttributes?.blob?.BinaryValue ?? [])], [0, 1, 2, 255]);
      assert.equal(m.Attributes?.ApproximateReceiveCount, '1');
      assert.ok(m.Attributes?.SentTimestamp);
      await client.send(
        new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }),
      );
      sqs.clock.advance(31_000);
      assert.equal((await receive(url)).Messages, undefined);
    });

    test('visibility: a received message reappears after its timeout, with its count', async () => {
      const url = await create('visibility', { VisibilityTimeout: '30' });
      await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'again' }));
      const first = (await receive(url)).Messages![0]!;
      assert.equal((await receive(url)).Messages, undefined);
      sqs.clock.advance(29_000);
      assert.equal((await receive(url)).Messages, undefined);
      sqs.clock.advance(1_000);
      const second = (await receive(url)).Messages![0]!;
      assert.equal(second.MessageId, first.MessageId);
      assert.notEqual(second.ReceiptHandle, first.ReceiptHandle);
      assert.equal(second.Attributes?.ApproximateReceiveCount, '2');
      // The stale handle no longer changes visibility; the current one does.
      const stale = await failure(() =>
        client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: url,
            ReceiptHandle: first.ReceiptHandle,
            VisibilityTimeout: 0,
          }),
        ),
      );
      assert.equal(stale.name, 'MessageNotInflight');
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: second.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
      const third = (await receive(url)).Messages![0]!;
      assert.equal(third.Attributes?.ApproximateReceiveCount, '3');
    });

    test('delays and retention follow the clock', async () => {
      const url = await create('timed', { MessageRetentionPeriod: '60' });
      await client.send(
        new SendMessageCommand({ QueueUrl: url, MessageBody: 'later', DelaySeconds: 10 }),
      );
      assert.equal((await receive(url)).Messages, undefined);
      sqs.clock.advance(10_000);
      const got = (await receive(url, { VisibilityTimeout: 0 })).Messages ?? [];
      assert.deepEqual(
        got.map((m) => m.Body),
        ['later'],
      );
      sqs.clock.advance(50_000);
      assert.equal((await receive(url)).Messages, undefined);
      const attrs = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
      );
      assert.equal(attrs.Attributes?.ApproximateNumberOfMessages, '0');
      assert.equal(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible, '0');
    });

    test('batches: send, change visibility and delete ten at a time', async () => {
      const url = await create('batches');
      const entries = Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `b${i}` }));
      const sent = await client.send(
        new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }),
      );
      assert.equal(sent.Successful?.length, 10);
      assert.deepEqual(sent.Failed ?? [], []);
      const got = (await receive(url)).Messages ?? [];
      assert.equal(got.length, 10);
      assert.deepEqual(got.map((m) => m.Body).sort(), entries.map((e) => e.MessageBody).sort());
      const changed = await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: got.slice(0, 2).map((m, i) => ({
            Id: `c${i}`,
            ReceiptHandle: m.ReceiptHandle!,
            VisibilityTimeout: 0,
          })),
        }),
      );
      assert.equal(changed.Successful?.length, 2);
      const deleted = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: [
            ...got.slice(0, 9).map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })),
            { Id: 'bad', ReceiptHandle: 'not a handle' },
          ],
        }),
      );
      assert.equal(deleted.Successful?.length, 9);
      assert.equal(deleted.Failed?.[0]?.Id, 'bad');
      assert.equal(deleted.Failed?.[0]?.Code, 'ReceiptHandleIsInvalid');
      const tooMany = await failure(() =>
        client.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: [...entries, { Id: 'm10', MessageBody: 'x' }],
          }),
        ),
      );
      assert.equal(tooMany.name, 'TooManyEntriesInBatchRequest');
      const same = await failure(() =>
        client.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: [entries[0]!, entries[0]!],
          }),
        ),
      );
      assert.equal(same.name, 'BatchEntryIdsNotDistinct');
    });

    test('long polling: a waiting receive is woken by a send', async () => {
      const url = await create('long-poll');
      const started = Date.now();
      const waiting = receive(url, { WaitTimeSeconds: 20 });
      await new Promise((r) => setTimeout(r, 200));
      await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'wake up' }));
      const got = await waiting;
      assert.equal(got.Messages?.[0]?.Body, 'wake up');
      // A generous no-hang bound: woken, not timed out at 20 s.
      assert.ok(Date.now() - started < 10_000);
    });

    test('dead letters: a message received maxReceiveCount times moves to the DLQ', async () => {
      const dlq = await create('work-dlq');
      const url = await create('work', {
        VisibilityTimeout: '10',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:work-dlq',
          maxReceiveCount: 2,
        }),
      });
      await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'poison' }));
      for (let i = 0; i < 2; i += 1) {
        assert.equal((await receive(url)).Messages?.length, 1);
        sqs.clock.advance(10_000);
      }
      assert.equal((await receive(url)).Messages, undefined);
      const dead = (await receive(dlq)).Messages ?? [];
      assert.equal(dead.length, 1);
      assert.equal(dead[0]!.Body, 'poison');
    });

    test('FIFO: order per group, one group in flight at a time, deduplication for 5 minutes', async () => {
      const url = await create('jobs.fifo', {
        FifoQueue: 'true',
        ContentBasedDeduplication: 'true',
      });
      const send = (body: string, group: string, dedup?: string) =>
        client.send(
          new SendMessageCommand({
            QueueUrl: url,
            MessageBody: body,
            MessageGroupId: group,
            ...(dedup ? { MessageDeduplicationId: dedup } : {}),
          }),
        );
      const a1 = await send('a1', 'a');
      await send('b1', 'b');
      await send('a2', 'a');
      const dup = await send('a1', 'a');
      assert.equal(dup.MessageId, a1.MessageId);
      await send('a3', 'a', 'explicit');
      await send('a3 again', 'a', 'explicit');
      const first = (await receive(url)).Messages ?? [];
      assert.deepEqual(
        first.map((m) => m.Body),
        ['a1', 'b1', 'a2', 'a3'],
      );
      assert.equal(first[0]!.Attributes?.MessageGroupId, 'a');
      // Everything is in flight: nothing more until it is deleted or its visibility ends.
      assert.equal((await receive(url)).Messages, undefined);
      await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: first.map((m, i) => ({ Id: `${i}`, ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
      sqs.clock.advance(6 * 60 * 1000);
      await send('a1', 'a');
      assert.deepEqual(
        ((await receive(url)).Messages ?? []).map((m) => m.Body),
        ['a1'],
      );
      const noGroup = await failure(() =>
        client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' })),
      );
      assert.equal(noGroup.name, 'MissingParameter');
    });

    test('bad input answers SQS errors and changes nothing', async () => {
      const url = await create('strict');
      const missing = await failure(() =>
        client.send(
          new SendMessageCommand({
            QueueUrl: `${sqs.platform.url}/000000000000/nope`,
            MessageBody: 'x',
          }),
        ),
      );
      assert.equal(missing.name, 'QueueDoesNotExist');
      assert.equal(missing.Code, 'AWS.SimpleQueueService.NonExistentQueue');

      const big = await failure(() =>
        client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x'.repeat(262_145) })),
      );
      assert.equal(big.name, 'InvalidParameterValue');
      assert.match(big.message, /shorter than 262144 bytes/);

      const badAttr = await failure(() =>
        client.send(
          new CreateQueueCommand({
            QueueName: 'bad',
            Attributes: { Colour: 'red' } as Record<string, string>,
          }),
        ),
      );
      assert.equal(badAttr.name, 'InvalidAttributeName');
      const badValue = await failure(() =>
        client.send(
          new CreateQueueCommand({ QueueName: 'bad', Attributes: { VisibilityTimeout: '-1' } }),
        ),
      );
      assert.equal(badValue.name, 'InvalidAttributeValue');
      const badRedrive = await failure(() =>
        client.send(
          new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { RedrivePolicy: '{' } }),
        ),
      );
      assert.equal(badRedrive.name, 'InvalidAttributeValue');
      const badName = await failure(() =>
        client.send(new CreateQueueCommand({ QueueName: 'has space' })),
      );
      assert.equal(badName.name, 'InvalidParameterValue');
      const exists = await failure(() =>
        client.send(
          new CreateQueueCommand({ QueueName: 'strict', Attributes: { DelaySeconds: '9' } }),
        ),
      );
      assert.equal(exists.name, 'QueueNameExists');
      assert.equal(exists.Code, 'QueueAlreadyExists');
      const badType = await failure(() =>
        client.send(
          new SendMessageCommand({
            QueueUrl: url,
            MessageBody: 'x',
            MessageAttributes: { a: { DataType: 'Colour', StringValue: 'red' } },
          }),
        ),
      );
      assert.equal(badType.name, 'InvalidParameterValue');
      const badChars = await failure(() =>
        client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'a\u0000b' })),
      );
      assert.equal(badChars.name, 'InvalidMessageContents');
      const badHandle = await failure(() =>
        client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'forged' })),
      );
      assert.equal(badHandle.name, 'ReceiptHandleIsInvalid');

      const wrongSecret = sqs.client({
        credentials: { accessKeyId: sqs.key.id, secretAccessKey: 'not-the-secret' },
      });
      const denied = await failure(() =>
        wrongSecret.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' })),
      );
      wrongSecret.destroy();
      assert.equal(denied.name, 'SignatureDoesNotMatch');
      assert.equal(denied.$metadata.httpStatusCode, 403);
      const unknownKey = sqs.client({
        credentials: { accessKeyId: 'AKIDNOTAKEY', secretAccessKey: 'x' },
      });
      const unknown = await failure(() => unknownKey.send(new ListQueuesCommand({})));
      unknownKey.destroy();
      assert.equal(unknown.name, 'InvalidClientTokenId');

      const attrs = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
      );
      assert.equal(attrs.Attributes?.ApproximateNumberOfMessages, '0');
      assert.equal(attrs.Attributes?.DelaySeconds, '0');
      assert.equal(
        (await client.send(new ListQueuesCommand({ QueueNamePrefix: 'bad' }))).QueueUrls,
        undefined,
      );
    });
  });
