/** The attribute digest against a published value (the SDKs of other languages check it). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { md5OfAttributes, md5OfBody } from '../../../src/services/sqs/message-md5.js';

test('MD5OfMessageAttributes: sorted names, length-prefixed fields, transport byte', () => {
  // The value SQS answers for these two attributes (as recorded in moto's test suite).
  assert.equal(
    md5OfAttributes({
      Hello: { DataType: 'String', StringValue: 'There' },
      General: { DataType: 'String', StringValue: 'Kenobi' },
    }),
    'fca026605781cb4126a1e9044df24232',
  );
  assert.equal(md5OfAttributes({}), undefined);
  assert.equal(md5OfBody(''), 'd41d8cd98f00b204e9800998ecf8427e');
});
