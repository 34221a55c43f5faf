import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTextMediaType } from '../../src/platform/gateway/body-encoding.js';
import { buildEventV2 } from '../../src/platform/gateway/event-v2.js';
import { requestOf, TIME } from './fixtures.js';

function context(routeKey: string, method: string, path: string, userAgent = '') {
  return {
    accountId: '000000000000',
    apiId: 'shop-v2',
    domainName: 'localhost:3000',
    domainPrefix: 'localhost',
    http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent },
    requestId: 'req-1',
    routeKey,
    stage: '$default',
    time: '12/Mar/2020:19:03:58 +0000',
    timeEpoch: TIME,
  };
}

describe('v2 event', () => {
  it('GET with multi-value query, repeated headers, cookies and a path parameter', () => {
    const req = requestOf('shop-v2', 'GET', '/users/a%20b?tag=x&tag=y&q=caf%C3%A9+au+lait', [
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
      'cookie',
      'c=3',
    ]);
    assert.deepEqual(buildEventV2(req), {
      version: '2.0',
      routeKey: 'GET /users/{id}',
      rawPath: '/users/a%20b',
      rawQueryString: 'tag=x&tag=y&q=caf%C3%A9+au+lait',
      cookies: ['a=1', 'b=2', 'c=3'],
      headers: {
        host: 'localhost:3000',
        'user-agent': 'test/1.0',
        accept: 'text/html,application/json',
      },
      queryStringParameters: { tag: 'x,y', q: 'café au lait' },
      pathParameters: { id: 'a b' },
      requestContext: context('GET /users/{id}', 'GET', '/users/a%20b', 'test/1.0'),
      isBase64Encoded: false,
    });
  });

  it('omits cookies, query, path parameters and body when there are none', () => {
    assert.deepEqual(buildEventV2(requestOf('shop-v2', 'GET', '/users', [])), {
      version: '2.0',
      routeKey: 'GET /users',
      rawPath: '/users',
      rawQueryString: '',
      headers: {},
      requestContext: context('GET /users', 'GET', '/users'),
      isBase64Encoded: false,
    });
  });

  it('greedy proxy under ANY', () => {
    const event = buildEventV2(requestOf('shop-v2', 'PATCH', '/static/a/b%2Fc', []));
    assert.equal(event.routeKey, 'ANY /static/{proxy+}');
    assert.deepEqual(event.pathParameters, { proxy: 'a/b/c' });
    assert.equal(event.rawPath, '/static/a/b%2Fc');
  });

  it('POST JSON body is text', () => {
    const body = Buffer.from('{"name":"Zoë"}');
    const event = buildEventV2(
      requestOf('shop-v2', 'POST', '/users', ['Content-Type', 'application/json'], body),
    );
    assert.equal(event.body, '{"name":"Zoë"}');
    assert.equal(event.isBase64Encoded, false);
    assert.deepEqual(event.headers, { 'content-type': 'application/json' });
  });

  it('binary body is base64', () => {
    const body = Buffer.from([0, 255, 1, 254]);
    const event = buildEventV2(
      requestOf(
        'shop-v2',
        'PUT',
        '/files/x.bin',
        ['content-type', 'application/octet-stream'],
        body,
      ),
    );
    assert.equal(event.body, 'AP8B/g==');
    assert.equal(event.isBase64Encoded, true);
  });
});

describe('body encoding rule', () => {
  it('text for text, JSON, XML and form types; binary otherwise', () => {
    for (const type of [
      'text/plain',
      'TEXT/HTML; charset=utf-8',
      'application/json',
      'application/problem+json',
      'application/xml',
      'application/atom+xml',
      'application/x-www-form-urlencoded',
      'application/javascript',
    ]) {
      assert.equal(isTextMediaType(type), true, type);
    }
    for (const type of [
      undefined,
      '',
      'image/png',
      'application/octet-stream',
      'multipart/form-data; boundary=x',
      'application/jsonx',
    ]) {
      assert.equal(isTextMediaType(type), false, String(type));
    }
  });
});
