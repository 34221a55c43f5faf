/**
 * SQS over the query protocol (what aws-sdk v2 and older boto3 send): SigV4-signed form POSTs
 * with `Action=...`, answered in XML, on SQLite and PostgreSQL. The same operations the JSON
 * suite covers; here the wire shapes: flattened parameters in, XML results and errors out.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { md5OfAttributes } from '../../../src/services/sqs/message-md5.js';
import { signRequest } from '../../auth/aws-signer.js';
import { type SqsPlatform, sqsVariants, startSqsPlatform } from './sqs-platform.js';

for (const variant of sqsVariants)
  describe(`SQS query protocol on ${variant.name}`, () => {
    let sqs: SqsPlatform;

    before(async () => {
      sqs = await startSqsPlatform(variant);
    });
    after(async () => {
      await sqs?.close();
    });

    async function call(
      params: Record<string, string>,
      opts: { secret?: string; path?: string } = {},
    ) {
      const host = new URL(sqs.platform.url).host;
      const body = new URLSearchParams({ Version: '2012-11-05', ...params }).toString();
      const signed = await signRequest(
        {
          path: opts.path ?? '/',
          body,
          host,
          headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        },
        {
          accessKeyId: sqs.key.id,
          secret: opts.secret ?? sqs.key.secret,
          at: sqs.clock.now(),
          service: 'sqs',
        },
      );
      const headers = { ...(signed.headers as Record<string, string>) };
      delete headers.host;
      const res = await fetch(`${sqs.platform.url}${signed.target}`, {
        method: 'POST',
        headers,
        body,
      });
      return { status: res.status, type: res.headers.get('content-type'), xml: await res.text() };
    }
    const field = (xml: string, name: string) =>
      [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]);

    test('create, send with attributes, receive, delete: XML in the query shapes', async () => {
      const created = await call({
        Action: 'CreateQueue',
        QueueName: 'legacy',
        'Attribute.1.Name': 'VisibilityTimeout',
        'Attribute.1.Value': '40',
      });
      assert.equal(created.status, 200);
      assert.match(
        created.xml,
        /<CreateQueueResponse xmlns="http:\/\/queue.amazonaws.com\/doc\/2012-11-05\/"><CreateQueueResult><QueueUrl>/,
      );
      const [url] = field(created.xml, 'QueueUrl');
      assert.equal(url, `${sqs.platform.url}/000000000000/legacy`);
      const path = '/000000000000/legacy';

      const attributes = {
        kind: { DataType: 'String', StringValue: 'order & <co>' },
        blob: { DataType: 'Binary', BinaryValue: Buffer.from('bytes').toString('base64') },
      };
      const sent = await call(
        {
          Action: 'SendMessage',
          QueueUrl: url!,
          MessageBody: 'body <with> markup & ünïcode',
          'MessageAttribute.1.Name': 'kind',
          'MessageAttribute.1.Value.DataType': 'String',
          'MessageAttribute.1.Value.StringValue': 'order & <co>',
          'MessageAttribute.2.Name': 'blob',
          'MessageAttribute.2.Value.DataType': 'Binary',
          'MessageAttribute.2.Value.BinaryValue': attributes.blob.BinaryValue,
        },
        { path },
      );
      assert.equal(sent.status, 200, sent.xml);
      assert.deepEqual(field(sent.xml, 'MD5OfMessageAttributes'), [md5OfAttributes(attributes)]);
      assert.deepEqual(field(sent.xml, 'MD5OfMessageBody'), [
        createHash('md5').update('body <with> markup & ünïcode').digest('hex'),
      ]);

      const attrs = await call(
        { Action: 'GetQueueAttributes', QueueUrl: url!, 'AttributeName.1': 'All' },
        { path },
      );
      assert.match(
        attrs.xml,
        /<Attribute><Name>VisibilityTimeout<\/Name><Value>40<\/Value><\/Attribute>/,
      );
      assert.match(attrs.xml, /<Name>ApproximateNumberOfMessages<\/Name><Value>1<\/Value>/);

      const got = await call(
        {
          Action: 'ReceiveMessage',
          QueueUrl: url!,
          'AttributeName.1': 'All',
          'MessageAttributeName.1': 'All',
          MaxNumberOfMessages: '5',
        },
        { path },
      );
      assert.equal(got.status, 200);
      assert.deepEqual(field(got.xml, 'Body'), ['body &lt;with&gt; markup &amp; ünïcode']);
      assert.match(
        got.xml,
        /<MessageAttribute><Name>kind<\/Name><Value><StringValue>order &amp; &lt;co&gt;<\/StringValue><DataType>String<\/DataType><\/Value><\/MessageAttribute>/,
      );
      assert.match(
        got.xml,
        /<Attribute><Name>ApproximateReceiveCount<\/Name><Value>1<\/Value><\/Attribute>/,
      );
      const [handle] = field(got.xml, 'ReceiptHandle');

      const batch = await call(
        {
          Action: 'DeleteMessageBatch',
          QueueUrl: url!,
          'DeleteMessageBatchRequestEntry.1.Id': 'one',
          'DeleteMessageBatchRequestEntry.1.ReceiptHandle': handle!,
          'DeleteMessageBatchRequestEntry.2.Id': 'two',
          'DeleteMessageBatchRequestEntry.2.ReceiptHandle': 'bogus',
        },
        { path },
      );
      assert.match(
        batch.xml,
        /<DeleteMessageBatchResultEntry><Id>one<\/Id><\/DeleteMessageBatchResultEntry>/,
      );
      assert.match(
        batch.xml,
        /<BatchResultErrorEntry><Id>two<\/Id><SenderFault>true<\/SenderFault><Code>ReceiptHandleIsInvalid<\/Code>/,
      );

      const sentBatch = await call(
        {
          Action: 'SendMessageBatch',
          QueueUrl: url!,
          'SendMessageBatchRequestEntry.1.Id': 'a',
          'SendMessageBatchRequestEntry.1.MessageBody': 'first',
          'SendMessageBatchRequestEntry.2.Id': 'b',
          'SendMessageBatchRequestEntry.2.MessageBody': 'second',
          'SendMessageBatchRequestEntry.2.MessageAttribute.1.Name': 'n',
          'SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.DataType': 'Number',
          'SendMessageBatchRequestEntry.2.MessageAttribute.1.Value.StringValue': '7',
        },
        { path },
      );
      assert.equal(field(sentBatch.xml, 'Id').length, 2);
      assert.equal(field(sentBatch.xml, 'MD5OfMessageAttributes').length, 1);

      const listed = await call({ Action: 'ListQueues' });
      assert.deepEqual(field(listed.xml, 'QueueUrl'), [url]);
      const deleted = await call({ Action: 'DeleteQueue', QueueUrl: url! }, { path });
      assert.match(
        deleted.xml,
        /^<\?xml[^>]*>\n<DeleteQueueResponse[^>]*><ResponseMetadata><RequestId>/,
      );
    });

    test('errors in the query envelope, with the query codes', async () => {
      const missing = await call({
        Action: 'GetQueueUrl',
        QueueName: 'nope',
      });
      assert.equal(missing.status, 400);
      assert.equal(missing.type, 'text/xml');
      assert.match(
        missing.xml,
        /<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>AWS.SimpleQueueService.NonExistentQueue<\/Code><Message>/,
      );

      await call({ Action: 'CreateQueue', QueueName: 'small' });
      const big = await call({
        Action: 'SendMessage',
        QueueUrl: `${sqs.platform.url}/000000000000/small`,
        MessageBody: 'x'.repeat(262_145),
      });
      assert.equal(big.status, 400);
      assert.deepEqual(field(big.xml, 'Code'), ['InvalidParameterValue']);
      const badAttr = await call({
        Action: 'CreateQueue',
        QueueName: 'small2',
        'Attribute.1.Name': 'DelaySeconds',
        'Attribute.1.Value': '901',
      });
      assert.deepEqual(field(badAttr.xml, 'Code'), ['InvalidAttributeValue']);
      const unknown = await call({ Action: 'FlyAway' });
      assert.deepEqual(field(unknown.xml, 'Code'), ['InvalidAction']);
      const forged = await call({ Action: 'ListQueues' }, { secret: 'wrong' });
      assert.equal(forged.status, 403);
      assert.deepEqual(field(forged.xml, 'Code'), ['SignatureDoesNotMatch']);
      const listed = await call({ Action: 'ListQueues' });
      assert.deepEqual(field(listed.xml, 'QueueUrl'), [`${sqs.platform.url}/000000000000/small`]);
    });
  });
