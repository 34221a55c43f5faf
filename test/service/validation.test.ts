// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Serverless variables are written ${...} in plain strings
import { after, describe, it } from 'node:test';
import { assertConfigError, cleanupServiceDirs, load, yml } from './service-dir.js';

after(cleanupServiceDirs);

const head = ['service: svc', 'provider:', '  name: aws'];

/** One function `hello` with the given extra lines (indented under it). */
function withHello(...lines: string[]): string {
  return yml(...head, 'functions:', '  hello:', '    handler: src/handler.hello', ...lines);
}

describe('validation errors name file:line:col and the property path', () => {
  it('timeout out of range', async () => {
    await assertConfigError(
      load(withHello('    timeout: 1000')),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:7:14 functions.hello.timeout: must be an integer from 1 to 900',
    );
  });

  it('timeout that is not an integer', async () => {
    await assertConfigError(
      load(withHello('    timeout: 1.5')),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:7:14 functions.hello.timeout: must be an integer from 1 to 900',
    );
  });

  it('memorySize out of range, at provider level', async () => {
    await assertConfigError(
      load(yml(...head, '  memorySize: 64')),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:4:15 provider.memorySize: must be an integer from 128 to 10240',
    );
  });

  it('bad runtime', async () => {
    await assertConfigError(
      load(withHello('    runtime: java17')),
      'NIMBUS_CONFIG_RUNTIME',
      'serverless.yml:7:14 functions.hello.runtime: unsupported runtime "java17" (supported: ' +
        'nodejs18.x, nodejs20.x, nodejs22.x, python3.10, python3.11, python3.12, python3.13, ' +
        'provided, provided.al2, provided.al2023)',
    );
  });

  it('missing handler', async () => {
    await assertConfigError(
      load(yml(...head, 'functions:', '  hello:', '    timeout: 3')),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:6:5 functions.hello.handler: is required (e.g. `handler: src/handler.hello`)',
    );
  });

  it('handler without an export', async () => {
    await assertConfigError(
      load(yml(...head, 'functions:', '  hello:', '    handler: src/handler')),
      'NIMBUS_CONFIG_HANDLER',
      'serverless.yml:6:14 functions.hello.handler: "src/handler" must name a file and an export, ' +
        'e.g. "src/handler.hello"',
    );
  });

  it('handler file missing', async () => {
    await assertConfigError(
      load(yml(...head, 'functions:', '  hello:', '    handler: lib/missing.hello')),
      'NIMBUS_CONFIG_HANDLER',
      'serverless.yml:6:14 functions.hello.handler: handler file ' +
        '"lib/missing.{js,mjs,cjs,ts,mts,cts}" not found',
    );
  });

  it('malformed YAML', async () => {
    await assertConfigError(
      load(yml('service: svc', 'provider:', '  name: aws', ' runtime: x')),
      'NIMBUS_CONFIG_YAML',
      'serverless.yml:4:1 All mapping items must start at the same column',
    );
  });

  it('duplicate function name', async () => {
    await assertConfigError(
      load(
        yml(
          ...head,
          'functions:',
          '  hello:',
          '    handler: src/handler.hello',
          '  hello:',
          '    handler: x.y',
        ),
      ),
      'NIMBUS_CONFIG_DUPLICATE',
      'serverless.yml:7:3 functions.hello: duplicate function name "hello"',
    );
  });

  it('duplicate key elsewhere', async () => {
    await assertConfigError(
      load(yml(...head, '  name: aws')),
      'NIMBUS_CONFIG_DUPLICATE',
      'serverless.yml:4:3 provider.name: duplicate key "name"',
    );
  });

  it('two functions with the same deployed name', async () => {
    await assertConfigError(
      load(
        yml(
          ...head,
          'functions:',
          '  a:',
          '    handler: src/handler.hello',
          '    name: same',
          '  b:',
          '    handler: src/handler.hello',
          '    name: same',
        ),
      ),
      'NIMBUS_CONFIG_DUPLICATE',
      'serverless.yml:10:11 functions.b.name: deployed name "same" is already used by function "a"',
    );
  });

  it('a default deployed name that is too long points at the function key', async () => {
    const key = 'f'.repeat(60);
    await assertConfigError(
      load(yml(...head, 'functions:', `  ${key}:`, '    handler: src/handler.hello')),
      'NIMBUS_CONFIG_INVALID',
      `serverless.yml:5:3 functions.${key}: deployed name "svc-dev-${key}" must be 1 to 64 ` +
        'letters, digits, hyphens or underscores',
    );
  });

  it('bad variable', async () => {
    await assertConfigError(
      load(withHello('    timeout: ${opt:t, nope}')),
      'NIMBUS_CONFIG_VARIABLE',
      'serverless.yml:7:14 functions.hello.timeout: invalid variable syntax in "${opt:t, nope}": ' +
        `"nope" is neither a variable source nor a literal (quote text: 'nope')`,
    );
  });

  it('a value produced by a variable is checked at the variable position', async () => {
    await assertConfigError(
      load(withHello('    timeout: ${opt:t}'), {}, { options: { t: '0' } }),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:7:14 functions.hello.timeout: must be an integer from 1 to 900',
    );
  });

  it('a missing key falls back to the nearest existing node', async () => {
    await assertConfigError(
      load(yml('service: svc', 'functions: {}')),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:1:1 provider: is required and must be a map (at least `name: aws`)',
    );
  });

  it('service name format', async () => {
    await assertConfigError(
      load(yml('service: 1bad_name', 'provider:', '  name: aws')),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:1:10 service: must start with a letter and contain only letters, digits ' +
        'and hyphens',
    );
  });

  it('stage format, from the CLI', async () => {
    await assertConfigError(
      load(yml(...head), {}, { options: { stage: 'bad.stage' } }),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:3:3 provider.stage: stage "bad.stage" (from --stage) may contain only ' +
        'letters, digits, hyphens and underscores',
    );
  });

  it('environment values must be scalars', async () => {
    await assertConfigError(
      load(yml(...head, '  environment:', '    A: [1]')),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:5:8 provider.environment.A: must be a string, number, boolean or a CloudFormation intrinsic (Ref, Fn::GetAtt, Fn::Sub, ...)',
    );
  });

  it('maximumRetryAttempts, maximumEventAge and concurrency ranges', async () => {
    const cases: [string, string][] = [
      ['maximumRetryAttempts: 9', 'must be an integer from 0 to 8'],
      ['maximumEventAge: 59', 'must be an integer from 60 to 86400'],
      ['reservedConcurrency: -1', 'must be an integer of at least 0'],
      ['provisionedConcurrency: x', 'must be an integer of at least 0'],
    ];
    for (const [line, detail] of cases) {
      const key = line.split(':')[0];
      await assertConfigError(
        load(withHello(`    ${line}`)),
        'NIMBUS_CONFIG_INVALID',
        `serverless.yml:7:${key!.length + 7} functions.hello.${key}: ${detail}`,
      );
    }
  });

  it('an empty file is not a config', async () => {
    await assertConfigError(
      load(''),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:1:1 the configuration must be a mapping of keys (service, provider, functions, ...)',
    );
  });

  it('container-image functions are refused', async () => {
    await assertConfigError(
      load(yml(...head, 'functions:', '  hello:', '    image: repo/img:1')),
      'NIMBUS_CONFIG_UNSUPPORTED',
      'serverless.yml:6:5 functions.hello.image: container images are not supported yet; ' +
        'use `handler` instead',
    );
  });
});
