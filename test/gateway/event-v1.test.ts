import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEventV1 } from '../../src/platform/gateway/event-v1.js';
import { requestOf, TIME } from './fixtures.js';

function context(overrides: Record<string, unknown>) {
  return {
    accountId: '000000000000',
    apiId: 'shop-dev',
    resourceId: overrides.resourceId,
    resourcePath: overrides.resourcePath,
    httpMethod: overrides.httpMethod,
    extendedRequestId: 'req-1',
    requestTime: '12/Mar/2020:19:03:58 +0000',
    path: overrides.path,
    protocol: 'HTTP/1.1',
    stage: 'dev',
    domainPrefix: 'localhost',
    requestTimeEpoch: TIME,
    requestId: 'req-1',
    identity: {
      cognitoIdentityPoolId: null,
      accountId: null,
      cognitoIdentityId: null,
      caller: null,
      sourceIp: '203.0.113.7',
      principalOrgId: null,
      accessKey: null,
      cognitoAuthenticationType: null,
      cognitoAuthenticationProvider: null,
      userArn: null,
      userAgent: overrides.userAgent ?? null,
      user: null,
    },
    domainName: 'localhost:3000',
  };
}

describe('v1 event', () => {
  it('GET with multi-value query, repeated headers, cookies and a path parameter', () => {
    const req = requestOf('shop-dev', 'GET', '/users/a%20b?tag=x&tag=y&q=caf%C3%A9+au+lait&flag', [
      'Host',
      'localhost:3000',
      'User-Agent',
      'test/1.0',
      'Accept',
      'text/html',
      'accept',
      'application/json',
      'Cookie',
      'a=1; b=2',
    ]);
    const event = buildEventV1(req);
    const { resourceId } = event.requestContext;
    assert.match(resourceId, /^[0-9a-z]{6}$/);
    assert.deepEqual(event, {
      resource: '/users/{id}',
      path: '/users/a%20b',
      httpMethod: 'GET',
      headers: {
        Host: 'localhost:3000',
        'User-Agent': 'test/1.0',
        Accept: 'application/json',
        Cookie: 'a=1; b=2',
      },
      multiValueHeaders: {
        Host: ['localhost:3000'],
        'User-Agent': ['test/1.0'],
        Accept: ['text/html', 'application/json'],
        Cookie: ['a=1; b=2'],
      },
      queryStringParameters: { tag: 'y', q: 'café au lait', flag: '' },
      multiValueQueryStringParameters: { tag: ['x', 'y'], q: ['café au lait'], flag: [''] },
      pathParameters: { id: 'a b' },
      stageVariables: null,
      requestContext: context({
        resourceId,
        resourcePath: '/users/{id}',
        httpMethod: 'GET',
        path: '/dev/users/a%20b',
        userAgent: 'test/1.0',
      }),
      body: null,
      isBase64Encoded: false,
    });
  });

  it('no query and no parameters are null', () => {
    const event = buildEventV1(requestOf('shop-dev', 'GET', '/users', []));
    assert.equal(event.queryStringParameters, null);
    assert.equal(event.multiValueQueryStringParameters, null);
    assert.equal(event.pathParameters, null);
    assert.deepEqual(event.headers, {});
    assert.deepEqual(event.multiValueHeaders, {});
  });

  it('greedy proxy', () => {
    const event = buildEventV1(requestOf('shop-dev', 'DELETE', '/static/css/site%20main.css', []));
    assert.equal(event.resource, '/static/{proxy+}');
    assert.equal(event.path, '/static/css/site%20main.css');
    assert.deepEqual(event.pathParameters, { proxy: 'css/site main.css' });
    assert.equal(event.requestContext.resourcePath, '/static/{proxy+}');
    assert.equal(event.requestContext.path, '/dev/static/css/site%20main.css');
    assert.equal(event.httpMethod, 'DELETE');
  });

  it('POST JSON body is text', () => {
    const body = Buffer.from('{"name":"Zoë"}');
    const event = buildEventV1(
      requestOf(
        'shop-dev',
        'POST',
        '/users',
        ['Content-Type', 'application/json; charset=utf-8'],
        body,
      ),
    );
    assert.equal(event.body, '{"name":"Zoë"}');
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.resource, '/users');
  });

  it('binary body is base64', () => {
    const body = Buffer.from([0, 255, 1, 254, 0x89, 0x50]);
    const event = buildEventV1(
      requestOf('shop-dev', 'PUT', '/files/x.png', ['content-type', 'image/png'], body),
    );
    assert.equal(event.body, body.toString('base64'));
    assert.equal(event.isBase64Encoded, true);
  });
});
