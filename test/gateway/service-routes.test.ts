import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRouteTable } from '../../src/platform/gateway/route-table.js';
import { routesOfService } from '../../src/platform/gateway/service-routes.js';
import { fnDef, serviceDef } from '../helpers/definitions.js';

describe('routesOfService', () => {
  it('takes http and httpApi events and provider.httpApi.cors, and nothing else', () => {
    const definition = serviceDef(
      [
        fnDef('hello', {
          events: [
            { kind: 'http', method: 'GET', path: 'hello' },
            { kind: 'schedule', rate: ['rate(1 minute)'], enabled: true },
          ],
        }),
        fnDef('api', { events: [{ kind: 'httpApi', method: '*', path: '*' }] }),
      ],
      {
        provider: {
          name: 'aws',
          runtime: 'nodejs20.x',
          memorySize: 1024,
          timeout: 6,
          environment: {},
          httpApi: { cors: true },
        },
      },
    );
    const { routes, settings } = routesOfService(definition);
    assert.deepEqual(
      routes.map((r) => [r.functionKey, r.functionName, r.event.kind]),
      [
        ['hello', 'svc-dev-hello', 'http'],
        ['api', 'svc-dev-api', 'httpApi'],
      ],
    );
    assert.deepEqual(settings, { service: 'svc', stage: 'dev', httpApiCors: true });
    const table = compileRouteTable(routes, [settings]);
    assert.equal(table.size, 2);
    assert.equal(table.lookup('OPTIONS', '/x', 'svc-dev.localhost')?.type, 'preflight');
  });
});
