import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { EventDefinition } from '../../src/model/service-definition.js';
import { DEFAULT_CORS_HEADERS } from '../../src/service/events/http.js';
import { assertConfigError, cleanupServiceDirs, load, yml } from './service-dir.js';

after(cleanupServiceDirs);

/** Normalized events of one function whose `events:` list is `lines`. */
async function events(...lines: string[]): Promise<EventDefinition[]> {
  const config = yml(
    'service: svc',
    'provider:',
    '  name: aws',
    'functions:',
    '  hello:',
    '    handler: src/handler.hello',
    '    events:',
    ...lines,
  );
  const { definition } = await load(config);
  return definition.functions.hello?.events ?? [];
}

function eventsConfig(...lines: string[]): string {
  return yml(
    'service: svc',
    'provider:',
    '  name: aws',
    'functions:',
    '  hello:',
    '    handler: src/handler.hello',
    '    events:',
    ...lines,
  );
}

describe('http events', () => {
  it('normalizes the shorthand', async () => {
    assert.deepEqual(
      await events('      - http: GET users/create', '      - http: any /{proxy+}'),
      [
        { kind: 'http', method: 'GET', path: 'users/create' },
        { kind: 'http', method: 'ANY', path: '{proxy+}' },
      ],
    );
  });

  it('normalizes the object form, with cors: true', async () => {
    const [event] = await events(
      '      - http:',
      '          path: /users/{id}',
      '          method: post',
      '          cors: true',
      '          async: true',
      '          private: false',
      '          integration: lambda-proxy',
    );
    assert.deepEqual(event, {
      kind: 'http',
      method: 'POST',
      path: 'users/{id}',
      cors: { origins: ['*'], headers: DEFAULT_CORS_HEADERS, allowCredentials: false },
      async: true,
      private: false,
      integration: 'lambda-proxy',
    });
    assert.deepEqual(DEFAULT_CORS_HEADERS, [
      'Content-Type',
      'X-Amz-Date',
      'Authorization',
      'X-Api-Key',
      'X-Amz-Security-Token',
      'X-Amz-User-Agent',
      'X-Amzn-Trace-Id',
    ]);
  });

  it('normalizes a cors object (origin or origins)', async () => {
    const [one, two] = await events(
      '      - http:',
      '          path: a',
      '          method: get',
      '          cors: {origin: "https://x.dev", headers: X-Custom, allowCredentials: true, maxAge: 60, methods: [get]}',
      '      - http:',
      '          path: b',
      '          method: get',
      '          cors: {origins: [a, b]}',
    );
    assert.deepEqual(one, {
      kind: 'http',
      method: 'GET',
      path: 'a',
      cors: {
        origins: ['https://x.dev'],
        headers: ['X-Custom'],
        allowCredentials: true,
        maxAge: 60,
        methods: ['GET'],
      },
    });
    assert.deepEqual(two && 'cors' in two ? two.cors : undefined, {
      origins: ['a', 'b'],
      headers: DEFAULT_CORS_HEADERS,
      allowCredentials: false,
    });
  });

  it('rejects a missing path and a bad method', async () => {
    await assertConfigError(
      load(eventsConfig('      - http: GET')),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:8:15 functions.hello.events[0].http.path: is required (e.g. `path: users/{id}`)',
    );
    await assertConfigError(
      load(eventsConfig('      - http:', '          path: x', '          method: fetch')),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:10:19 functions.hello.events[0].http.method: must be one of GET, POST, PUT, ' +
        'PATCH, DELETE, HEAD, OPTIONS, ANY',
    );
  });
});

describe('httpApi events', () => {
  it('normalizes *, shorthand and object forms', async () => {
    assert.deepEqual(
      await events(
        "      - httpApi: '*'",
        '      - httpApi: patch /elo',
        '      - httpApi:',
        '          path: /users/{id}',
        '      - httpApi: {method: get, path: /a}',
      ),
      [
        { kind: 'httpApi', method: '*', path: '*' },
        { kind: 'httpApi', method: 'PATCH', path: '/elo' },
        { kind: 'httpApi', method: '*', path: '/users/{id}' },
        { kind: 'httpApi', method: 'GET', path: '/a' },
      ],
    );
  });

  it('requires a path starting with /', async () => {
    await assertConfigError(
      load(eventsConfig('      - httpApi: {method: get, path: users}')),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:8:38 functions.hello.events[0].httpApi.path: must start with "/" (or be "*")',
    );
  });
});

describe('schedule events', () => {
  it('normalizes string and object forms', async () => {
    assert.deepEqual(
      await events(
        '      - schedule: rate(10 minutes)',
        '      - schedule:',
        '          rate: [cron(0 12 * * ? *), rate(1 hour)]',
        '          enabled: false',
        '          name: nightly',
        '          description: runs',
        '          input: {a: 1}',
        '          timezone: Europe/Paris',
      ),
      [
        { kind: 'schedule', rate: ['rate(10 minutes)'], enabled: true },
        {
          kind: 'schedule',
          rate: ['cron(0 12 * * ? *)', 'rate(1 hour)'],
          enabled: false,
          name: 'nightly',
          description: 'runs',
          input: { a: 1 },
          timezone: 'Europe/Paris',
        },
      ],
    );
  });

  it('validates each expression', async () => {
    await assertConfigError(
      load(eventsConfig('      - schedule:', '          rate: [rate(1 hour), every day]')),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:9:32 functions.hello.events[0].schedule.rate[1]: must be a rate(...) or ' +
        'cron(...) expression, e.g. rate(5 minutes)',
    );
  });
});

describe('other events', () => {
  it('wraps string shorthands and keeps objects as config', async () => {
    assert.deepEqual(
      await events(
        '      - s3: photos',
        '      - s3: {bucket: docs, event: "s3:ObjectRemoved:*", rules: [{prefix: a/}]}',
        '      - sqs: arn:aws:sqs:us-east-1:000000000000:q',
        '      - stream: arn:aws:dynamodb:us-east-1:000000000001:table/tbl/stream/x',
        '      - sns: alerts',
        '      - sns: arn:aws:sns:us-east-1:000000000000:t',
        '      - eventBridge: {pattern: {source: [my.app]}}',
        '      - cloudwatchLog: /aws/lambda/x',
        '      - iot: {sql: "SELECT * FROM \'topic\'"}',
        '      - websocket: $connect',
      ),
      [
        { kind: 's3', config: { bucket: 'photos' } },
        {
          kind: 's3',
          config: { bucket: 'docs', event: 's3:ObjectRemoved:*', rules: [{ prefix: 'a/' }] },
        },
        { kind: 'sqs', config: { arn: 'arn:aws:sqs:us-east-1:000000000000:q' } },
        {
          kind: 'stream',
          config: { arn: 'arn:aws:dynamodb:us-east-1:000000000001:table/tbl/stream/x' },
        },
        { kind: 'sns', config: { topicName: 'alerts' } },
        { kind: 'sns', config: { arn: 'arn:aws:sns:us-east-1:000000000000:t' } },
        { kind: 'eventBridge', config: { pattern: { source: ['my.app'] } } },
        { kind: 'cloudwatchLog', config: { logGroup: '/aws/lambda/x' } },
        { kind: 'iot', config: { sql: "SELECT * FROM 'topic'" } },
        { kind: 'websocket', config: { route: '$connect' } },
      ],
    );
  });

  it('requires the identifying key', async () => {
    await assertConfigError(
      load(eventsConfig('      - sqs: {batchSize: 5}')),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:8:14 functions.hello.events[0].sqs: sqs event needs "arn"',
    );
    await assertConfigError(
      load(eventsConfig('      - iot: topic')),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:8:14 functions.hello.events[0].iot: must be a map',
    );
  });

  it('rejects an event item that is not a one-key map', async () => {
    await assertConfigError(
      load(eventsConfig('      - http: GET /', '        sqs: arn')),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:8:9 functions.hello.events[0]: each event must be a map with exactly one ' +
        'event type, e.g. `- http: GET /`',
    );
  });
});

describe('sqs events', () => {
  const arn = 'arn:aws:sqs:us-east-1:000000000000:jobs';
  it('keeps every Lambda setting; an intrinsic arn is left for the platform', async () => {
    const [e] = await events(
      '      - sqs:',
      `          arn: ${arn}`,
      '          batchSize: 100',
      '          maximumBatchingWindow: 5',
      '          functionResponseType: ReportBatchItemFailures',
      '          maximumConcurrency: 3',
      '          filterPatterns: [{body: {kind: [order]}}]',
      '          enabled: false',
    );
    assert.equal(e?.kind, 'sqs');
    const [g] = await events('      - sqs: {arn: {Fn::GetAtt: [Jobs, Arn]}}');
    assert.deepEqual((g as { config: unknown }).config, { arn: { 'Fn::GetAtt': ['Jobs', 'Arn'] } });
  });

  it('refuses what Lambda refuses, at file:line', async () => {
    const cases: [string, string][] = [
      ['{arn: nope}', 'arn: nope is not an SQS queue ARN'],
      [`{arn: ${arn}, batchSize: 0}`, 'batchSize: batchSize must be an integer from 1 to 10000'],
      [
        `{arn: ${arn}, batchSize: 11}`,
        'maximumBatchingWindow: Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
      ],
      [`{arn: ${arn}, maximumConcurrency: 1}`, 'maximumConcurrency: maximumConcurrency must be'],
      [
        `{arn: ${arn}, functionResponseType: Other}`,
        'functionResponseType: must be ReportBatchItemFailures',
      ],
      [`{arn: ${arn}, filterPatterns: [{body: x}]}`, 'filterPatterns: filter pattern body must be'],
    ];
    for (const [value, message] of cases) {
      await assert.rejects(load(eventsConfig(`      - sqs: ${value}`)), (error: Error) => {
        assert.match(error.message, /^serverless\.yml:8:\d+ functions\.hello\.events\[0\]\.sqs\./);
        assert.ok(error.message.includes(message), `${error.message} should say ${message}`);
        return true;
      });
    }
  });
});
