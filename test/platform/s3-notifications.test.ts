/** s3 event configurations: parsing, the deploy check, matching, key encoding, fan-out. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventKey, S3Notifier } from '../../src/platform/triggers/s3/s3-notifications.js';
import { definitionProblem } from '../../src/service/definition-rules.js';
import {
  notificationMatches,
  parseS3EventConfig,
  s3NotificationsOf,
} from '../../src/service/events/s3-event-config.js';
import { fnDef, serviceDef } from '../helpers/definitions.js';

const s3 = (config: Record<string, unknown>) => ({ kind: 's3' as const, config });

describe('s3 event configurations', () => {
  test('defaults and rules', () => {
    assert.deepEqual(parseS3EventConfig({ bucket: 'b' }), {
      bucket: 'b',
      event: 's3:ObjectCreated:*',
      existing: false,
      forceDeploy: false,
    });
    assert.deepEqual(
      parseS3EventConfig({
        bucket: 'b',
        event: 's3:ObjectRemoved:*',
        rules: [{ prefix: 'in/' }, { suffix: '.png' }],
        existing: true,
      }),
      {
        bucket: 'b',
        event: 's3:ObjectRemoved:*',
        existing: true,
        forceDeploy: false,
        prefix: 'in/',
        suffix: '.png',
      },
    );
  });

  test('bad events and rules refuse the deploy, naming the event', () => {
    const problem = (config: Record<string, unknown>) =>
      definitionProblem(serviceDef([fnDef('f', { events: [s3(config)] })]), { maxConcurrency: 10 });
    assert.equal(problem({ bucket: 'b', rules: [{ prefix: 'a/' }] }), undefined);
    // An intrinsic bucket is resolved at deploy (docs/resources.md), then checked there.
    assert.equal(problem({ bucket: { Ref: 'B' } }), undefined);
    for (const [config, message] of [
      [{ bucket: 'b', event: 's3:ObjectTagging:*' }, /event must be one of/],
      [{ bucket: 'b', rules: [{ prefix: 'a' }, { prefix: 'b' }] }, /more than one prefix/],
      [{ bucket: 'b', rules: [{ glob: '*' }] }, /each rule must be/],
      [{ bucket: 'b', rules: { prefix: 'a' } }, /rules must be a list/],
      [{ bucket: 42 }, /bucket must be a bucket name/],
    ] as const) {
      const p = problem(config as Record<string, unknown>);
      assert.deepEqual(p?.path, ['functions', 'f', 'events', 0, 's3'], JSON.stringify(config));
      assert.match(p?.message ?? '', message);
    }
  });

  test('matching by event name, prefix and suffix', () => {
    const [n] = s3NotificationsOf(
      [
        fnDef('f', {
          events: [s3({ bucket: 'b', rules: [{ prefix: 'up/' }, { suffix: '.jpg' }] })],
        }),
      ],
      'dev',
    );
    assert.equal(n?.id, 'svc-dev-f-s3-1');
    assert.ok(notificationMatches(n!, 'ObjectCreated:Put', 'up/a.jpg'));
    assert.ok(notificationMatches(n!, 'ObjectCreated:CompleteMultipartUpload', 'up/a.jpg'));
    assert.ok(!notificationMatches(n!, 'ObjectRemoved:Delete', 'up/a.jpg'));
    assert.ok(!notificationMatches(n!, 'ObjectCreated:Put', 'thumbs/a.jpg'));
    assert.ok(!notificationMatches(n!, 'ObjectCreated:Put', 'up/a.png'));
    const put = { ...n!, event: 's3:ObjectCreated:Put' };
    assert.ok(notificationMatches(put, 'ObjectCreated:Put', 'up/a.jpg'));
    assert.ok(!notificationMatches(put, 'ObjectCreated:Copy', 'up/a.jpg'));
  });

  test('keys are form-encoded as in S3 events', () => {
    assert.equal(eventKey('red flower.jpg'), 'red+flower.jpg');
    assert.equal(eventKey('a/b c/d.txt'), 'a/b+c/d.txt');
    assert.equal(eventKey("x=1&y(2)!'~*.-_"), 'x%3D1%26y%282%29%21%27%7E*.-_');
    assert.equal(eventKey('café+'), 'caf%C3%A9%2B');
  });

  test('one event per matching configuration, across stages; a stage replaced drops its old ones', async () => {
    const accepted: string[] = [];
    const notifier = new S3Notifier({
      region: 'us-east-1',
      accept: async (name) => void accepted.push(name),
      logger: { warn: () => {} },
    });
    const fns = (svc: string) => [
      {
        ...fnDef('a', {
          events: [s3({ bucket: 'b' }), s3({ bucket: 'b', rules: [{ prefix: 'x/' }] })],
        }),
        name: `${svc}-a`,
      },
      { ...fnDef('c', { events: [s3({ bucket: 'other' })] }), name: `${svc}-c` },
    ];
    notifier.setStage('one/dev', s3NotificationsOf(fns('one'), 'dev'));
    notifier.setStage('two/dev', s3NotificationsOf(fns('two'), 'dev'));
    const change = {
      bucket: 'b',
      key: 'x/k',
      eventName: 'ObjectCreated:Put',
      size: 1,
      etag: '"e"',
      at: 0,
      principal: 'p',
      sourceIp: '127.0.0.1',
      requestId: 'r',
    };
    await notifier.notify(change);
    assert.deepEqual(accepted.sort(), ['one-a', 'one-a', 'two-a', 'two-a']);
    accepted.length = 0;
    notifier.setStage('two/dev', []);
    await notifier.notify({ ...change, key: 'y/k' });
    assert.deepEqual(accepted, ['one-a']);
  });
});
