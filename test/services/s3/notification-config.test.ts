/**
 * Notification configurations as S3 checks them, below the SDK: bodies no SDK would send
 * (another root, a configuration without its ARN, an overlong id) and the overlap rule.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseXml } from '../../../src/platform/aws/protocols/xml.js';
import {
  type DraftTarget,
  NotificationConfigError,
  notificationFromXml,
  validateNotification,
} from '../../../src/services/s3/notification-config.js';

const queue = 'arn:aws:sqs:us-east-1:000000000000:q';
const refused = (run: () => unknown, code: string, message?: RegExp) =>
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof NotificationConfigError, String(e));
    assert.equal(e.awsCode, code);
    if (message) assert.match(e.message, message);
    return true;
  });

test('malformed bodies are MalformedXML', () => {
  refused(() => notificationFromXml(parseXml('<CORSConfiguration/>')), 'MalformedXML');
  refused(
    () =>
      notificationFromXml(
        parseXml(
          '<NotificationConfiguration><QueueConfiguration><Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>',
        ),
      ),
    'MalformedXML',
  );
  refused(
    () =>
      notificationFromXml(
        parseXml(
          `<NotificationConfiguration><QueueConfiguration><Id>${'i'.repeat(256)}</Id><Queue>${queue}</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>`,
        ),
      ),
    'MalformedXML',
  );
  // No body, like an empty element, clears the configuration.
  assert.deepEqual(notificationFromXml(undefined), { targets: [], eventBridge: false });
});

test('overlap: a shared event type for keys both could match; disjoint filters are fine', () => {
  const draft = (events: string[], rules: DraftTarget['rules'] = []): DraftTarget => ({
    kind: 'queue',
    arn: queue,
    events,
    rules,
  });
  const prefix = (value: string) => ({ name: 'prefix', value });
  const suffix = (value: string) => ({ name: 'suffix', value });
  refused(
    () =>
      validateNotification([draft(['s3:ObjectCreated:*']), draft(['s3:ObjectCreated:Put'])], false),
    'InvalidArgument',
    /overlap/,
  );
  refused(
    () =>
      validateNotification(
        [
          draft(['s3:ObjectCreated:*'], [prefix('a/')]),
          draft(['s3:ObjectCreated:*'], [prefix('a/b/')]),
        ],
        false,
      ),
    'InvalidArgument',
    /overlap/,
  );
  refused(
    () =>
      validateNotification(
        [
          draft(['s3:ObjectCreated:*'], [suffix('.jpg')]),
          draft(['s3:ObjectCreated:*'], [suffix('x.jpg')]),
        ],
        false,
      ),
    'InvalidArgument',
    /overlap/,
  );
  assert.equal(
    validateNotification(
      [
        draft(['s3:ObjectCreated:*'], [suffix('.jpg')]),
        draft(['s3:ObjectCreated:*'], [suffix('.png')]),
        draft(['s3:ObjectRemoved:*']),
      ],
      false,
    ).targets.length,
    3,
  );
  refused(
    () =>
      validateNotification([draft(['s3:ObjectCreated:*'], [{ name: 'size', value: '1' }])], false),
    'InvalidArgument',
    /prefix or suffix/,
  );
  refused(
    () =>
      validateNotification(
        [
          { ...draft(['s3:ObjectCreated:*']), id: 'x' },
          { ...draft(['s3:ObjectRemoved:*']), id: 'x' },
        ],
        false,
      ),
    'InvalidArgument',
    /Duplicate/,
  );
});
