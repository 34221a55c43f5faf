import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/service/config-error.js';
import { runCli } from '../helpers/run-cli.js';
import { cleanupServiceDirs, load, writeServiceDir, yml } from './service-dir.js';

after(cleanupServiceDirs);

const head = ['service: svc', 'provider:', '  name: aws'];

/** The lines of the ConfigError that loading `text` fails with. */
async function refusal(text: string): Promise<readonly string[]> {
  try {
    await load(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.message, error.problems.join('\n'));
    return error.problems;
  }
  assert.fail('expected the load to fail');
}

describe('settings Nimbus does not implement yet', () => {
  it('warns, with file:line:col, about settings that are harmless to ignore', async () => {
    const { warnings, definition } = await load(
      yml(
        ...head,
        '  tracing: {lambda: true}',
        '  vpc: {securityGroupIds: [sg]}',
        '  tags: {team: a}',
        '  stackTags: {team: a}',
        '  logs: {httpApi: true}',
        '  iam: {role: {statements: []}}',
        '  iamRoleStatements: []',
        '  kmsKeyArn: arn:aws:kms:x',
        '  deploymentBucket: {name: b}',
        'functions:',
        '  hello:',
        '    handler: src/handler.hello',
        '    vpc: {subnetIds: [s]}',
        '    tags: {a: b}',
        '    onError: arn:aws:sns:us-east-1:1:dlq',
        '    destinations:',
        '      onSuccess: other',
        '      onFailure: {type: eventBus, arn: "arn:aws:events:us-east-1:1:rule/b"}',
      ),
    );
    const iam = 'IAM is not enforced by Nimbus yet; the statements are ignored';
    assert.deepEqual(warnings, [
      'serverless.yml:4:3 provider.tracing: X-Ray tracing is not supported yet (ignored)',
      'serverless.yml:5:3 provider.vpc: VPC settings are not applied; functions use the network of the Nimbus host',
      'serverless.yml:6:3 provider.tags: tags are not applied by Nimbus yet (ignored)',
      'serverless.yml:7:3 provider.stackTags: tags are not applied by Nimbus yet (ignored)',
      'serverless.yml:8:3 provider.logs: API access logs and log settings are not supported yet (ignored)',
      `serverless.yml:9:3 provider.iam: ${iam}`,
      `serverless.yml:10:3 provider.iamRoleStatements: ${iam}`,
      'serverless.yml:11:3 provider.kmsKeyArn: KMS encryption of environment variables is not supported yet (ignored)',
      'serverless.yml:12:3 provider.deploymentBucket: artifacts are stored by the Nimbus platform; deployment bucket settings are ignored',
      'serverless.yml:16:5 functions.hello.vpc: VPC settings are not applied; the function uses the network of the Nimbus host',
      'serverless.yml:17:5 functions.hello.tags: tags are not applied by Nimbus yet (ignored)',
      'serverless.yml:21:7 functions.hello.destinations.onFailure: only function, URL, SQS queue, SNS topic and EventBridge bus destinations are supported; this one is ignored and failed events go to the dead letters',
    ]);
    // Kept, a failing event would be "delivered" to a function that does not exist.
    assert.deepEqual(definition.functions.hello?.destinations, { onSuccess: 'other' });
    // onError is honoured now (test/async/dead-letter-queue.test.ts): no warning, kept.
    assert.equal(definition.functions.hello?.deadLetterTarget, 'arn:aws:sns:us-east-1:1:dlq');
  });

  it('keeps cognitoUserPool events and refuses a trigger Nimbus does not call, at file:line', async () => {
    const { definition } = await load(
      yml(
        ...head,
        'functions:',
        '  worker:',
        '    handler: src/handler.hello',
        '    events:',
        '      - cognitoUserPool: {pool: users, trigger: PreSignUp, existing: true}',
      ),
    );
    assert.deepEqual(definition.functions.worker?.events, [
      { kind: 'cognitoUserPool', config: { pool: 'users', trigger: 'PreSignUp', existing: true } },
    ]);
    const problems = await refusal(
      yml(
        ...head,
        'functions:',
        '  worker:',
        '    handler: src/handler.hello',
        '    events:',
        '      - cognitoUserPool: {pool: users, trigger: DefineAuthChallenge}',
      ),
    );
    assert.equal(problems.length, 1);
    assert.match(
      problems[0]!,
      /^serverless\.yml:\d+:\d+ functions\.worker\.events\[0\]\.cognitoUserPool\.trigger: the DefineAuthChallenge trigger is not supported by Nimbus yet/,
    );
  });

  it('warns that events without a source will not fire, naming the function (s3, cloudwatchEvent events fire)', async () => {
    const { warnings, definition } = await load(
      yml(
        ...head,
        'functions:',
        '  worker:',
        '    handler: src/handler.hello',
        '    events:',
        '      - s3: uploads',
        '      - cloudwatchEvent: {event: {source: [a]}}',
        '      - kafka: {topic: orders, bootstrapServers: [b:9092]}',
        '      - schedule: rate(1 hour)',
      ),
    );
    const notFiring = (type: string) =>
      `${type} events are not supported yet; this event will not fire for function "worker"`;
    assert.deepEqual(warnings, [
      `serverless.yml:10:9 functions.worker.events[2].kafka: ${notFiring('kafka')}`,
    ]);
    assert.deepEqual(
      definition.functions.worker?.events.map((e) => e.kind),
      ['s3', 'eventBridge', 'schedule'],
    );
  });

  it('refuses every unsafe setting at once, one line each, in file order', async () => {
    const problems = await refusal(
      yml(
        ...head,
        '  resourcePolicy: [{Effect: Allow}]',
        '  apiGateway:',
        '    resourcePolicy: [{Effect: Allow}]',
        '    apiKeys: [k]',
        '    usagePlan: {quota: {limit: 10, period: DAY}}',
        '  layers: [arn:aws:lambda:x:1:layer:l:1]',
        '  ecr: {images: {img: {path: ./}}}',
        'functions:',
        '  hello:',
        '    handler: src/handler.hello',
        '    fileSystemConfig: {arn: x, localMountPath: /mnt/x}',
        '    layers: [arn:aws:lambda:x:1:layer:l:1]',
        '    events:',
        '      - http:',
        '          path: a',
        '          method: get',
        '          authorizer: {type: COGNITO_USER_POOLS, arn: x}',
        '      - http: {path: b, method: get, private: true}',
        '      - http: {path: c, method: get, authorizer: arn:aws:cognito-idp:us-east-1:1:userpool/p}',
        '  boxed:',
        '    image: repo/img:1',
      ),
    );
    const pub = 'the route would be public';
    assert.deepEqual(problems, [
      `serverless.yml:4:3 provider.resourcePolicy: resource policies are not supported yet; ${pub}`,
      `serverless.yml:6:5 provider.apiGateway.resourcePolicy: resource policies are not supported yet; ${pub}`,
      'serverless.yml:10:3 provider.ecr: container images are not supported yet; use `handler` functions',
      'serverless.yml:14:5 functions.hello.fileSystemConfig: EFS mounts are not supported yet; the function would not find its files',
      'serverless.yml:24:5 functions.boxed.image: container images are not supported yet; use `handler` instead',
    ]);
  });

  it('refuses only the values that would change behaviour', async () => {
    const fn = ['functions:', '  hello:', '    handler: src/handler.hello', '    events:'];
    assert.deepEqual(
      await refusal(
        yml(...head, ...fn, '      - http: {path: a, method: get, integration: lambda}'),
      ),
      [
        'serverless.yml:8:38 functions.hello.events[0].http.integration: only the lambda-proxy integration is supported yet',
      ],
    );
    assert.deepEqual(await refusal(yml(...head, '  httpApi: {payload: "1.0"}')), [
      'serverless.yml:4:13 provider.httpApi.payload: only payload "2.0" is supported yet; the handlers would receive 2.0 events',
    ]);
    assert.deepEqual(await refusal(yml(...head, '  endpointType: private')), [
      'serverless.yml:4:3 provider.endpointType: private APIs are not supported yet; the route would be public',
    ]);
    const fine = await load(
      yml(
        ...head,
        '  endpointType: REGIONAL',
        '  httpApi: {payload: "2.0"}',
        ...fn,
        '      - http: {path: a, method: get, private: false, integration: AWS_PROXY}',
      ),
    );
    assert.deepEqual(fine.warnings, []);
  });

  it('the CLI prints each refused key on its own line and exits 1 without a stack', async () => {
    const cwd = await writeServiceDir({
      'serverless.yml': yml(
        ...head,
        'functions:',
        '  hello:',
        '    handler: src/handler.hello',
        '    fileSystemConfig: {arn: x, localMountPath: /mnt/x}',
        '    events:',
        '      - http: {path: c, method: get, authorizer: {type: cognito_user_pools, arn: x}}',
      ),
    });
    const run = await runCli(['print'], { cwd, env: {} });
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      '✖ serverless.yml:7:5 functions.hello.fileSystemConfig: EFS mounts are not supported yet; the function would not find its files\n',
    );
  });
});

describe('configValidationMode', () => {
  const typos = [
    'provider:',
    '  name: aws',
    '  runtimee: nodejs20.x',
    'functions:',
    '  hello:',
    '    handler: src/handler.hello',
    '    timout: 3',
    '    events:',
    '      - htttp: GET /',
  ];

  it('error: every unknown key fails the load', async () => {
    const problems = await refusal(yml('service: svc', 'configValidationMode: error', ...typos));
    assert.deepEqual(problems, [
      'serverless.yml:5:3 provider: unknown property "runtimee"; did you mean "runtime"?',
      'serverless.yml:9:5 functions.hello: unknown property "timout"; did you mean "timeout"?',
      'serverless.yml:11:9 functions.hello.events[0].htttp: event type "htttp" is unknown; did you mean "http"?',
    ]);
  });

  it('off: unknown keys are ignored silently; warn (the default) warns', async () => {
    const keyTypos = typos.slice(0, -2);
    const off = await load(yml('service: svc', 'configValidationMode: off', ...typos));
    assert.deepEqual(off.warnings, []);
    const warn = await load(yml('service: svc', 'configValidationMode: warn', ...keyTypos));
    assert.deepEqual(warn.warnings, [
      'serverless.yml:5:3 provider: unknown property "runtimee" (ignored); did you mean "runtime"?',
      'serverless.yml:9:5 functions.hello: unknown property "timout" (ignored); did you mean "timeout"?',
    ]);
  });

  it('an unknown event type fails the load in every mode but off, with the nearest type', async () => {
    for (const mode of ['warn', 'error']) {
      const problems = await refusal(
        yml(`configValidationMode: ${mode}`, ...typos.slice(3, 6), ...typos.slice(7)),
      );
      assert.deepEqual(problems, [
        'serverless.yml:6:9 functions.hello.events[0].htttp: event type "htttp" is unknown; did you mean "http"?',
      ]);
    }
    const unrelated = await refusal(
      yml(
        ...head,
        'functions:',
        '  f:',
        '    handler: src/handler.hello',
        '    events:',
        '      - webhook: /x',
      ),
    );
    assert.deepEqual(unrelated, [
      'serverless.yml:8:9 functions.f.events[0].webhook: event type "webhook" is unknown',
    ]);
    const caseOnly = await refusal(
      yml(
        ...head,
        'functions:',
        '  f:',
        '    handler: src/handler.hello',
        '    events:',
        '      - httpapi: GET /',
      ),
    );
    assert.deepEqual(caseOnly, [
      'serverless.yml:8:9 functions.f.events[0].httpapi: event type "httpapi" is unknown; did you mean "httpApi"?',
    ]);
  });

  it('error still only warns about known settings Nimbus ignores', async () => {
    const { warnings } = await load(
      yml('service: svc', 'configValidationMode: error', ...head.slice(1), '  tracing: {}'),
    );
    assert.deepEqual(warnings, [
      'serverless.yml:5:3 provider.tracing: X-Ray tracing is not supported yet (ignored)',
    ]);
  });
});
