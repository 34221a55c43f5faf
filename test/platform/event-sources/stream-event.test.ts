/**
 * serverless.yml `stream` events as mapping settings: Lambda's defaults, the DynamoDB stream
 * ARN, and each bad input refused with the field it concerns (what the CLI and the deploy
 * checks report).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { streamEventSettings } from '../../../src/platform/event-sources/stream-event.js';

const arn = 'arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/1970-01-01T00:00:00.000';

const fields = (config: Record<string, unknown>) => {
  const r = streamEventSettings(config);
  assert.equal(r.ok, false, JSON.stringify(config));
  return r.ok ? [] : r.problems.map((p) => p.field);
};

describe('stream event settings', () => {
  test("Lambda's defaults for a DynamoDB stream", () => {
    const r = streamEventSettings({ arn });
    assert.ok(r.ok);
    assert.equal(r.arn, arn);
    assert.equal(r.settings.batchSize, 100);
    assert.equal(r.settings.startingPosition, 'TRIM_HORIZON');
    assert.equal(r.settings.maximumRetryAttempts, -1);
    assert.equal(r.settings.maximumRecordAgeInSeconds, -1);
    assert.equal(r.settings.enabled, true);
  });

  test('every field is taken', () => {
    const r = streamEventSettings({
      arn,
      type: 'dynamodb',
      batchSize: 7,
      maximumBatchingWindow: 3,
      startingPosition: 'LATEST',
      maximumRetryAttempts: 2,
      maximumRecordAgeInSeconds: 120,
      bisectBatchOnFunctionError: true,
      functionResponseType: 'ReportBatchItemFailures',
      filterPatterns: [{ eventName: ['INSERT'] }],
      destinations: { onFailure: { arn: 'arn:aws:sns:us-east-1:000000000000:t', type: 'sns' } },
      enabled: false,
    });
    assert.ok(r.ok);
    assert.deepEqual(r.settings, {
      batchSize: 7,
      maximumBatchingWindowInSeconds: 3,
      startingPosition: 'LATEST',
      maximumRetryAttempts: 2,
      maximumRecordAgeInSeconds: 120,
      bisectBatchOnFunctionError: true,
      functionResponseTypes: ['ReportBatchItemFailures'],
      filters: ['{"eventName":["INSERT"]}'],
      onFailure: 'arn:aws:sns:us-east-1:000000000000:t',
      enabled: false,
    });
  });

  test("batchWindow, the Framework's name for a stream's batching window, is taken", () => {
    const r = streamEventSettings({ arn, batchSize: 2, batchWindow: 60 });
    assert.ok(r.ok);
    assert.equal(r.settings.maximumBatchingWindowInSeconds, 60);
    const bad = streamEventSettings({ arn, batchWindow: 301 });
    assert.ok(!bad.ok);
    assert.deepEqual(
      bad.problems.map((p) => p.field),
      ['batchWindow'],
    );
    assert.match(bad.problems[0]!.message, /^batchWindow must be/);
    assert.deepEqual(fields({ arn, batchWindow: 1, maximumBatchingWindow: 1 }), ['batchWindow']);
  });

  test('a Kinesis stream ARN, given or from GetAtt with type kinesis, is accepted', () => {
    const kinesisArn = 'arn:aws:kinesis:us-east-1:000000000000:stream/orders';
    const plain = streamEventSettings({ arn: kinesisArn, startingPosition: 'LATEST' });
    assert.ok(plain.ok);
    assert.equal(plain.arn, kinesisArn);
    assert.equal(plain.settings.startingPosition, 'LATEST');
    assert.ok(streamEventSettings({ arn: kinesisArn, type: 'kinesis' }).ok);
    const getAtt = { 'Fn::GetAtt': ['Orders', 'Arn'] };
    assert.ok(streamEventSettings({ arn: getAtt, type: 'kinesis' }, { unresolvedArn: 'allow' }).ok);
  });

  test('an unresolved GetAtt is left for the platform only when allowed', () => {
    const getAtt = { 'Fn::GetAtt': ['Orders', 'StreamArn'] };
    assert.ok(streamEventSettings({ arn: getAtt }, { unresolvedArn: 'allow' }).ok);
    assert.deepEqual(fields({ arn: getAtt }), ['arn']);
  });

  test('bad input is refused with its field', () => {
    assert.deepEqual(fields({ arn: 'arn:aws:sqs:us-east-1:000000000000:q' }), ['arn']);
    assert.deepEqual(fields({ arn, type: 'kinesis' }), ['arn']);
    assert.deepEqual(
      fields({ arn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s', type: 'dynamodb' }),
      ['arn'],
    );
    assert.deepEqual(fields({ arn: 'arn:aws:kinesis:us-east-1:000000000000:table/x' }), ['arn']);
    assert.deepEqual(fields({ arn, type: 'kafka' }), ['type']);
    assert.deepEqual(fields({ arn, batchSize: 0 }), ['batchSize']);
    assert.deepEqual(fields({ arn, batchSize: 'many' }), ['batchSize']);
    assert.deepEqual(fields({ arn, maximumBatchingWindow: 301 }), ['maximumBatchingWindow']);
    assert.deepEqual(fields({ arn, startingPosition: 'AT_TIMESTAMP' }), ['startingPosition']);
    assert.deepEqual(fields({ arn, maximumRetryAttempts: -2 }), ['maximumRetryAttempts']);
    assert.deepEqual(fields({ arn, maximumRecordAgeInSeconds: 30 }), ['maximumRecordAgeInSeconds']);
    assert.deepEqual(fields({ arn, bisectBatchOnFunctionError: 'yes' }), [
      'bisectBatchOnFunctionError',
    ]);
    assert.deepEqual(fields({ arn, functionResponseType: 'Other' }), ['functionResponseType']);
    assert.deepEqual(fields({ arn, filterPatterns: [{ a: 'not-a-list' }] }), ['filterPatterns']);
    assert.deepEqual(fields({ arn, destinations: { onFailure: 'arn:aws:lambda:x' } }), [
      'destinations',
    ]);
    assert.deepEqual(fields({ arn, destinations: 'nowhere' }), ['destinations']);
    assert.deepEqual(fields({ arn, parallelizationFactor: 11 }), ['parallelizationFactor']);
    assert.deepEqual(fields({ arn, parallelizationFactor: 0 }), ['parallelizationFactor']);
    assert.deepEqual(fields({ arn, parallelizationFactor: 'two' }), ['parallelizationFactor']);
  });

  test('parallelizationFactor 1 to 10, on DynamoDB and Kinesis', () => {
    const r = streamEventSettings({ arn, parallelizationFactor: 10 });
    assert.ok(r.ok);
    assert.equal(r.settings.parallelizationFactor, 10);
    const one = streamEventSettings({ arn, parallelizationFactor: 1 });
    assert.ok(one.ok);
    assert.equal(one.settings.parallelizationFactor, undefined);
  });

  test('AT_TIMESTAMP with startingPositionTimestamp, for Kinesis streams only', () => {
    const kinesisArn = 'arn:aws:kinesis:us-east-1:000000000000:stream/orders';
    const r = streamEventSettings({
      arn: kinesisArn,
      startingPosition: 'AT_TIMESTAMP',
      startingPositionTimestamp: 1_700_000_000,
    });
    assert.ok(r.ok);
    assert.equal(r.settings.startingPosition, 'AT_TIMESTAMP');
    assert.equal(r.settings.startingPositionTimestamp, 1_700_000_000);
    const iso = streamEventSettings({
      arn: kinesisArn,
      startingPosition: 'AT_TIMESTAMP',
      startingPositionTimestamp: '2023-11-14T22:13:20Z',
    });
    assert.ok(iso.ok);
    assert.equal(iso.settings.startingPositionTimestamp, 1_700_000_000);
    const k = { arn: kinesisArn };
    assert.deepEqual(fields({ ...k, startingPosition: 'AT_TIMESTAMP' }), [
      'startingPositionTimestamp',
    ]);
    assert.deepEqual(fields({ ...k, startingPositionTimestamp: 1 }), ['startingPositionTimestamp']);
    assert.deepEqual(
      fields({ ...k, startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: 'soon' }),
      ['startingPositionTimestamp'],
    );
    assert.deepEqual(
      fields({ arn, startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: 1 }),
      ['startingPosition'],
    );
  });
});
