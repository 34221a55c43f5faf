import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceDefinition } from '../../../../src/model/service-definition.js';
import { evaluate, pseudoParameters } from '../../../../src/platform/aws/resources/intrinsics.js';
import {
  type ResourceDeclaration,
  ResourcePropertyError,
  type ResourceProvisioner,
  type ResourceScope,
} from '../../../../src/platform/aws/resources/provisioner.js';
import { ProvisionerRegistry } from '../../../../src/platform/aws/resources/provisioner-registry.js';
import { planResources } from '../../../../src/platform/aws/resources/stage-plan.js';
import { TemplateError } from '../../../../src/platform/aws/resources/template-error.js';

const scope: ResourceScope = {
  service: 'shop',
  stage: 'dev',
  region: 'eu-west-1',
  accountId: '000000000000',
  platformUrl: 'http://127.0.0.1:4000',
};

/** A unit-test provisioner: Ref is the `Name` property, GetAtt Arn and Url from it. */
function fakeType(type: string): ResourceProvisioner {
  return {
    type,
    attributes(_scope, d: ResourceDeclaration) {
      const name = d.properties.Name ?? d.logicalId.toLowerCase();
      if (typeof name !== 'string') {
        throw new ResourcePropertyError(d.logicalId, 'Properties.Name', 'must be a string');
      }
      return {
        ref: name,
        physicalId: name,
        attributes: { Arn: `arn:aws:fake:::${name}`, 'Endpoint.Address': `${name}.host` },
      };
    },
    apply: () => Promise.reject(new Error('not in unit tests')),
    remove: () => Promise.reject(new Error('not in unit tests')),
  };
}

const registry = new ProvisionerRegistry([
  fakeType('AWS::SQS::Queue'),
  fakeType('AWS::S3::Bucket'),
]);

function definition(
  resources: unknown,
  extra: Partial<ServiceDefinition['functions'][string]> = {},
): ServiceDefinition {
  return {
    service: 'shop',
    stage: 'dev',
    region: 'eu-west-1',
    provider: { name: 'aws', runtime: 'nodejs20.x', memorySize: 128, timeout: 6, environment: {} },
    functions: {
      hello: {
        key: 'hello',
        name: 'shop-dev-hello',
        handler: 'h.main',
        runtime: 'nodejs20.x',
        runtimeFamily: 'nodejs',
        memorySize: 128,
        timeout: 6,
        environment: {},
        events: [],
        handlerFile: 'h.js',
        ...extra,
      },
    },
    package: { patterns: [], individually: false, excludeDevDependencies: true },
    plugins: [],
    custom: {},
    resources,
  };
}

const plan = (resources: unknown, extra = {}) =>
  planResources(definition(resources, extra), scope, registry);

/** Resolves `value` as a function's environment variable `X`, against two queues. */
function resolveEnv(value: unknown): string | undefined {
  const p = plan(
    {
      Resources: {
        Jobs: { Type: 'AWS::SQS::Queue', Properties: { Name: 'jobs' } },
        Dead: { Type: 'AWS::SQS::Queue', Properties: { Name: 'dead' } },
      },
    },
    { unresolvedEnvironment: { X: value } },
  );
  return p.definition.functions.hello!.environment.X;
}

function refusal(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof TemplateError, `a TemplateError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

describe('intrinsics', () => {
  it('Ref gives the resource value, pseudo parameters and function names', () => {
    assert.equal(resolveEnv({ Ref: 'Jobs' }), 'jobs');
    assert.equal(resolveEnv({ Ref: 'AWS::Region' }), 'eu-west-1');
    assert.equal(resolveEnv({ Ref: 'AWS::AccountId' }), '000000000000');
    assert.equal(resolveEnv({ Ref: 'AWS::StackName' }), 'shop-dev');
    assert.equal(resolveEnv({ Ref: 'AWS::Partition' }), 'aws');
    assert.equal(resolveEnv({ Ref: 'HelloLambdaFunction' }), 'shop-dev-hello');
  });

  it('Fn::GetAtt in list and dotted string forms, functions included', () => {
    assert.equal(resolveEnv({ 'Fn::GetAtt': ['Jobs', 'Arn'] }), 'arn:aws:fake:::jobs');
    assert.equal(resolveEnv({ 'Fn::GetAtt': 'Dead.Arn' }), 'arn:aws:fake:::dead');
    // The attribute may itself contain a dot.
    assert.equal(resolveEnv({ 'Fn::GetAtt': 'Dead.Endpoint.Address' }), 'dead.host');
    assert.equal(
      resolveEnv({ 'Fn::GetAtt': ['HelloLambdaFunction', 'Arn'] }),
      'arn:aws:lambda:eu-west-1:000000000000:function:shop-dev-hello',
    );
  });

  it('Fn::Sub with logical ids, attributes, pseudo parameters, a variable map and ${!literal}', () => {
    assert.equal(
      resolveEnv({
        'Fn::Sub':
          '${Jobs}|${Dead.Arn}|${AWS::Region}|${AWS::AccountId}|${AWS::StackName}|${AWS::Partition}',
      }),
      'jobs|arn:aws:fake:::dead|eu-west-1|000000000000|shop-dev|aws',
    );
    assert.equal(
      resolveEnv({ 'Fn::Sub': ['${Q}-${N}-${!Kept}', { Q: { Ref: 'Jobs' }, N: 'x' }] }),
      'jobs-x-${Kept}',
    );
  });

  it('Fn::Join, Fn::Select and Fn::Split, nested', () => {
    assert.equal(resolveEnv({ 'Fn::Join': [',', [{ Ref: 'Jobs' }, 'b', 3]] }), 'jobs,b,3');
    assert.equal(resolveEnv({ 'Fn::Select': [1, ['a', { Ref: 'Dead' }]] }), 'dead');
    assert.equal(
      resolveEnv({
        'Fn::Select': ['5', { 'Fn::Split': [':', { 'Fn::GetAtt': ['Jobs', 'Arn'] }] }],
      }),
      'jobs',
    );
    assert.equal(resolveEnv({ 'Fn::Join': ['-', { 'Fn::Split': ['.', 'a.b.c'] }] }), 'a-b-c');
  });

  it('refuses an unknown intrinsic naming it and its path', () => {
    const e = refusal(() => resolveEnv({ 'Fn::If': ['IsProd', 'a', 'b'] }));
    assert.equal(e.path, 'functions.hello.environment.X.Fn::If');
    assert.match(e.detail, /Fn::If is not supported/);
    const nested = refusal(() =>
      evaluate({ a: [{ 'Fn::ImportValue': 'x' }] }, 'here', {
        pseudo: pseudoParameters(scope),
        resolver: { ref: () => '', getAtt: () => '' },
      }),
    );
    assert.equal(nested.path, 'here.a.0.Fn::ImportValue');
  });

  it('refuses a Ref to an unknown logical id, an unknown pseudo parameter and a bad GetAtt', () => {
    assert.match(refusal(() => resolveEnv({ Ref: 'Nope' })).detail, /unknown logical id Nope/);
    assert.match(refusal(() => resolveEnv({ Ref: 'AWS::NotOne' })).detail, /pseudo parameter/);
    assert.match(
      refusal(() => resolveEnv({ 'Fn::GetAtt': ['Jobs', 'Colour'] })).detail,
      /Jobs has no attribute Colour \(it has: Arn/,
    );
    assert.match(refusal(() => resolveEnv({ 'Fn::GetAtt': 'NoDot' })).detail, /logicalId/);
    assert.match(
      refusal(() => resolveEnv({ 'Fn::Sub': '${Missing}' })).detail,
      /unknown logical id/,
    );
    assert.match(
      refusal(() => resolveEnv({ 'Fn::Split': [',', 'a'] })).detail,
      /must resolve to a string/,
    );
    assert.match(refusal(() => resolveEnv({ 'Fn::Select': [4, ['a']] })).detail, /index/);
  });
});

describe('resource plans', () => {
  it('orders resources by their references and DependsOn, resolving properties', () => {
    const p = plan({
      Resources: {
        Main: {
          Type: 'AWS::SQS::Queue',
          Properties: { Name: { 'Fn::Sub': '${Dead}-main' } },
        },
        Dead: { Type: 'AWS::SQS::Queue', DependsOn: 'Bucket', Properties: { Name: 'dlq' } },
        Bucket: { Type: 'AWS::S3::Bucket' },
      },
    });
    assert.deepEqual(
      p.resources.map((r) => r.declaration.logicalId),
      ['Bucket', 'Dead', 'Main'],
    );
    assert.deepEqual(p.resources[2]!.declaration.properties, { Name: 'dlq-main' });
  });

  it('refuses a dependency cycle, naming it', () => {
    const e = refusal(() =>
      plan({
        Resources: {
          A: { Type: 'AWS::SQS::Queue', Properties: { Name: { Ref: 'B' } } },
          B: { Type: 'AWS::SQS::Queue', Properties: { Name: { 'Fn::GetAtt': 'A.Arn' } } },
        },
      }),
    );
    assert.match(e.detail, /circular dependency between resources: A -> B -> A/);
  });

  it('leaves unknown types alone, but refuses references to them', () => {
    const p = plan({ Resources: { Pool: { Type: 'AWS::Cognito::UserPool', Properties: {} } } });
    assert.deepEqual(p.ignored, [{ logicalId: 'Pool', type: 'AWS::Cognito::UserPool' }]);
    assert.equal(p.resources.length, 0);
    const e = refusal(() =>
      plan(
        { Resources: { Pool: { Type: 'AWS::Cognito::UserPool' } } },
        { unresolvedEnvironment: { POOL: { Ref: 'Pool' } } },
      ),
    );
    assert.match(e.detail, /AWS::Cognito::UserPool, which Nimbus does not provision/);
  });

  it('reports a provisioner property error at the property path', () => {
    const e = refusal(() =>
      plan({ Resources: { Jobs: { Type: 'AWS::SQS::Queue', Properties: { Name: 42 } } } }),
    );
    assert.equal(e.path, 'resources.Resources.Jobs.Properties.Name');
  });

  it('refuses bad template shapes', () => {
    assert.match(refusal(() => plan({ Resources: [] })).detail, /must be a map/);
    assert.match(refusal(() => plan({ Resources: { X: { Properties: {} } } })).path, /X\.Type$/);
    assert.match(
      refusal(() => plan({ Resources: { X: { Type: 'AWS::SQS::Queue', DependsOn: 'Y' } } })).detail,
      /unknown logical id Y/,
    );
  });

  it('resolves event fields and outputs, and creates buckets of s3 events and provider.s3', () => {
    const def = definition(
      {
        Resources: { Jobs: { Type: 'AWS::SQS::Queue', Properties: { Name: 'jobs' } } },
        Outputs: { JobsArn: { Value: { 'Fn::GetAtt': ['Jobs', 'Arn'] } } },
      },
      {
        events: [
          { kind: 'sqs', config: { arn: { 'Fn::GetAtt': ['Jobs', 'Arn'] }, batchSize: 5 } },
          { kind: 's3', config: { bucket: 'uploads-bucket' } },
          { kind: 's3', config: { bucket: 'photos' } },
          { kind: 's3', config: { bucket: 'theirs', existing: true } },
        ],
      },
    );
    def.provider.s3 = { photos: { name: 'shop-photos' } };
    const p = planResources(def, scope, registry);
    const events = p.definition.functions.hello!.events as { config: Record<string, unknown> }[];
    assert.deepEqual(events[0]!.config, { arn: 'arn:aws:fake:::jobs', batchSize: 5 });
    assert.equal(events[2]!.config.bucket, 'shop-photos');
    assert.deepEqual(p.outputs, { JobsArn: 'arn:aws:fake:::jobs' });
    const buckets = p.resources
      .filter((r) => r.declaration.type === 'AWS::S3::Bucket')
      .map((r) => [r.declaration.logicalId, r.declaration.properties.BucketName]);
    assert.deepEqual(buckets.sort(), [
      ['S3BucketShopphotos', 'shop-photos'],
      ['S3BucketUploadsbucket', 'uploads-bucket'],
    ]);
  });
});

describe('cognitoUserPool events in the plan', () => {
  const pools = new ProvisionerRegistry([fakeType('AWS::Cognito::UserPool')]);
  const events = (...list: Record<string, unknown>[]) => ({
    events: list.map((config) => ({ kind: 'cognitoUserPool' as const, config })),
  });
  const arn = 'arn:aws:lambda:eu-west-1:000000000000:function:shop-dev-hello';

  it('makes the pool CognitoUserPool<Pool> with the trigger in its LambdaConfig', () => {
    const plan = planResources(
      definition(undefined, events({ pool: 'my-users', trigger: 'PreSignUp' })),
      scope,
      pools,
    );
    assert.deepEqual(
      plan.resources.map((r) => r.declaration),
      [
        {
          logicalId: 'CognitoUserPoolMyusers',
          type: 'AWS::Cognito::UserPool',
          properties: { UserPoolName: 'my-users', LambdaConfig: { PreSignUp: arn } },
        },
      ],
    );
  });

  it('adds the trigger to a declared pool of that logical id; existing pools are left alone', () => {
    const plan = planResources(
      definition(
        {
          Resources: {
            CognitoUserPoolMyusers: {
              Type: 'AWS::Cognito::UserPool',
              Properties: { Name: 'kept', LambdaConfig: { CustomMessage: 'x' } },
            },
          },
        },
        events(
          { pool: 'my-users', trigger: 'PostConfirmation' },
          { pool: 'elsewhere', trigger: 'PreSignUp', existing: true },
        ),
      ),
      scope,
      pools,
    );
    assert.deepEqual(
      plan.resources.map((r) => r.declaration.properties),
      [{ Name: 'kept', LambdaConfig: { CustomMessage: 'x', PostConfirmation: arn } }],
    );
  });

  it('refuses when that logical id is not a user pool', () => {
    assert.throws(
      () =>
        planResources(
          definition(
            { Resources: { CognitoUserPoolP: { Type: 'AWS::Cognito::UserPool2' } } },
            events({ pool: 'p', trigger: 'PreSignUp' }),
          ),
          scope,
          pools,
        ),
      (e: unknown) =>
        e instanceof TemplateError &&
        /is a AWS::Cognito::UserPool2, not a user pool/.test(e.message),
    );
  });
});

describe('httpApi JWT authorizers in the plan', () => {
  it('resolves issuerUrl and audience written as intrinsics', () => {
    const base = definition({
      Resources: { Q: { Type: 'AWS::SQS::Queue', Properties: { Name: 'issuer' } } },
    });
    const plan = planResources(
      {
        ...base,
        provider: {
          ...base.provider,
          httpApi: {
            cors: true,
            authorizers: {
              users: {
                type: 'jwt',
                issuerUrl: { 'Fn::GetAtt': ['Q', 'Arn'] },
                audience: [{ Ref: 'Q' }],
              },
            },
          },
        },
      },
      scope,
      registry,
    );
    assert.deepEqual(plan.definition.provider.httpApi, {
      cors: true,
      authorizers: {
        users: { type: 'jwt', issuerUrl: 'arn:aws:fake:::issuer', audience: ['issuer'] },
      },
    });
  });
});
