import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  exitError,
  outOfMemoryError,
  timeoutError,
} from '../../src/platform/pool/instance-errors.js';
import { LineSplitter, logStreamName, reportLine } from '../../src/platform/pool/instance-log.js';
import { encodeFrame, type FrameHeader, FrameReader } from '../../src/runtimes/protocol.js';

describe('frames', () => {
  test('survive any chunking, with bodies holding newlines and multi-byte text', () => {
    const wire = Buffer.concat([
      encodeFrame({ t: 'invoke', id: 'a', dl: 5 }, '{"x":"line1\\nline2"}\n{"raw":true}'),
      encodeFrame({ t: 'ready' }),
      encodeFrame({ t: 'log', k: 'out', ts: 1 }, 'héllo ✓\n'),
      encodeFrame({ t: 'result', id: 'a' }, Buffer.alloc(70_000, 'z')),
    ]);
    for (const size of [1, 3, 64, 65_536, wire.length]) {
      const seen: [FrameHeader, string][] = [];
      const reader = new FrameReader((h, body) => seen.push([h, body.toString('utf8')]));
      for (let at = 0; at < wire.length; at += size) reader.push(wire.subarray(at, at + size));
      assert.equal(seen.length, 4, `chunk size ${size}`);
      const event = '{"x":"line1\\nline2"}\n{"raw":true}';
      assert.deepEqual(seen[0], [{ t: 'invoke', id: 'a', dl: 5, n: event.length }, event]);
      assert.deepEqual(seen[1], [{ t: 'ready', n: 0 }, '']);
      assert.equal(seen[2]?.[1], 'héllo ✓\n');
      assert.equal(seen[3]?.[1].length, 70_000);
    }
  });

  test('a header that is not a frame is refused', () => {
    const reader = new FrameReader(() => {});
    assert.throws(() => reader.push(Buffer.from('[1,2]\n')), /malformed frame header/);
    assert.throws(() => new FrameReader(() => {}).push(Buffer.from('nope\n')), SyntaxError);
  });
});

describe('log lines and error bodies', () => {
  test('raw output is cut into lines; a line still open waits for flush', () => {
    const lines: string[] = [];
    const split = new LineSplitter();
    split.push('a\nb', (l) => lines.push(l));
    split.push('c\r\n\nd', (l) => lines.push(l));
    assert.deepEqual(lines, ['a', 'bc', '']);
    split.flush((l) => lines.push(l));
    assert.deepEqual(lines, ['a', 'bc', '', 'd']);
  });

  test('REPORT and the log stream name have Lambda’s shape', () => {
    assert.equal(
      reportLine({ requestId: 'r', durationMs: 0.234, memorySizeMb: 128, maxMemoryUsedMb: 40 }),
      'REPORT RequestId: r\tDuration: 0.23 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t',
    );
    assert.match(
      reportLine({
        requestId: 'r',
        durationMs: 12.5,
        memorySizeMb: 128,
        maxMemoryUsedMb: 40,
        initDurationMs: 80.126,
      }),
      /\tBilled Duration: 13 ms\t.*\tInit Duration: 80\.13 ms\t$/,
    );
    assert.equal(logStreamName(Date.UTC(2024, 0, 5), '$LATEST', 'abc'), '2024/01/05/[$LATEST]abc');
  });

  test('platform errors are worded as Lambda words them', () => {
    assert.deepEqual(timeoutError(Date.UTC(2024, 0, 5, 1, 2, 3, 4), 'req', 3), {
      errorType: 'Sandbox.Timedout',
      errorMessage: '2024-01-05T01:02:03.004Z req Task timed out after 3.00 seconds',
    });
    assert.equal(exitError(1, null).errorMessage, 'Runtime exited with error: exit status 1');
    assert.equal(
      exitError(null, 'SIGKILL').errorMessage,
      'Runtime exited with error: signal: killed',
    );
    assert.equal(
      exitError(null, 'SIGSEGV').errorMessage,
      'Runtime exited with error: signal: segmentation fault',
    );
    assert.equal(exitError(0, null).errorMessage, 'Runtime exited without providing a reason');
    assert.equal(outOfMemoryError(200, 128).errorType, 'Runtime.OutOfMemory');
  });
});
