/** S3 user metadata values past US-ASCII: decoded on the way in, RFC 2047 on the way out. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeMetadataValue,
  encodeMetadataValue,
} from '../../../src/services/s3/metadata-values.js';

/** A value as Node reads it off the wire: a byte a character. */
const wire = (text: string, encoding: BufferEncoding = 'utf8') =>
  Buffer.from(text, encoding).toString('latin1');

describe('S3 metadata values', () => {
  test('UTF-8 bytes (the JS SDK) and latin-1 bytes (Python) both give the text', () => {
    assert.equal(decodeMetadataValue(wire('crème brûlée')), 'crème brûlée');
    assert.equal(decodeMetadataValue(wire('crème', 'latin1')), 'crème');
    assert.equal(decodeMetadataValue('plain ascii'), 'plain ascii');
  });

  test('RFC 2047 encoded-words (B and Q, UTF-8 and ISO-8859-1) are decoded; others stay', () => {
    const b = `=?UTF-8?B?${Buffer.from('naïve').toString('base64')}?=`;
    assert.equal(decodeMetadataValue(b), 'naïve');
    assert.equal(decodeMetadataValue('=?utf-8?q?caf=C3=A9_cr=C3=A8me?='), 'café crème');
    assert.equal(decodeMetadataValue('=?ISO-8859-1?Q?caf=E9?='), 'café');
    assert.equal(decodeMetadataValue('=?UTF-8?B?YQ==?= =?UTF-8?B?Yg==?='), 'ab');
    assert.equal(decodeMetadataValue('x =?KOI8-R?B?YQ==?= y'), 'x =?KOI8-R?B?YQ==?= y');
    assert.equal(decodeMetadataValue('=? not a word ?='), '=? not a word ?=');
  });

  test('plain US-ASCII goes back as it is, anything else as one UTF-8 B word', () => {
    assert.equal(encodeMetadataValue('team-a'), 'team-a');
    const text = 'prix\u00a0: 10 €';
    const encoded = encodeMetadataValue(text);
    assert.equal(encoded, `=?UTF-8?B?${Buffer.from(text).toString('base64')}?=`);
    assert.equal(decodeMetadataValue(encoded), text);
  });
});
