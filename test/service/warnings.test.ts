import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanupServiceDirs, load, yml } from './service-dir.js';

after(cleanupServiceDirs);

describe('warnings', () => {
  it('warns about unknown keys at every level and ignores them', async () => {
    const { warnings, definition } = await load(
      yml(
        'service: svc',
        'foo: 1',
        'provider:',
        '  name: aws',
        '  runtimee: nodejs20.x',
        'package:',
        '  patern: x',
        'functions:',
        '  hello:',
        '    handler: src/handler.hello',
        '    timout: 3',
        '    events:',
        '      - http: {path: a, method: get, corz: true}',
        '      - kafka: {topic: x}',
      ),
    );
    assert.deepEqual(warnings, [
      'serverless.yml:2:1 unknown property "foo" (ignored)',
      'serverless.yml:5:3 provider: unknown property "runtimee" (ignored); did you mean "runtime"?',
      'serverless.yml:7:3 package: unknown property "patern" (ignored); did you mean "patterns"?',
      'serverless.yml:11:5 functions.hello: unknown property "timout" (ignored); did you mean "timeout"?',
      'serverless.yml:13:38 functions.hello.events[0].http: unknown property "corz" (ignored); did you mean "cors"?',
      'serverless.yml:14:9 functions.hello.events[1].kafka: kafka events are not supported yet; ' +
        'this event will not fire for function "hello"',
    ]);
    assert.equal(definition.functions.hello?.timeout, 6);
    assert.equal(definition.functions.hello?.events.length, 1);
  });

  it('accepts keys that have no effect on Nimbus silently', async () => {
    const { warnings } = await load(
      yml(
        'service: svc',
        'app: a',
        'org: o',
        'frameworkVersion: "3"',
        'variablesResolutionMode: "20210326"',
        'provider:',
        '  name: aws',
        '  stackName: s',
        '  deploymentMethod: direct',
        '  versionFunctions: false',
        '  httpApi: {name: api, payload: "2.0"}',
        'functions:',
        '  hello:',
        '    handler: src/handler.hello',
        '    dependsOn: [x]',
        '    events:',
        '      - http: {path: a, method: get, operationId: getA, private: false}',
      ),
    );
    assert.deepEqual(warnings, []);
  });

  it('warns about plugins Nimbus does not cover, in both forms', async () => {
    const base = ['service: svc', 'provider:', '  name: aws'];
    const list = await load(
      yml(
        ...base,
        'plugins:',
        '  - serverless-offline',
        '  - serverless-esbuild',
        '  - serverless-foo',
      ),
    );
    assert.deepEqual(list.warnings, [
      'serverless.yml:7:5 plugin "serverless-foo" is not supported by Nimbus and is ignored',
    ]);
    assert.deepEqual(list.definition.plugins, [
      'serverless-offline',
      'serverless-esbuild',
      'serverless-foo',
    ]);
    const object = await load(
      yml(
        ...base,
        'plugins:',
        '  localPath: ./p',
        '  modules:',
        '    - serverless-webpack',
        '    - serverless-bar',
      ),
    );
    assert.deepEqual(object.warnings, [
      'serverless.yml:8:7 plugin "serverless-bar" is not supported by Nimbus and is ignored',
    ]);
    assert.deepEqual(object.definition.plugins, ['serverless-webpack', 'serverless-bar']);
  });

  it('warns about retired runtimes and still loads them', async () => {
    const { warnings, definition } = await load(
      yml(
        'service: svc',
        'provider:',
        '  name: aws',
        '  runtime: nodejs14.x',
        'functions:',
        '  hello:',
        '    handler: src/handler.hello',
        '  py:',
        '    handler: app.main',
        '    runtime: python3.8',
      ),
      { 'app.py': '' },
    );
    assert.deepEqual(warnings, [
      'serverless.yml:4:12 provider.runtime: runtime "nodejs14.x" is no longer supported by AWS; ' +
        'Nimbus runs it on the installed Node.js, which provides @aws-sdk v3 clients but not ' +
        'aws-sdk v2: list aws-sdk in package.json dependencies if the code requires it',
      'serverless.yml:10:14 functions.py.runtime: runtime "python3.8" is no longer supported by ' +
        'AWS; Nimbus runs it on the installed Python',
    ]);
    assert.equal(definition.functions.py?.runtimeFamily, 'python');
  });
});
