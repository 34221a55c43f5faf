// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Serverless variables are written ${...} in plain strings
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadService } from '../../src/service/load-service.js';
import { fixturePath } from '../helpers/repo-root.js';
import {
  assertConfigError,
  cleanupServiceDirs,
  load,
  writeServiceDir,
  yml,
} from './service-dir.js';

after(cleanupServiceDirs);

const minimal = yml(
  'service: svc',
  'provider:',
  '  name: aws',
  'functions:',
  '  hello:',
  '    handler: src/handler.hello',
);

describe('finding the config file', () => {
  it('prefers serverless.yml, then .yaml, then .json', async () => {
    const json = JSON.stringify({ service: 'from-json', provider: { name: 'aws' } });
    const dir = await writeServiceDir({
      'serverless.yaml': yml('service: from-yaml', 'provider:', '  name: aws'),
      'serverless.json': json,
    });
    const loaded = await loadService({ cwd: dir, options: {}, env: {} });
    assert.equal(loaded.definition.service, 'from-yaml');
    assert.equal(loaded.configPath, join(dir, 'serverless.yaml'));
    assert.equal(loaded.serviceDir, dir);
  });

  it('loads a .json config, with positions in errors', async () => {
    const dir = await writeServiceDir({
      'serverless.json': '{\n  "service": "svc",\n  "provider": {"name": "aws", "timeout": 0}\n}\n',
    });
    await assertConfigError(
      loadService({ cwd: dir, options: {}, env: {} }),
      'NIMBUS_CONFIG_INVALID',
      'serverless.json:3:42 provider.timeout: must be an integer from 1 to 900',
    );
    const ok = await writeServiceDir({
      'serverless.json': '{"service": "svc", "provider": {"name": "aws"}}',
    });
    assert.equal((await loadService({ cwd: ok, options: {}, env: {} })).definition.service, 'svc');
  });

  it('uses -c relative to cwd, or absolute', async () => {
    const dir = await writeServiceDir({
      'serverless.yml': yml('service: default-file', 'provider:', '  name: aws'),
      'conf/other.yml': yml('service: other', 'provider:', '  name: aws', '  timeout: 0'),
    });
    await assertConfigError(
      loadService({ cwd: dir, configPath: 'conf/other.yml', options: {}, env: {} }),
      'NIMBUS_CONFIG_INVALID',
      'conf/other.yml:4:12 provider.timeout: must be an integer from 1 to 900',
    );
    const abs = join(dir, 'serverless.yml');
    const loaded = await loadService({ cwd: dir, configPath: abs, options: {}, env: {} });
    assert.equal(loaded.definition.service, 'default-file');
    assert.equal(loaded.configPath, abs);
  });

  it("takes -c's directory as the service directory: handlers resolve there", async () => {
    const root = await writeServiceDir({
      'api/serverless.yml': yml(
        'service: api',
        'provider:',
        '  name: aws',
        'functions:',
        '  hello:',
        '    handler: lib/handler.hello',
      ),
      'api/lib/handler.js': 'exports.hello = async () => 1;\n',
    });
    const loaded = await loadService({
      cwd: root,
      configPath: 'api/serverless.yml',
      options: {},
      env: {},
    });
    assert.equal(loaded.serviceDir, join(root, 'api'));
    assert.equal(loaded.definition.functions.hello?.handler, 'lib/handler.hello');
  });

  it('names the directory when no config exists', async () => {
    const dir = await writeServiceDir({});
    await assertConfigError(
      loadService({ cwd: dir, options: {}, env: {} }),
      'NIMBUS_CONFIG_NOT_FOUND',
      `${dir} no serverless.yml, serverless.yaml, serverless.json, serverless.js, serverless.cjs, serverless.mjs, serverless.ts found in this directory`,
    );
    await assertConfigError(
      loadService({ cwd: dir, configPath: 'nope.yml', options: {}, env: {} }),
      'NIMBUS_CONFIG_NOT_FOUND',
      'nope.yml config file not found',
    );
  });
});

describe('defaults and precedence', () => {
  it('applies Serverless defaults', async () => {
    const { definition } = await load(minimal);
    assert.equal(definition.stage, 'dev');
    assert.equal(definition.region, 'us-east-1');
    assert.deepEqual(definition.provider, {
      name: 'aws',
      runtime: 'nodejs20.x',
      memorySize: 1024,
      timeout: 6,
      environment: {},
    });
    assert.deepEqual(definition.functions.hello, {
      key: 'hello',
      name: 'svc-dev-hello',
      handler: 'src/handler.hello',
      runtime: 'nodejs20.x',
      runtimeFamily: 'nodejs',
      memorySize: 1024,
      timeout: 6,
      environment: {},
      events: [],
      handlerFile: 'src/handler.js',
    });
    assert.deepEqual(definition.package, {
      patterns: [],
      individually: false,
      excludeDevDependencies: true,
    });
    assert.deepEqual(definition.plugins, []);
    assert.deepEqual(definition.custom, {});
  });

  it('CLI stage and region win over provider settings', async () => {
    const config = yml(
      'service: svc',
      'provider:',
      '  name: aws',
      '  stage: qa',
      '  region: eu-west-1',
    );
    const fromConfig = await load(config);
    assert.equal(fromConfig.definition.stage, 'qa');
    assert.equal(fromConfig.definition.region, 'eu-west-1');
    const fromCli = await load(config, {}, { options: { stage: 'prod', region: 'home' } });
    assert.equal(fromCli.definition.stage, 'prod');
    assert.equal(fromCli.definition.region, 'home');
  });

  it('function settings override provider settings; environments merge', async () => {
    const { definition } = await load(
      yml(
        'service: svc',
        'frameworkVersion: 3',
        'provider:',
        '  name: aws',
        '  runtime: python3.12',
        '  memorySize: 256',
        '  timeout: 10',
        '  environment:',
        '    SHARED: provider',
        '    KEEP: 1',
        'functions:',
        '  a:',
        '    handler: app.main',
        '    name: custom-name',
        '    description: does a',
        '    runtime: nodejs22.x',
        '    memorySize: "512"',
        '    timeout: 30',
        '    environment:',
        '      SHARED: function',
        '      FLAG: true',
        '    destinations:',
        '      onSuccess: other',
        '      onFailure: {type: function, arn: "arn:aws:lambda:us-east-1:1:function:q"}',
        '    maximumRetryAttempts: 4',
        '    maximumEventAge: 600',
        '    reservedConcurrency: 0',
        '    provisionedConcurrency: 2',
        '  b:',
        '    handler: app.main',
      ),
      { 'app.js': 'exports.main = 1', 'app.py': 'def main(): pass' },
    );
    const { a, b } = definition.functions;
    assert.equal(definition.frameworkVersion, '3');
    assert.equal(a?.name, 'custom-name');
    assert.equal(a?.description, 'does a');
    assert.equal(a?.runtime, 'nodejs22.x');
    assert.equal(a?.handlerFile, 'app.js');
    assert.equal(a?.memorySize, 512);
    assert.equal(a?.timeout, 30);
    assert.deepEqual(a?.environment, { SHARED: 'function', KEEP: '1', FLAG: 'true' });
    assert.deepEqual(a?.destinations, {
      onSuccess: 'other',
      onFailure: 'arn:aws:lambda:us-east-1:1:function:q',
    });
    assert.equal(a?.maximumRetryAttempts, 4);
    assert.equal(a?.maximumEventAge, 600);
    assert.equal(a?.reservedConcurrency, 0);
    assert.equal(a?.provisionedConcurrency, 2);
    assert.equal(b?.runtime, 'python3.12');
    assert.equal(b?.runtimeFamily, 'python');
    assert.equal(b?.handlerFile, 'app.py');
    assert.equal(b?.memorySize, 256);
    assert.deepEqual(b?.environment, { SHARED: 'provider', KEEP: '1' });
  });

  it('normalizes package settings at both levels, mapping exclude/include', async () => {
    const { definition, warnings } = await load(
      yml(
        'service: svc',
        'provider:',
        '  name: aws',
        'package:',
        '  individually: true',
        '  excludeDevDependencies: false',
        '  exclude: [tests/**]',
        '  include: tests/keep.js',
        '  patterns: ["!docs/**"]',
        'functions:',
        '  hello:',
        '    handler: src/handler.hello',
        '    package:',
        '      patterns: extra/**',
        '      individually: true',
      ),
    );
    assert.deepEqual(definition.package, {
      patterns: ['!tests/**', 'tests/keep.js', '!docs/**'],
      individually: true,
      excludeDevDependencies: false,
    });
    assert.deepEqual(definition.functions.hello?.package, {
      patterns: ['extra/**'],
      individually: true,
    });
    assert.deepEqual(warnings, [
      'serverless.yml:7:3 package: "exclude" is deprecated; Nimbus maps it to "patterns" (use patterns instead)',
      'serverless.yml:8:3 package: "include" is deprecated; Nimbus maps it to "patterns" (use patterns instead)',
    ]);
  });

  it('keeps custom, resources and provider extras for later', async () => {
    const { definition } = await load(
      yml(
        'service: svc',
        'provider:',
        '  name: aws',
        '  httpApi: {cors: true}',
        '  logRetentionInDays: 7',
        '  tags: {team: core, n: 1}',
        'custom: {x: 1}',
        'resources:',
        '  Resources:',
        '    Q:',
        '      Type: AWS::SQS::Queue',
        '  Outputs:',
        '    Arn: {Value: !GetAtt Q.Arn}',
      ),
    );
    assert.deepEqual(definition.provider.httpApi, { cors: true });
    assert.equal(definition.provider.logRetentionInDays, 7);
    assert.deepEqual(definition.provider.tags, { team: 'core', n: '1' });
    assert.deepEqual(definition.custom, { x: 1 });
    assert.deepEqual(definition.resources, {
      Resources: { Q: { Type: 'AWS::SQS::Queue' } },
      Outputs: { Arn: { Value: { 'Fn::GetAtt': ['Q', 'Arn'] } } },
    });
  });

  it("logRetentionInDays: the provider's and a function's, one of CloudWatch's periods", async () => {
    const { definition, warnings } = await load(
      yml(
        'service: svc',
        'provider:',
        '  name: aws',
        '  logRetentionInDays: 14',
        'functions:',
        '  hello:',
        '    handler: handler.hello',
        '    logRetentionInDays: 1',
      ),
      { 'handler.js': '' },
    );
    assert.deepEqual(warnings, []);
    assert.equal(definition.provider.logRetentionInDays, 14);
    assert.equal(definition.functions.hello?.logRetentionInDays, 1);
    await assertConfigError(
      load(
        yml(
          'service: svc',
          'provider:',
          '  name: aws',
          'functions:',
          '  hello:',
          '    handler: handler.hello',
          '    logRetentionInDays: 10',
        ),
        { 'handler.js': '' },
      ),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:7:25 functions.hello.logRetentionInDays: must be one of 1, 3, 5, 7, 14, 30, ' +
        '60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (days)',
    );
  });

  it('onError and destinations: an ARN, or an intrinsic resolved at deploy; onError refuses the rest', async () => {
    const { definition, warnings } = await load(
      yml(
        'service: svc',
        'provider:',
        '  name: aws',
        'functions:',
        '  a:',
        '    handler: handler.a',
        '    onError: arn:aws:sns:us-east-1:000000000000:failures',
        '  b:',
        '    handler: handler.a',
        '    onError: !GetAtt Dlq.Arn',
      ),
      { 'handler.js': '' },
    );
    assert.deepEqual(warnings, []);
    assert.equal(
      definition.functions.a?.deadLetterTarget,
      'arn:aws:sns:us-east-1:000000000000:failures',
    );
    assert.deepEqual(definition.functions.b?.unresolvedDeadLetterTarget, {
      'Fn::GetAtt': ['Dlq', 'Arn'],
    });
    const withDestinations = await load(
      yml(
        'service: svc',
        'provider:',
        '  name: aws',
        'functions:',
        '  a:',
        '    handler: handler.a',
        '    destinations:',
        '      onFailure: !GetAtt Q.Arn',
        '      onSuccess: {type: sqs, arn: !GetAtt Q.Arn}',
      ),
      { 'handler.js': '' },
    );
    assert.deepEqual(withDestinations.warnings, []);
    assert.deepEqual(withDestinations.definition.functions.a?.unresolvedDestinations, {
      onFailure: { 'Fn::GetAtt': ['Q', 'Arn'] },
      onSuccess: { 'Fn::GetAtt': ['Q', 'Arn'] },
    });
    await assertConfigError(
      load(
        yml(
          'service: svc',
          'provider:',
          '  name: aws',
          'functions:',
          '  a:',
          '    handler: handler.a',
          '    onError: https://example.com/hook',
        ),
        { 'handler.js': '' },
      ),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:7:14 functions.a.onError: must be an SNS topic or SQS queue ARN, or Fn::GetAtt / Ref of one',
    );
  });

  it('supports YAML anchors and merge keys', async () => {
    const { definition } = await load(
      yml(
        'service: svc',
        'provider:',
        '  name: aws',
        'custom:',
        '  base: &base {timeout: 20, memorySize: 256}',
        'functions:',
        '  hello:',
        '    <<: *base',
        '    handler: src/handler.hello',
      ),
    );
    assert.equal(definition.functions.hello?.timeout, 20);
    assert.equal(definition.functions.hello?.memorySize, 256);
  });
});

describe('handler files', () => {
  const fn = (handler: string, runtime = 'nodejs20.x') =>
    yml(
      'service: svc',
      'provider:',
      '  name: aws',
      `  runtime: ${runtime}`,
      'functions:',
      '  f:',
      `    handler: ${handler}`,
    );

  it('picks the first existing Node extension', async () => {
    const { definition } = await load(fn('lib/h.main'), { 'lib/h.ts': '', 'lib/h.mjs': '' });
    assert.equal(definition.functions.f?.handlerFile, 'lib/h.mjs');
  });

  it('finds Python modules in subfolders', async () => {
    const { definition } = await load(fn('pkg/mod.main', 'python3.11'), { 'pkg/mod.py': '' });
    assert.equal(definition.functions.f?.handlerFile, 'pkg/mod.py');
    await assertConfigError(
      load(fn('nope.main', 'python3.11')),
      'NIMBUS_CONFIG_HANDLER',
      'serverless.yml:7:14 functions.f.handler: handler file "nope.py" not found',
    );
  });

  it('needs an executable bootstrap for provided runtimes', async () => {
    const { definition } = await load(fn('anything', 'provided.al2023'), {
      bootstrap: '#!/bin/sh\n',
    });
    assert.equal(definition.functions.f?.handlerFile, 'bootstrap');
    assert.equal(definition.functions.f?.runtimeFamily, 'provided');
    await assertConfigError(
      load(fn('anything', 'provided')),
      'NIMBUS_CONFIG_HANDLER',
      'serverless.yml:7:14 functions.f.handler: provided runtimes need an executable "bootstrap" ' +
        'file in the service folder',
    );
  });

  it('skips the check when an artifact is given', async () => {
    const service = await load(`${fn('dist/x.main')}package:\n  artifact: build.zip\n`);
    assert.equal(service.definition.functions.f?.handlerFile, 'dist/x.js');
    assert.equal(service.definition.package.artifact, 'build.zip');
    const perFunction = await load(`${fn('dist/x.main')}    package: {artifact: f.zip}\n`);
    assert.equal(perFunction.definition.functions.f?.package?.artifact, 'f.zip');
  });
});

describe('a complete fixture service', () => {
  it('loads end to end', async () => {
    const cwd = fixturePath('service', 'full');
    const { definition, warnings, resolved } = await loadService({ cwd, options: {}, env: {} });
    assert.deepEqual(warnings, []);
    assert.equal(definition.service, 'orders');
    assert.equal(definition.region, 'eu-west-1');
    assert.equal(definition.provider.memorySize, 256);
    assert.deepEqual(definition.provider.environment, {
      STAGE: 'dev',
      TABLE: 'orders-dev-orders',
      API_KEY: 'dev-key',
      DEBUG: 'false',
    });
    assert.equal(definition.functions.create?.timeout, 10);
    assert.equal(definition.functions.create?.handlerFile, 'src/handler.ts');
    assert.deepEqual(
      Object.values(definition.functions).map((f) => [f.name, f.events.map((e) => e.kind)]),
      [
        ['orders-dev-list', ['httpApi']],
        ['orders-dev-create', ['http']],
        ['orders-dev-nightly', ['schedule', 'sqs']],
      ],
    );
    assert.deepEqual(definition.plugins, ['serverless-offline']);
    const queue = (resolved.resources as { Resources: Record<string, { Properties: unknown }> })
      .Resources.OrdersQueue;
    assert.deepEqual(queue?.Properties, { QueueName: { 'Fn::Sub': '${AWS::StackName}-orders' } });
  });
});
