import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateDestination } from '../../src/platform/async/destination-record.js';
import { parseDeployRequest } from '../../src/platform/control/deploy-request.js';
import { HttpError } from '../../src/platform/http/http-error.js';
import { fnDef, serviceDef } from '../helpers/definitions.js';

const sha = 'a'.repeat(64);

test('destinations Nimbus cannot deliver to are refused at deploy, naming function and field', () => {
  const body = (onFailure: string) => ({
    definition: serviceDef([fnDef('one', { destinations: { onFailure } })]),
    functionArtifacts: { one: sha },
  });
  for (const arn of ['arn:aws:events:us-east-1:123456789012:rule/r', 'arn:aws:s3:::bucket']) {
    assert.throws(
      () => parseDeployRequest(body(arn), 'svc', 'dev'),
      (error: unknown) =>
        error instanceof HttpError &&
        error.status === 400 &&
        error.message.startsWith(`functions.one.destinations.onFailure: ${arn} is not supported`),
    );
  }
  for (const ok of [
    'https://hooks.example.com/x',
    'http://127.0.0.1:9/x',
    'arn:aws:lambda:us-east-1:000000000000:function:svc-dev-sink',
    'arn:aws:sqs:us-east-1:000000000000:failed',
    'arn:aws:sns:us-east-1:000000000000:topic',
    'arn:aws:events:us-east-1:000000000000:event-bus/default',
    'sink',
    'other-service-dev-fn',
  ]) {
    assert.doesNotThrow(() => parseDeployRequest(body(ok), 'svc', 'dev'));
    assert.doesNotThrow(() => validateDestination(ok));
  }
});

test('a dead-letter target other than an SQS or SNS ARN is refused at deploy', () => {
  const body = (extra: object) => ({
    definition: serviceDef([fnDef('one', extra)]),
    functionArtifacts: { one: sha },
  });
  assert.throws(
    () =>
      parseDeployRequest(body({ deadLetterTarget: 'https://hooks.example.com/x' }), 'svc', 'dev'),
    (error: unknown) =>
      error instanceof HttpError &&
      error.status === 400 &&
      /functions\.one\.deadLetterTarget/.test(error.message),
  );
  assert.throws(
    () => parseDeployRequest(body({ logRetentionInDays: 10 }), 'svc', 'dev'),
    (error: unknown) => error instanceof HttpError && /logRetentionInDays/.test(error.message),
  );
  assert.doesNotThrow(() =>
    parseDeployRequest(
      body({ deadLetterTarget: 'arn:aws:sqs:us-east-1:000000000000:dlq', logRetentionInDays: 14 }),
      'svc',
      'dev',
    ),
  );
});
