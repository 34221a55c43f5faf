/**
 * The AWS JSON codec's refusals on the wire, as an SDK would never send them: a body that is not
 * JSON, an unknown target, an oversized body, unsigned calls. Each answers the JSON error shape
 * and leaves the queues as they were.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signRequest } from '../../auth/aws-signer.js';
import { type SqsPlatform, startSqsPlatform } from './sqs-platform.js';

describe('SQS AWS JSON wire refusals', () => {
  let sqs: SqsPlatform;

  before(async () => {
    sqs = await startSqsPlatform();
  });
  after(async () => {
    await sqs?.close();
  });

  async function call(target: string, body: string | Buffer) {
    const host = new URL(sqs.platform.url).host;
    const signed = await signRequest(
      {
        path: '/',
        body,
        host,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target },
      },
      { accessKeyId: sqs.key.id, secret: sqs.key.secret, at: sqs.clock.now(), service: 'sqs' },
    );
    const headers = { ...(signed.headers as Record<string, string>) };
    delete headers.host;
    const res = await fetch(`${sqs.platform.url}/`, { method: 'POST', headers, body });
    return {
      status: res.status,
      query: res.headers.get('x-amzn-query-error'),
      json: (await res.json()) as { __type: string; message: string },
    };
  }

  test('not JSON, not an object, unknown targets and oversized bodies', async () => {
    const notJson = await call('AmazonSQS.CreateQueue', '{"QueueName": ');
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.__type, 'com.amazonaws.sqs#SerializationException');
    const notObject = await call('AmazonSQS.CreateQueue', '["q"]');
    assert.equal(notObject.json.__type, 'com.amazonaws.sqs#SerializationException');
    const wrongPrefix = await call('DynamoDB_20120810.CreateTable', '{}');
    assert.equal(wrongPrefix.json.__type, 'com.amazonaws.sqs#UnknownOperationException');
    const unknown = await call('AmazonSQS.Fly', '{}');
    assert.equal(unknown.json.__type, 'com.amazonaws.sqs#InvalidAction');
    assert.equal(unknown.query, 'InvalidAction;Sender');
    const wrongType = await call('AmazonSQS.CreateQueue', '{"QueueName": 7}');
    assert.equal(wrongType.json.__type, 'com.amazonaws.sqs#InvalidParameterValue');
    const huge = await call(
      'AmazonSQS.CreateQueue',
      JSON.stringify({ QueueName: 'x', pad: 'y'.repeat(8 * 1024 * 1024) }),
    );
    assert.equal(huge.status, 413);
    assert.equal(huge.json.__type, 'com.amazonaws.sqs#RequestEntityTooLarge');

    const unsigned = await fetch(`${sqs.platform.url}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AmazonSQS.ListQueues',
        authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws4_request',
      },
      body: '{}',
    });
    assert.equal(unsigned.status, 403);
    const refused = (await unsigned.json()) as { __type: string };
    assert.match(refused.__type, /^com\.amazonaws\.sqs#/);

    const listed = await call('AmazonSQS.ListQueues', '{}');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.json, {});
  });
});
