import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanupServiceDirs, load, yml } from './service-dir.js';

after(cleanupServiceDirs);

describe('resources at load', () => {
  it('keeps intrinsics in environment for the platform, plain values as strings', async () => {
    const { definition, warnings } = await load(
      yml(
        'service: svc',
        'provider:',
        '  name: aws',
        '  environment:',
        '    QUEUE: !Ref Jobs',
        '    PLAIN: 1',
        'functions:',
        '  hello:',
        '    handler: src/handler.hello',
        '    environment:',
        '      ARN: !GetAtt Jobs.Arn',
        '      QUEUE: own',
        'resources:',
        '  Resources:',
        '    Jobs:',
        '      Type: AWS::SQS::Queue',
      ),
    );
    assert.deepEqual(warnings, []);
    assert.deepEqual(definition.provider.environment, { PLAIN: '1' });
    assert.deepEqual(definition.provider.unresolvedEnvironment, { QUEUE: { Ref: 'Jobs' } });
    const fn = definition.functions.hello!;
    // The function's own value wins over the provider's intrinsic.
    assert.deepEqual(fn.environment, { PLAIN: '1', QUEUE: 'own' });
    assert.deepEqual(fn.unresolvedEnvironment, { ARN: { 'Fn::GetAtt': ['Jobs', 'Arn'] } });
  });

  it('warns about resource types Nimbus does not provision, with file:line', async () => {
    const { warnings } = await load(
      yml(
        'service: svc',
        'provider:',
        '  name: aws',
        'resources:',
        '  Resources:',
        '    Pool:',
        '      Type: AWS::CloudFront::Distribution',
        '  Conditions:',
        '    IsProd: !Equals [a, b]',
      ),
    );
    assert.deepEqual(warnings, [
      'serverless.yml:7:7 resources.Resources.Pool.Type: this resource type is not provisioned by Nimbus (left alone; Ref or Fn::GetAtt of it fails the deploy)',
      'serverless.yml:8:3 resources.Conditions: conditions are not evaluated by Nimbus (ignored)',
    ]);
  });

  it('merges a list of resource blocks (warnings then point at `resources`)', async () => {
    const { definition, warnings } = await load(
      yml(
        'service: svc',
        'provider:',
        '  name: aws',
        'resources:',
        '  - Resources:',
        '      Pool:',
        '        Type: AWS::CloudFront::Distribution',
        '  - Resources:',
        '      Jobs:',
        '        Type: AWS::SQS::Queue',
        '    Conditions:',
        '      IsProd: !Equals [a, b]',
      ),
    );
    assert.deepEqual(warnings, [
      'serverless.yml:4:1 resources.Resources.Pool.Type: this resource type is not provisioned by Nimbus (left alone; Ref or Fn::GetAtt of it fails the deploy)',
      'serverless.yml:4:1 resources.Conditions: conditions are not evaluated by Nimbus (ignored)',
    ]);
    assert.deepEqual(Object.keys((definition.resources as { Resources: object }).Resources), [
      'Pool',
      'Jobs',
    ]);
  });
});
