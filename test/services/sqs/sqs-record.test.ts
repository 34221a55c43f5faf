/**
 * The SQS record a function is sent: its JSON text, written directly by the event source, is the
 * text JSON.stringify gives for the record object, whatever the message carries.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordJson } from '../../../src/platform/event-sources/record-json.js';
import { sqsRecord } from '../../../src/services/sqs/sqs-event-source.js';
import type { MessageRow } from '../../../src/services/sqs/sqs-store.js';

const arn = 'arn:aws:sqs:us-east-1:000000000000:jobs';
const base: MessageRow = {
  id: '0194a3b2-c4d5-7001-8abc-0123456789ab',
  queue: 'jobs',
  seq: 1_750_000_000_000_001,
  body: 'plain "quoted" \\ body\n\u2028 ünïcode',
  messageAttributes: {},
  md5Body: 'a1b2c3',
  sentAt: 1_750_000_000_000,
  visibleAt: 1_750_000_030_000,
  receiveCount: 2,
  firstReceivedAt: 1_750_000_000_500,
  receipt: 'cmVjZWlwdA',
};

for (const [name, m] of [
  ['a standard message', base],
  [
    'a message never received before this one (no first receive)',
    { ...base, firstReceivedAt: undefined },
  ],
  [
    'a FIFO message with attributes',
    {
      ...base,
      groupId: 'group "a"',
      dedupId: 'dedup-1',
      md5Attributes: 'd4e5f6',
      messageAttributes: {
        kind: { DataType: 'String', StringValue: 'order' },
        blob: { DataType: 'Binary', BinaryValue: 'AAEC' },
      },
    },
  ],
] as const) {
  test(`SQS record text is JSON.stringify of the record: ${name}`, () => {
    const r = sqsRecord(m as MessageRow, arn, 'us-east-1');
    assert.equal(recordJson(r), JSON.stringify(r.record));
    assert.equal(r.id, m.id);
    assert.equal((r.record as { receiptHandle: string }).receiptHandle, m.receipt);
    assert.deepEqual(JSON.parse(recordJson(r)), r.record);
  });
}
