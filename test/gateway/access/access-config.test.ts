import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HttpApiEvent, HttpEvent } from '../../../src/model/service-definition.js';
import {
  decide,
  parsePolicy,
  wildcardMatch,
} from '../../../src/platform/gateway/access/iam-policy.js';
import {
  AccessConfigError,
  compileRouteAccess,
} from '../../../src/platform/gateway/access/route-access.js';
import { periodStart, UsageLimiter } from '../../../src/platform/gateway/access/usage-limiter.js';
import { compileStageUsage } from '../../../src/platform/gateway/access/usage-plan-config.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';

const def = (provider: Record<string, unknown> = {}) =>
  serviceDef([fnDef('hello'), fnDef('auth')], {
    provider: {
      name: 'aws',
      runtime: 'nodejs20.x',
      memorySize: 1024,
      timeout: 6,
      environment: {},
      ...provider,
    },
  });
const http = (authorizer: unknown, extra: Partial<HttpEvent> = {}): HttpEvent => ({
  kind: 'http',
  method: 'GET',
  path: 'x',
  authorizer,
  ...extra,
});
const httpApi = (authorizer: unknown): HttpApiEvent => ({
  kind: 'httpApi',
  method: 'GET',
  path: '/x',
  authorizer,
});

describe('route access compile', () => {
  it('a public route compiles to nothing (the gateway pays nothing for it)', () => {
    assert.equal(compileRouteAccess(def(), { kind: 'http', method: 'GET', path: 'x' }), undefined);
    assert.equal(compileRouteAccess(def(), http(undefined, { private: false })), undefined);
  });

  it('REST: a function name is a TOKEN authorizer on Authorization with the 300 s TTL at the stage alias', () => {
    const access = compileRouteAccess(def(), http('auth'));
    assert.deepEqual(access?.authorizer, {
      type: 'lambda',
      name: 'auth',
      api: 'http',
      functionName: 'svc-dev-auth',
      qualifier: 'dev',
      token: true,
      identitySources: [{ from: 'header', name: 'authorization' }],
      ttlMs: 300_000,
      simpleResponses: false,
      payloadVersion: '1.0',
    });
    const arn = compileRouteAccess(
      def(),
      http({
        arn: 'arn:aws:lambda:us-east-1:000000000000:function:other-auth:3',
        type: 'request',
        identitySource: 'method.request.querystring.t',
        resultTtlInSeconds: 0,
      }),
    );
    assert.equal(arn?.authorizer?.type === 'lambda' && arn.authorizer.functionName, 'other-auth');
    assert.equal(arn?.authorizer?.type === 'lambda' && arn.authorizer.qualifier, '3');
    assert.equal(arn?.authorizer?.type === 'lambda' && arn.authorizer.ttlMs, 0);
    assert.deepEqual(compileRouteAccess(def(), http('aws_iam'))?.authorizer, { type: 'iam' });
    assert.deepEqual(compileRouteAccess(def(), httpApi({ type: 'aws_iam' }))?.authorizer, {
      type: 'iam',
    });
  });

  it('REST: cognito_user_pools names the pool by ARN; ID tokens on Authorization unless scopes', () => {
    const arn = 'arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_AbC123';
    assert.deepEqual(
      compileRouteAccess(def(), http({ type: 'COGNITO_USER_POOLS', arn }))?.authorizer,
      {
        type: 'cognito',
        name: 'us-east-1_AbC123',
        poolId: 'us-east-1_AbC123',
        identitySource: { from: 'header', name: 'authorization' },
        scopes: [],
      },
    );
    const scoped = compileRouteAccess(
      def(),
      http({
        name: 'users',
        arn,
        scopes: ['todo/read'],
        identitySource: 'method.request.header.X-Token',
      }),
    )?.authorizer;
    assert.equal(scoped?.type, 'cognito');
    assert.deepEqual(
      scoped?.type === 'cognito' && [scoped.name, scoped.scopes, scoped.identitySource.name],
      ['users', ['todo/read'], 'x-token'],
    );
    assert.equal(compileRouteAccess(def(), http(arn))?.authorizer?.type, 'cognito');
  });

  it('refuses what it cannot enforce, saying why', () => {
    const jwtProvider = {
      httpApi: {
        authorizers: { j: { type: 'jwt', issuerUrl: 'https://issuer.example', audience: 'a' } },
      },
    };
    const cases: [unknown, Record<string, unknown>, HttpEvent | HttpApiEvent, RegExp][] = [
      ['http', {}, http('missing'), /authorizer function "missing" is not defined/],
      ['http', {}, http({ type: 'COGNITO_USER_POOLS', arn: 'x' }), /not a user pool ARN/],
      ['http', {}, http({ type: 'COGNITO_USER_POOLS' }), /needs arn/],
      ['http', {}, http('arn:aws:cognito-idp:us-east-1:1:userpool/p'), /not a user pool ARN/],
      ['http', {}, http({ name: 'auth', type: 'weird' }), /type must be/],
      [
        'http',
        {},
        http({ name: 'auth', identitySource: 'context.x' }),
        /identitySource "context.x" is not supported/,
      ],
      ['http', {}, http({ name: 'auth', resultTtlInSeconds: 99999 }), /resultTtlInSeconds/],
      [
        'http',
        {},
        http({ name: 'auth', identityValidationExpression: '(' }),
        /not a valid regular expression/,
      ],
      ['http', {}, http({ arn: 'arn:aws:lambda:nope' }), /not a Lambda function ARN/],
      ['httpApi', {}, httpApi({ name: 'j' }), /"j" is not in provider.httpApi.authorizers/],
      ['httpApi', jwtProvider, httpApi({ id: 'abc' }), /outside the service/],
      [
        'httpApi',
        { httpApi: { authorizers: { j: { type: 'jwt', audience: 'a' } } } },
        httpApi({ name: 'j' }),
        /issuerUrl is required/,
      ],
      [
        'httpApi',
        { httpApi: { authorizers: { j: { type: 'jwt', issuerUrl: 'ftp://x', audience: 'a' } } } },
        httpApi({ name: 'j' }),
        /http\(s\)/,
      ],
      [
        'httpApi',
        { httpApi: { authorizers: { j: { type: 'jwt', issuerUrl: 'https://x' } } } },
        httpApi({ name: 'j' }),
        /audience is required/,
      ],
      [
        'httpApi',
        {
          httpApi: {
            authorizers: {
              r: {
                type: 'request',
                functionName: 'auth',
                payloadVersion: '1.0',
                enableSimpleResponses: true,
              },
            },
          },
        },
        httpApi({ name: 'r' }),
        /enableSimpleResponses needs payloadVersion "2.0"/,
      ],
      [
        'httpApi',
        { httpApi: { authorizers: { r: { type: 'request', functionName: 'auth' } } } },
        httpApi({ name: 'r' }),
        /caching .* needs an identitySource/,
      ],
    ];
    for (const [, provider, event, message] of cases) {
      assert.throws(
        () => compileRouteAccess(def(provider), event),
        (error: unknown) => error instanceof AccessConfigError && message.test(error.message),
        String(message),
      );
    }
  });

  it('usage plans: one plan, named plans with grouped keys, and the mistakes', () => {
    const one = compileStageUsage(
      def({
        apiGateway: {
          apiKeys: ['a', { name: 'b', value: 'v'.repeat(20) }],
          usagePlan: { throttle: { rateLimit: 5, burstLimit: 10 } },
        },
      }),
    );
    assert.deepEqual(
      one?.keys.map((k) => [k.name, k.plan, k.value]),
      [
        ['a', 'default', undefined],
        ['b', 'default', 'v'.repeat(20)],
      ],
    );
    const named = compileStageUsage(
      def({
        apiGateway: {
          apiKeys: [{ free: ['a'] }, { paid: ['b'] }],
          usagePlan: [{ free: { quota: { limit: 5, period: 'week', offset: 1 } } }, { paid: {} }],
        },
      }),
    );
    assert.deepEqual(named?.plans.get('free')?.quota, { limit: 5, period: 'WEEK', offset: 1 });
    assert.equal(named?.keys[1]?.plan, 'paid');
    assert.equal(compileStageUsage(def()), undefined);
    for (const [apiGateway, message] of [
      [
        { apiKeys: ['a'], usagePlan: [{ x: {} }, { y: {} }] },
        /each key must be listed under its plan/,
      ],
      [
        { apiKeys: [{ nope: ['a'] }], usagePlan: [{ x: {} }] },
        /usage plan "nope" is not in usagePlan/,
      ],
      [{ apiKeys: ['a', 'a'] }, /listed twice/],
      [{ apiKeys: [{ name: 'a', value: 'short' }] }, /20 to 128 characters/],
      [{ usagePlan: { quota: { limit: 0, period: 'DAY' } } }, /limit must be an integer >= 1/],
      [{ usagePlan: { quota: { limit: 1, period: 'YEAR' } } }, /DAY, WEEK or MONTH/],
      [{ usagePlan: { throttle: { rateLimit: -1 } } }, /rateLimit must be > 0/],
      [{ apiKeySourceType: 'COOKIE' }, /HEADER or AUTHORIZER/],
    ] as const) {
      assert.throws(() => compileStageUsage(def({ apiGateway })), message);
    }
  });
});

describe('IAM policies from Lambda authorizers', () => {
  const arn = 'arn:aws:execute-api:us-east-1:000000000000:svc-dev/dev/GET/users/42';
  it('deny wins, allow needs a matching statement, wildcards match', () => {
    const allow = parsePolicy({
      Statement: [
        {
          Effect: 'Allow',
          Action: 'execute-api:*',
          Resource: ['arn:aws:execute-api:*:*:svc-dev/dev/GET/*'],
        },
      ],
    })!;
    assert.equal(decide(allow, arn), 'allow');
    assert.equal(decide(allow, arn.replace('/GET/', '/POST/')), 'implicit-deny');
    const both = parsePolicy({
      Statement: [
        { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' },
        { Effect: 'Deny', Action: '*', Resource: arn },
      ],
    })!;
    assert.equal(decide(both, arn), 'deny');
    assert.equal(wildcardMatch('a?c*', 'abcdef'), true);
    assert.equal(wildcardMatch('a?c', 'abcd'), false);
    assert.equal(wildcardMatch(`${'*'.repeat(50)}x`, 'a'.repeat(5000)), false, 'no blowup');
  });
  it('anything that is not a policy is refused', () => {
    for (const bad of [
      null,
      'x',
      {},
      { Statement: [] },
      { Statement: [{ Effect: 'Maybe', Action: '*', Resource: '*' }] },
      { Statement: [{ Effect: 'Allow', Action: 1, Resource: '*' }] },
    ]) {
      assert.equal(parsePolicy(bad), undefined, JSON.stringify(bad));
    }
  });
});

describe('usage limits', () => {
  it('quota periods start where API Gateway starts them (UTC; WEEK from Sunday + offset; MONTH from the 1st + offset)', () => {
    const wed = Date.UTC(2025, 0, 15, 13, 0); // a Wednesday
    assert.equal(periodStart(wed, 'DAY', 0), '2025-01-15');
    assert.equal(periodStart(wed, 'WEEK', 0), '2025-01-12');
    assert.equal(periodStart(wed, 'WEEK', 4), '2025-01-09');
    assert.equal(periodStart(wed, 'MONTH', 0), '2025-01-01');
    assert.equal(periodStart(wed, 'MONTH', 20), '2024-12-21');
  });
  it('the token bucket refills at rateLimit up to burstLimit', async () => {
    let now = 0;
    const limiter = new UsageLimiter({
      clock: { now: () => now },
      counter: { take: async () => true },
    });
    const plan = { name: 'p', throttle: { rateLimit: 2, burstLimit: 3 } };
    const run = async () => limiter.admit('k', plan);
    assert.deepEqual(
      [await run(), await run(), await run(), await run()],
      ['ok', 'ok', 'ok', 'throttled'],
    );
    now += 500;
    assert.deepEqual([await run(), await run()], ['ok', 'throttled']);
  });
});
