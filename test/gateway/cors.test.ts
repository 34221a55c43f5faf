import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CorsSettings, HttpApiEvent, HttpEvent } from '../../src/model/service-definition.js';
import { preflightResponse, withCors } from '../../src/platform/gateway/cors.js';
import type { GatewayResponse } from '../../src/platform/gateway/gateway-response.js';
import { compileRouteTable, type RouteLookup } from '../../src/platform/gateway/route-table.js';

const DEFAULT_HEADERS =
  'Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token,X-Amz-User-Agent,X-Amzn-Trace-Id';

function rest(functionKey: string, method: string, path: string, cors?: CorsSettings) {
  const event: HttpEvent = { kind: 'http', method, path };
  if (cors) event.cors = cors;
  return { service: 'web', stage: 'dev', functionKey, functionName: functionKey, event };
}

function api(functionKey: string, method: string, path: string) {
  const event: HttpApiEvent = { kind: 'httpApi', method, path };
  return { service: 'web', stage: 'prod', functionKey, functionName: functionKey, event };
}

function preflightOf(found: RouteLookup | undefined) {
  assert.equal(found?.type, 'preflight');
  return found.cors;
}

describe('CORS, http events (REST)', () => {
  const allowAll: CorsSettings = {
    origins: ['*'],
    headers: DEFAULT_HEADERS.split(','),
    allowCredentials: false,
  };
  const table = compileRouteTable([
    rest('get', 'GET', 'items/{id}', allowAll),
    rest('put', 'PUT', 'items/{id}', allowAll),
    rest('plain', 'GET', 'plain'),
    rest('listed', 'POST', 'listed', {
      origins: ['https://app.example.com', 'https://*.example.org'],
      headers: ['Content-Type'],
      allowCredentials: true,
      maxAge: 600,
    }),
    rest('ownOptions', 'OPTIONS', 'own'),
    rest('ownGet', 'GET', 'own', allowAll),
  ]);

  it('cors: true answers the preflight with 200 and the resource methods', () => {
    const cors = preflightOf(table.lookup('OPTIONS', '/web-dev/items/1', undefined));
    assert.deepEqual(preflightResponse(cors, 'https://a.test'), {
      statusCode: 200,
      headers: [
        ['access-control-allow-origin', '*'],
        ['access-control-allow-headers', DEFAULT_HEADERS],
        ['access-control-allow-methods', 'OPTIONS,GET,PUT'],
        ['content-type', 'application/json'],
      ],
      body: Buffer.alloc(0),
    });
  });

  it('object form: listed and wildcard origins echoed, credentials, max age', () => {
    const cors = preflightOf(table.lookup('OPTIONS', '/web-dev/listed', undefined));
    const headers = preflightResponse(cors, 'https://x.example.org').headers;
    assert.deepEqual(headers, [
      ['access-control-allow-origin', 'https://x.example.org'],
      ['access-control-allow-headers', 'Content-Type'],
      ['access-control-allow-methods', 'OPTIONS,POST'],
      ['access-control-allow-credentials', 'true'],
      ['access-control-max-age', '600'],
      ['content-type', 'application/json'],
    ]);
    // Serverless' mock answers an unlisted origin with the first one; the browser refuses it.
    assert.equal(
      preflightResponse(cors, 'https://evil.test').headers[0]![1],
      'https://app.example.com',
    );
  });

  it('no cors, no preflight; a declared OPTIONS route keeps its slot', () => {
    assert.equal(table.lookup('OPTIONS', '/web-dev/plain', undefined), undefined);
    const own = table.lookup('OPTIONS', '/web-dev/own', undefined);
    assert.equal(own?.type === 'route' && own.route.functionKey, 'ownOptions');
  });

  it('leaves actual lambda-proxy responses alone', () => {
    const found = table.lookup('GET', '/web-dev/items/1', undefined);
    assert.equal(found?.type, 'route');
    const response: GatewayResponse = { statusCode: 200, headers: [], body: Buffer.alloc(0) };
    assert.equal(withCors(found.route.cors, 'https://a.test', response), response);
  });
});

describe('CORS, provider.httpApi.cors', () => {
  it('cors: true answers every OPTIONS with 204 and the default policy', () => {
    const table = compileRouteTable(
      [api('list', 'GET', '/items'), api('create', 'POST', '/items'), api('catch', '*', '*')],
      [{ service: 'web', stage: 'prod', httpApiCors: true }],
    );
    for (const path of ['/items', '/anything/else']) {
      const cors = preflightOf(table.lookup('OPTIONS', `/web-prod${path}`, undefined));
      assert.deepEqual(preflightResponse(cors, 'https://a.test'), {
        statusCode: 204,
        headers: [
          ['access-control-allow-origin', '*'],
          ['access-control-allow-headers', DEFAULT_HEADERS],
          ['access-control-allow-methods', 'OPTIONS,GET,POST,DELETE,HEAD,PATCH,PUT'],
        ],
        body: Buffer.alloc(0),
      });
    }
  });

  it('object form: only allowed origins get headers; actual responses get origin and expose', () => {
    const table = compileRouteTable(
      [api('list', 'GET', '/items')],
      [
        {
          service: 'web',
          stage: 'prod',
          httpApiCors: {
            allowedOrigins: ['https://app.example.com'],
            allowedHeaders: ['content-type', 'x-token'],
            allowedMethods: ['GET', 'OPTIONS'],
            allowCredentials: true,
            exposedResponseHeaders: ['x-total'],
            maxAge: 3600,
          },
        },
      ],
    );
    const cors = preflightOf(table.lookup('OPTIONS', '/web-prod/items', undefined));
    assert.deepEqual(preflightResponse(cors, 'https://app.example.com').headers, [
      ['access-control-allow-origin', 'https://app.example.com'],
      ['access-control-allow-headers', 'content-type,x-token'],
      ['access-control-allow-methods', 'GET,OPTIONS'],
      ['access-control-allow-credentials', 'true'],
      ['access-control-max-age', '3600'],
    ]);
    assert.deepEqual(preflightResponse(cors, 'https://other.test').headers, []);
    assert.deepEqual(preflightResponse(cors, undefined).headers, []);

    const found = table.lookup('GET', '/web-prod/items', undefined);
    assert.equal(found?.type, 'route');
    const fromFunction: GatewayResponse = {
      statusCode: 200,
      headers: [
        ['content-type', 'text/plain'],
        ['Access-Control-Allow-Origin', '*'],
      ],
      body: Buffer.from('ok'),
    };
    assert.deepEqual(withCors(found.route.cors, 'https://app.example.com', fromFunction).headers, [
      ['content-type', 'text/plain'],
      ['access-control-allow-origin', 'https://app.example.com'],
      ['access-control-allow-credentials', 'true'],
      ['access-control-expose-headers', 'x-total'],
    ]);
    assert.equal(withCors(found.route.cors, undefined, fromFunction), fromFunction);
    assert.equal(withCors(found.route.cors, 'https://other.test', fromFunction), fromFunction);
  });

  it('without httpApi cors, OPTIONS is an ordinary request', () => {
    const table = compileRouteTable([api('list', 'GET', '/items'), api('catch', '*', '*')]);
    const found = table.lookup('OPTIONS', '/web-prod/items', undefined);
    assert.equal(found?.type === 'route' && found.routeKey, '$default');
  });
});
