import assert from 'node:assert/strict';
import { test } from 'node:test';

// Local time is what the Serverless Framework prints; a zone with a half-hour offset proves it.
// Set before the formatter first formats, in this test file's own process.
process.env.TZ = 'Asia/Kolkata';
const { formatLogLine } = await import('../../src/cli/log-format.js');

const plain = { color: false };

test('START is only START; END lines are dropped', () => {
  assert.equal(formatLogLine('START RequestId: r1 Version: 3', plain), 'START');
  assert.equal(formatLogLine('END RequestId: r1', plain), undefined);
  assert.equal(formatLogLine('x SERVERLESS_ENTERPRISE y', plain), undefined);
});

test('REPORT becomes END with duration, init on a cold start, and memory used', () => {
  const warm =
    'REPORT RequestId: r1\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 1024 MB\t' +
    'Max Memory Used: 70 MB\t';
  assert.equal(formatLogLine(warm, plain), 'END Duration: 1.23 ms Memory Used: 70 MB');
  assert.equal(
    formatLogLine(`${warm}Init Duration: 150.00 ms\t`, plain),
    'END Duration: 1.23 ms (init: 150.00 ms) Memory Used: 70 MB',
  );
});

test('a Node line: local time, request id gone, the level kept', () => {
  assert.equal(
    formatLogLine('2024-01-02T03:04:05.678Z\tr1\tINFO\thello', plain),
    '2024-01-02 08:34:05.678\tINFO\thello',
  );
  assert.equal(
    formatLogLine('2024-01-02T03:04:05.678Z\tundefined\tINFO\tinit\n  second line', plain),
    '2024-01-02 08:34:05.678\tINFO\tinit\n  second line',
    'one event may span lines',
  );
});

test('a Python line: time, then [LEVEL], then the message', () => {
  assert.equal(
    formatLogLine('[WARNING]\t2024-01-02T23:59:59.001Z\tr1\tcareful', plain),
    '2024-01-03 05:29:59.001\t[WARNING]\tcareful',
  );
});

test('a crashed process in red, on a TTY only; anything else as it is', () => {
  const crash = 'RequestId: r1 Error: Runtime exited. Process exited before completing request';
  assert.equal(formatLogLine(crash, plain), crash);
  assert.equal(formatLogLine(crash, { color: true }), `\u001b[31m${crash}\u001b[39m`);
  assert.equal(formatLogLine('START RequestId: r1', { color: true }), '\u001b[2mSTART\u001b[22m');
  assert.equal(formatLogLine('plain text from stdout', plain), 'plain text from stdout');
  assert.equal(formatLogLine('', plain), '');
});
