import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  FilterPatternError,
  parseFilterPattern,
} from '../../src/platform/observe/subscriptions/filter-pattern.js';

function matches(pattern: string, messages: string[]): string[] {
  const m = parseFilterPattern(pattern);
  return messages.filter((x) => m(x));
}

describe('CloudWatch Logs filter patterns', () => {
  const lines = [
    'ERROR disk full',
    'ERROR Exiting now',
    'WARN slow',
    'INFO Exception thrown here',
    'ok',
  ];

  test('empty matches all; terms are all required; quoted phrases', () => {
    assert.equal(matches('', lines).length, lines.length);
    assert.deepEqual(matches('ERROR', lines), ['ERROR disk full', 'ERROR Exiting now']);
    assert.deepEqual(matches('ERROR disk', lines), ['ERROR disk full']);
    assert.deepEqual(matches('"Exception thrown"', lines), ['INFO Exception thrown here']);
  });

  test('? alternatives and - exclusions', () => {
    assert.deepEqual(matches('?ERROR ?WARN', lines), [
      'ERROR disk full',
      'ERROR Exiting now',
      'WARN slow',
    ]);
    assert.deepEqual(matches('ERROR -Exiting', lines), ['ERROR disk full']);
  });

  test('JSON patterns', () => {
    const json = [
      JSON.stringify({ level: 'error', latency: 150, user: { id: 'u1' } }),
      JSON.stringify({ level: 'error', latency: 50 }),
      JSON.stringify({ level: 'info', latency: 500, ok: true }),
      'not json',
    ];
    assert.deepEqual(matches('{ $.level = "error" && $.latency > 100 }', json), [json[0]]);
    assert.deepEqual(matches('{ $.level = "err*" }', json), [json[0], json[1]]);
    assert.deepEqual(matches('{ ($.latency < 100 || $.ok IS TRUE) }', json), [json[1], json[2]]);
    assert.deepEqual(matches('{ $.user.id NOT EXISTS && $.level != "info" }', json), [json[1]]);
    assert.deepEqual(matches('{ $.user.id = "u1" }', json), [json[0]]);
  });

  test('space-delimited patterns', () => {
    const access = [
      '127.0.0.1 frank [10/Oct/2000:13:25:15 -0700] "GET /a HTTP/1.0" 404 1534',
      '127.0.0.1 frank [10/Oct/2000:13:25:15 -0700] "GET /b HTTP/1.0" 200 99',
    ];
    assert.deepEqual(matches('[ip, user, timestamp, request, status_code = 404, bytes]', access), [
      access[0],
    ]);
    assert.deepEqual(matches('[ip, user, ..., status_code = 2*, bytes < 100]', access), [
      access[1],
    ]);
    assert.deepEqual(matches('[ip, user = "frank", ...]', access), access);
    assert.deepEqual(matches('[a, b]', access), []);
  });

  test('malformed patterns are refused', () => {
    for (const bad of [
      '"open',
      '{ $.level = "x"',
      '{ level = "x" }',
      '{ $.a > "x" }',
      '[a, , b]',
      '[a, a]',
      '[ip, ..., ...]',
      '?ERROR -WARN',
      '{ $.a = }',
    ] as const) {
      assert.throws(() => parseFilterPattern(bad), FilterPatternError, bad);
    }
  });
});
