import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { hmacSha256Of } from '../../src/platform/auth/sha256-hex.js';

describe('HMAC-SHA256 under a kept key', () => {
  test('is what createHmac gives, for any key length and message', () => {
    const messages = [
      '',
      'AWS4-HMAC-SHA256\n20260115T123000Z\n20260115/us-east-1/dynamodb/aws4_request\nabc',
      'x'.repeat(1000),
      'région héllo ☃ \u{1F600}',
      '\u00ff\u0080',
    ];
    for (const length of [0, 1, 32, 63, 64, 65, 200]) {
      const key = randomBytes(length);
      const hmac = hmacSha256Of(key);
      for (const message of messages) {
        const expected = createHmac('sha256', key).update(message).digest();
        assert.deepEqual(hmac(message), expected, `key of ${length} bytes, ${message}`);
      }
    }
  });
});
