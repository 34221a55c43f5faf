import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { pickLogFormat, prettyDestination, prettyLine } from '../../src/cli/pretty-log.js';

describe('platform logs in a terminal', () => {
  it('prints time, level, message and fields; an error as its type and message only', () => {
    const time = new Date(2026, 0, 2, 3, 4, 5, 678).getTime();
    const line = JSON.stringify({
      level: 50,
      time,
      pid: 1,
      hostname: 'h',
      msg: 'request failed',
      fn: 'svc-dev-hello',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' },
    });
    assert.equal(
      prettyLine(line, { color: false }),
      '03:04:05.678 ERROR request failed fn=svc-dev-hello: Error: boom',
    );
    assert.equal(prettyLine('not json', { color: false }), 'not json');
  });

  it('takes pino lines through a stream, one printed line per entry', () => {
    let text = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    const logger = pino({ level: 'info' }, prettyDestination(sink, { color: false }));
    logger.info({ url: 'http://127.0.0.1:1' }, 'nimbus platform ready');
    logger.warn('careful');
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(
      lines[0]!,
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}nimbus platform ready url=http:\/\/127\.0\.0\.1:1$/,
    );
    assert.match(lines[1]!, /WARN {2}careful$/);
  });

  it('is JSON when not a terminal, or when asked', () => {
    assert.equal(pickLogFormat(undefined, { isTTY: true }), 'pretty');
    assert.equal(pickLogFormat(undefined, {}), 'json');
    assert.equal(pickLogFormat('json', { isTTY: true }), 'json');
    assert.throws(() => pickLogFormat('xml', {}), /--log-format must be pretty or json, not "xml"/);
  });
});
