import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import {
  awsServiceOf,
  isS3Host,
  virtualHostBucket,
} from '../../../src/platform/front-door/aws-service-of.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const scope = (service: string) =>
  `AWS4-HMAC-SHA256 Credential=NIMBAAAAAAAAAAAAAAAA/20260115/us-east-1/${service}/aws4_request, ` +
  `SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;

describe('the front door tells AWS service requests apart', () => {
  test('by the credential scope of the Authorization header', () => {
    assert.equal(awsServiceOf(req({ authorization: scope('s3') }), ''), 's3');
    assert.equal(awsServiceOf(req({ authorization: scope('lambda') }), ''), 'lambda');
    assert.equal(awsServiceOf(req({ authorization: 'Bearer nimbus_x' }), ''), undefined);
  });

  test('by X-Amz-Credential of a presigned URL', () => {
    const query =
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=NIMBAAAAAAAAAAAAAAAA%2F20260115%2F' +
      'us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260115T000000Z';
    assert.equal(awsServiceOf(req({}), query), 's3');
  });

  test('by an S3 host name when unsigned; everything else is not AWS', () => {
    assert.equal(awsServiceOf(req({ host: 'photos.s3.localhost:8642' }), ''), 's3');
    assert.equal(awsServiceOf(req({ host: 'S3.LOCALHOST' }), ''), 's3');
    assert.equal(awsServiceOf(req({ host: '127.0.0.1:8642' }), ''), undefined);
    assert.equal(awsServiceOf(req({ host: 'evil-s3.localhost' }), ''), undefined);
    assert.equal(awsServiceOf(req({}), 'a=1'), undefined);
    // An SNS SubscribeURL, unsigned; the action must lead, so a gateway query never matches.
    assert.equal(awsServiceOf(req({}), 'Action=ConfirmSubscription&Token=x'), 'sns');
    assert.equal(awsServiceOf(req({}), 'a=1&Action=ConfirmSubscription&Token=x'), undefined);
  });

  test("a browser's preflight for a header-signed S3 request, on the platform address", () => {
    const preflight = (headers: Record<string, string>) =>
      ({ method: 'OPTIONS', headers }) as unknown as IncomingMessage;
    const asked = 'authorization,content-type,x-amz-content-sha256,x-amz-date';
    assert.equal(awsServiceOf(preflight({ 'access-control-request-headers': asked }), ''), 's3');
    assert.equal(
      awsServiceOf(preflight({ 'access-control-request-headers': 'X-Amz-Content-SHA256' }), ''),
      's3',
    );
    // A gateway route's own preflight stays the gateway's.
    assert.equal(
      awsServiceOf(preflight({ 'access-control-request-headers': 'authorization,x-amz-date' }), ''),
      undefined,
    );
    assert.equal(
      awsServiceOf(preflight({ 'access-control-request-headers': 'x-amz-content-sha2567' }), ''),
      undefined,
    );
    // Only a preflight: a GET asking the same is not S3's by that.
    const get = { method: 'GET', headers: { 'access-control-request-headers': asked } };
    assert.equal(awsServiceOf(get as unknown as IncomingMessage, ''), undefined);
  });

  test('unsigned Cognito user-pool calls by their X-Amz-Target', () => {
    const target = 'AWSCognitoIdentityProviderService.InitiateAuth';
    assert.equal(awsServiceOf(req({ 'x-amz-target': target }), ''), 'cognito-idp');
    assert.equal(awsServiceOf(req({ 'x-amz-target': 'DynamoDB_20120810.GetItem' }), ''), undefined);
    // A signature's scope wins over the target.
    assert.equal(
      awsServiceOf(req({ authorization: scope('cognito-idp'), 'x-amz-target': target }), ''),
      'cognito-idp',
    );
  });

  test('the bucket of a virtual host', () => {
    assert.equal(virtualHostBucket('photos.s3.localhost:8642'), 'photos');
    assert.equal(virtualHostBucket('my.dotted.bucket.s3.localhost'), 'my.dotted.bucket');
    assert.equal(virtualHostBucket('s3.localhost:8642'), undefined);
    assert.equal(virtualHostBucket('127.0.0.1:8642'), undefined);
    assert.equal(isS3Host(undefined), false);
  });
});
