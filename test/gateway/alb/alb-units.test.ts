import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileConditions } from '../../../src/platform/gateway/alb/alb-conditions.js';
import { albRuleOf } from '../../../src/platform/gateway/alb/alb-rule-config.js';
import { compileAlbTable } from '../../../src/platform/gateway/alb/alb-table.js';
import { albTargetOf } from '../../../src/platform/gateway/alb/alb-target.js';
import { compileRouteTable } from '../../../src/platform/gateway/route-table.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';

const facts = {
  method: 'GET',
  path: '/a.b',
  host: 'x.example.com',
  headers: [] as string[],
  rawQuery: '',
  sourceIp: '127.0.0.1',
};

describe('alb units', () => {
  test('wildcards escape everything else; source IPs: IPv6, and IPv4 seen through a dual-stack socket', () => {
    const dot = compileConditions({ path: ['/a.b'] });
    assert.equal(dot(facts), true);
    assert.equal(dot({ ...facts, path: '/aXb' }), false, '"." is literal');
    const ip = compileConditions({ ip: ['10.0.0.0/8', '2001:db8::/32'] });
    assert.equal(ip({ ...facts, sourceIp: '::ffff:10.1.2.3' }), true);
    assert.equal(ip({ ...facts, sourceIp: '2001:db8::7' }), true);
    assert.equal(ip({ ...facts, sourceIp: '2001:db9::7' }), false);
    assert.equal(ip({ ...facts, sourceIp: 'not-an-ip' }), false);
  });

  test('a listener by Ref; a priority held across services is reported and not served', () => {
    const rule = (listenerArn: unknown, priority: number) => ({
      kind: 'alb' as const,
      config: { listenerArn, priority, conditions: { path: '/x' } },
    });
    const read = albRuleOf(rule({ Ref: 'HttpListener' }, 3).config);
    assert.ok(read.ok);
    assert.equal(read.rule.listener, 'httplistener');
    const a = serviceDef([fnDef('a', { events: [rule({ Ref: 'HttpListener' }, 3)] })]);
    const b = serviceDef([fnDef('b', { events: [rule({ Ref: 'HttpListener' }, 3)] })], {
      service: 'other',
    });
    const table = compileAlbTable([a, b]);
    assert.equal(table.listeners.get('httplistener')?.rules.length, 1);
    assert.match(
      table.warnings[0]!,
      /^other\/dev b: priority 3 on listener httplistener is held by svc\/dev a/,
    );
  });

  test('addresses: host form and path form; a host with dots before .alb.localhost is not one', () => {
    assert.deepEqual(albTargetOf('abc.alb.localhost:80', '/p'), {
      listener: 'abc',
      path: '/p',
      host: 'abc.alb.localhost',
    });
    assert.deepEqual(albTargetOf('Api.Example.com', '/_alb/ABC'), {
      listener: 'abc',
      path: '/',
      host: 'api.example.com',
    });
    assert.equal(albTargetOf('a.b.alb.localhost', '/p'), undefined);
    assert.equal(albTargetOf(undefined, '/_alb/'), undefined);
  });

  test('custom domains: a domain and base path claimed twice keeps the first', () => {
    const route = { kind: 'httpApi' as const, method: 'GET', path: '/x' };
    const src = (service: string) => ({
      service,
      stage: 'dev',
      functionKey: 'f',
      functionName: `${service}-dev-f`,
      event: route,
    });
    const table = compileRouteTable(
      [src('one'), src('two')],
      [
        { service: 'one', stage: 'dev', domains: [{ domainName: 'api.test', basePath: 'v1' }] },
        { service: 'two', stage: 'dev', domains: [{ domainName: 'api.test', basePath: 'v1' }] },
      ],
    );
    assert.match(
      table.warnings.join('\n'),
      /two\/dev: api\.test\/v1 is already mapped to one\/dev/,
    );
    const found = table.lookup('GET', '/v1/x', 'api.test');
    assert.equal(found?.type === 'route' && found.route.service, 'one');
  });
});
