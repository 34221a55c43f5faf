/** `eventBridge` and `cloudwatchEvent` events at load: kept for the rules reaction, patterns checked with file:line. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/service/config-error.js';
import { cleanupServiceDirs, load, yml } from './service-dir.js';

after(cleanupServiceDirs);

const head = [
  'service: svc',
  'provider:',
  '  name: aws',
  'functions:',
  '  worker:',
  '    handler: src/handler.hello',
  '    events:',
];

describe('eventBridge events', () => {
  it('keeps pattern events, turns the schedule form into a schedule and cloudwatchEvent into a pattern rule', async () => {
    const { warnings, definition } = await load(
      yml(
        ...head,
        '      - eventBridge: {eventBus: orders, pattern: {source: [shop]}, inputPath: $.detail, retryPolicy: {maximumRetryAttempts: 1}}',
        '      - eventBridge: {schedule: rate(1 hour), input: {a: 1}}',
        '      - cloudwatchEvent: {event: {source: [aws.s3]}, enabled: false}',
      ),
    );
    assert.deepEqual(warnings, []);
    const events = definition.functions.worker!.events;
    assert.deepEqual(events[0], {
      kind: 'eventBridge',
      config: {
        eventBus: 'orders',
        pattern: { source: ['shop'] },
        inputPath: '$.detail',
        retryPolicy: { maximumRetryAttempts: 1 },
      },
    });
    assert.deepEqual(events[1], {
      kind: 'schedule',
      rate: ['rate(1 hour)'],
      enabled: true,
      input: { a: 1 },
    });
    assert.deepEqual(events[2], {
      kind: 'eventBridge',
      config: { enabled: false, pattern: { source: ['aws.s3'] } },
    });
  });

  it('takes intrinsics among pattern values (resolved at deploy), and still checks the shape', async () => {
    const { warnings, definition } = await load(
      yml(
        ...head,
        '      - eventBridge:',
        '          eventBus: !GetAtt Bus.Name',
        '          pattern: {source: [aws.s3], detail: {bucket: {name: [!Ref Photos]}}}',
      ),
    );
    assert.deepEqual(warnings, []);
    assert.deepEqual(definition.functions.worker!.events[0], {
      kind: 'eventBridge',
      config: {
        eventBus: { 'Fn::GetAtt': ['Bus', 'Name'] },
        pattern: { source: ['aws.s3'], detail: { bucket: { name: [{ Ref: 'Photos' }] } } },
      },
    });
    await assert.rejects(
      load(yml(...head, '      - eventBridge: {pattern: {detail: {name: !Ref Photos}}}')),
      /invalid event pattern/,
    );
  });

  it('refuses a bad pattern with its file:line', async () => {
    for (const [line, reason] of [
      ['      - eventBridge: {pattern: {source: shop}}', 'pattern'],
      ['      - cloudwatchEvent: {event: {detail: {n: [{numeric: [">"]}]}}}', 'event'],
      ['      - eventBridge: {schedule: rate(1 hour), pattern: {source: [a]}}', 'pattern'],
    ] as const) {
      await assert.rejects(load(yml(...head, line)), (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.match(
          error.message,
          new RegExp(`^serverless.yml:8:\\d+ functions.worker.events\\[0\\]\\.\\w+\\.${reason}: `),
        );
        return true;
      });
    }
  });
});
