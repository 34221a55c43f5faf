import type { HttpApiEvent, HttpEvent } from '../../src/model/service-definition.js';
import type { GatewayRequest } from '../../src/platform/gateway/gateway-request.js';
import { compileRouteTable, type RouteMatch } from '../../src/platform/gateway/route-table.js';

/** 2020-03-12T19:03:58.123Z, the moment in the HTTP API docs' example. */
export const TIME = Date.UTC(2020, 2, 12, 19, 3, 58, 123);

const table = compileRouteTable(
  [
    ['users', 'GET', 'users'],
    ['user', 'GET', 'users/{id}'],
    ['create', 'POST', 'users'],
    ['upload', 'PUT', 'files/{name}'],
    ['proxy', 'ANY', 'static/{proxy+}'],
  ].flatMap(([functionKey, method, path]) => {
    const rest: HttpEvent = { kind: 'http', method: method!, path: path! };
    const api: HttpApiEvent = { kind: 'httpApi', method: method!, path: `/${path}` };
    const name = `shop-${functionKey}`;
    return [
      { service: 'shop', stage: 'dev', functionKey: functionKey!, functionName: name, event: rest },
      { service: 'shop', stage: 'v2', functionKey: functionKey!, functionName: name, event: api },
    ];
  }),
);

/** A route match from a real compiled table: `base` is `shop-dev` (v1) or `shop-v2` (v2). */
export function matchOf(base: 'shop-dev' | 'shop-v2', method: string, path: string): RouteMatch {
  const found = table.lookup(method, `/${base}${path}`, 'localhost:3000');
  if (found?.type !== 'route') throw new Error(`no route for ${method} ${path}`);
  return found;
}

export function requestOf(
  base: 'shop-dev' | 'shop-v2',
  method: string,
  url: string,
  headers: string[],
  body: Buffer = Buffer.alloc(0),
): GatewayRequest {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return {
    method,
    rawPath: path,
    rawQuery: q < 0 ? '' : url.slice(q + 1),
    headers,
    body,
    sourceIp: '203.0.113.7',
    requestId: 'req-1',
    timeEpochMs: TIME,
    domainName: 'localhost:3000',
    match: matchOf(base, method, path),
  };
}
