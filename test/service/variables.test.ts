// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Serverless variables are written ${...} in plain strings
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertConfigError, cleanupServiceDirs, load, yml } from './service-dir.js';

after(cleanupServiceDirs);

const head = ['service: svc', 'provider:', '  name: aws'];

/** Loads a config whose `custom:` block is `lines`, returning the resolved custom block. */
async function custom(lines: string[], extra = {}, opts = {}) {
  const loaded = await load(yml(...head, 'custom:', ...lines), extra, opts);
  return loaded.resolved.custom as Record<string, unknown>;
}

describe('variables', () => {
  it('resolves self references, including targets that hold variables', async () => {
    const c = await custom(
      ['  a: ${self:custom.b}', '  b: ${self:custom.c}-x', '  c: ${opt:v}'],
      {},
      {
        options: { v: 'deep' },
      },
    );
    assert.deepEqual(c, { a: 'deep-x', b: 'deep-x', c: 'deep' });
  });

  it('resolves opt and env, keeping option types', async () => {
    const c = await custom(
      ['  s: ${opt:stage}', '  f: ${opt:flag}', '  e: ${env:MY_VAR}'],
      {},
      {
        options: { stage: 'prod', flag: true },
        env: { MY_VAR: 'hello' },
      },
    );
    assert.deepEqual(c, { s: 'prod', f: true, e: 'hello' });
  });

  it('reads yml and json files, whole or by address, with a variable path', async () => {
    const c = await custom(
      [
        '  whole: ${file(./conf/${opt:stage}.yml)}',
        '  key: ${file(./conf/prod.yml):db.host}',
        '  json: ${file(./data.json):a.b}',
        '  text: ${file(./note.txt)}',
      ],
      {
        'conf/prod.yml': yml('db:', '  host: db.local', '  port: 5432', 'svc: ${self:service}'),
        'data.json': '{"a": {"b": [1, 2]}}',
        'note.txt': 'hi',
      },
      { options: { stage: 'prod' } },
    );
    assert.deepEqual(c.whole, { db: { host: 'db.local', port: 5432 }, svc: 'svc' });
    assert.equal(c.key, 'db.local');
    assert.deepEqual(c.json, [1, 2]);
    assert.equal(c.text, 'hi');
  });

  it('treats a missing file as not found, so fallbacks apply', async () => {
    const c = await custom(["  a: ${file(./nope.yml):x, 'fallback'}"]);
    assert.equal(c.a, 'fallback');
  });

  it('refuses files outside the service folder', async () => {
    await assertConfigError(
      load(yml(...head, 'custom:', '  a: ${file(../x.yml)}')),
      'NIMBUS_CONFIG_VARIABLE',
      'serverless.yml:5:6 custom.a: Cannot resolve variable "${file(../x.yml)}": ' +
        'cannot load "../x.yml": it is outside the service folder',
    );
  });

  it('sls:stage is opt:stage, then provider.stage, then dev', async () => {
    const base = ['  s: ${sls:stage}'];
    assert.equal((await custom(base)).s, 'dev');
    assert.equal((await custom(base, {}, { options: { stage: 'cli' } })).s, 'cli');
    const loaded = await load(yml(...head, '  stage: ${opt:x, "cfg"}', 'custom:', ...base));
    assert.equal((loaded.resolved.custom as { s: string }).s, 'cfg');
    assert.equal(loaded.definition.stage, 'cfg');
  });

  it('sls:instanceId is one id per load', async () => {
    const c = await custom(['  a: ${sls:instanceId}', '  b: ${sls:instanceId}']);
    assert.equal(typeof c.a, 'string');
    assert.equal(c.a, c.b);
  });

  it('param priority: --param, params.<stage>, params.default, fallback', async () => {
    const config = yml(
      ...head,
      'params:',
      '  prod:',
      '    a: stage-a',
      '  default:',
      '    a: default-a',
      '    b: default-b',
      'custom:',
      '  a: ${param:a}',
      '  b: ${param:b}',
      "  c: ${param:c, 'fb'}",
    );
    const plain = await load(config);
    assert.deepEqual(plain.resolved.custom, { a: 'default-a', b: 'default-b', c: 'fb' });
    const prod = await load(config, {}, { options: { stage: 'prod' } });
    assert.deepEqual(prod.resolved.custom, { a: 'stage-a', b: 'default-b', c: 'fb' });
    const cli = await load(
      config,
      {},
      { options: { stage: 'prod' }, params: { a: 'cli', c: 'x' } },
    );
    assert.deepEqual(cli.resolved.custom, { a: 'cli', b: 'default-b', c: 'x' });
  });

  it('strToBool turns strings into booleans', async () => {
    const c = await custom(
      ['  t: ${strToBool(true)}', '  f: ${strToBool(${env:OFF})}'],
      {},
      {
        env: { OFF: 'false' },
      },
    );
    assert.deepEqual(c, { t: true, f: false });
  });

  it('tries fallbacks left to right; null falls through; literals keep their type', async () => {
    const c = await custom(
      [
        '  nothing: null',
        "  s: ${opt:none, self:custom.nothing, env:NONE, 'single'}",
        '  d: ${opt:none, "double"}',
        '  n: ${opt:none, 42}',
        '  t: ${opt:none, true}',
        '  f: ${opt:none, false}',
        '  z: ${opt:none, null}',
        '  first: ${env:SET, "unused"}',
      ],
      {},
      { env: { SET: 'yes' } },
    );
    assert.deepEqual(c, {
      nothing: null,
      s: 'single',
      d: 'double',
      n: 42,
      t: true,
      f: false,
      z: null,
      first: 'yes',
    });
  });

  it('resolves nested variables inner first', async () => {
    const c = await custom(
      ['  url: ${env:${opt:stage}_URL}'],
      {},
      {
        options: { stage: 'prod' },
        env: { prod_URL: 'https://prod' },
      },
    );
    assert.equal(c.url, 'https://prod');
  });

  it('a whole-value variable keeps its type; embedded ones become text', async () => {
    const c = await custom([
      '  num: 3',
      '  obj: {k: v}',
      '  list: [1, 2]',
      '  n: ${self:custom.num}',
      '  o: ${self:custom.obj}',
      '  l: ${self:custom.list}',
      '  s: n=${self:custom.num}, ok=${strToBool(1)}',
    ]);
    assert.equal(c.n, 3);
    assert.deepEqual(c.o, { k: 'v' });
    assert.deepEqual(c.l, [1, 2]);
    assert.equal(c.s, 'n=3, ok=true');
  });

  it('re-resolves variables found in a whole-value result', async () => {
    const c = await custom(
      ['  a: ${env:INDIRECT}', '  b: target'],
      {},
      {
        env: { INDIRECT: '${self:custom.b}' },
      },
    );
    assert.equal(c.a, 'target');
  });

  it('does not treat variables in keys as variables', async () => {
    const c = await custom(['  ${opt:stage}: v'], {}, { options: { stage: 'x' } });
    assert.deepEqual(c, { '${opt:stage}': 'v' });
  });

  it('errors when an embedded variable is not a string', async () => {
    await assertConfigError(
      load(yml(...head, 'custom:', '  obj: {k: v}', '  s: x-${self:custom.obj}')),
      'NIMBUS_CONFIG_VARIABLE',
      'serverless.yml:6:6 custom.s: Cannot resolve variable "${self:custom.obj}": it is part of ' +
        'a longer string, so it must resolve to a string, number or boolean, not an object',
    );
  });

  it('errors on a self-reference cycle', async () => {
    await assertConfigError(
      load(yml(...head, 'custom:', '  a: ${self:custom.b}', '  b: ${self:custom.a}')),
      'NIMBUS_CONFIG_VARIABLE',
      'serverless.yml:6:6 custom.b: Cannot resolve variable "${self:custom.a}": ' +
        'circular reference: custom.a -> custom.b -> custom.a',
    );
  });

  it('${self:} is the whole config, which a property inside it cannot hold', async () => {
    await assertConfigError(
      load(yml(...head, 'custom:', '  all: ${self:}')),
      'NIMBUS_CONFIG_VARIABLE',
      'serverless.yml:5:8 custom.all: Cannot resolve variable "${self:}": ' +
        'circular reference: (whole config) -> custom -> custom.all -> (whole config)',
    );
  });

  it('stops re-resolving results that keep producing variables', async () => {
    await assertConfigError(
      load(yml(...head, 'custom:', '  a: ${env:A}'), {}, { env: { A: '${env:B}', B: '${env:A}' } }),
      'NIMBUS_CONFIG_VARIABLE',
      'serverless.yml:5:6 custom.a: Cannot resolve "${env:A}": variables nest deeper than 10 levels',
    );
  });

  it('errors on sources Nimbus does not support', async () => {
    const why = {
      ssm: 'Nimbus has no SSM Parameter Store to read from',
      s3: 'Nimbus has no S3 to read from',
    };
    for (const source of ['ssm:/a/b', 's3:bucket/key']) {
      const type = source.split(':')[0] as keyof typeof why;
      await assertConfigError(
        load(yml(...head, 'custom:', `  a: \${${source}}`)),
        'NIMBUS_CONFIG_VARIABLE',
        `serverless.yml:5:6 custom.a: Cannot resolve variable "\${${source}}": ` +
          `the "${type}" variable source is not supported by Nimbus: ${why[type]}`,
      );
    }
    // Loaded without a platform (nimbus print offline, these tests): cf has nothing to ask.
    await assertConfigError(
      load(yml(...head, 'custom:', '  a: ${cf:shop-dev.Out}')),
      'NIMBUS_CONFIG_VARIABLE',
      'serverless.yml:5:6 custom.a: Cannot resolve variable "${cf:shop-dev.Out}": ' +
        'this command reaches no Nimbus platform to read stage outputs from',
    );
    await assertConfigError(
      load(yml(...head, 'custom:', '  a: ${aws:partition}')),
      'NIMBUS_CONFIG_VARIABLE',
      'serverless.yml:5:6 custom.a: Cannot resolve variable "${aws:partition}": ' +
        'unknown "aws" address "partition" (Nimbus knows aws:accountId and aws:region)',
    );
  });

  it('resolves aws:accountId to the account id of Nimbus ARNs, and aws:region', async () => {
    const arn = ['  arn: arn:aws:lambda:${aws:region}:${aws:accountId}:function:x'];
    assert.deepEqual(await custom(arn), {
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:x',
    });
    const regional = await load(
      yml('service: svc', 'provider:', '  name: aws', '  region: eu-west-1', 'custom:', ...arn),
    );
    assert.equal(
      (regional.resolved.custom as { arn: string }).arn,
      'arn:aws:lambda:eu-west-1:000000000000:function:x',
    );
    const flag = await custom(['  r: ${aws:region}'], {}, { options: { region: 'edge' } });
    assert.deepEqual(flag, { r: 'edge' });
  });

  it('errors on an unknown source', async () => {
    await assertConfigError(
      load(yml(...head, 'custom:', '  a: ${nope:x}')),
      'NIMBUS_CONFIG_VARIABLE',
      'serverless.yml:5:6 custom.a: Cannot resolve variable "${nope:x}": unknown variable source "nope"',
    );
  });

  it('errors on an unresolvable variable with its path and position', async () => {
    await assertConfigError(
      load(yml(...head, '  environment:', '    DB: ${env:DB_URL}')),
      'NIMBUS_CONFIG_VARIABLE',
      'serverless.yml:5:9 provider.environment.DB: Cannot resolve variable "${env:DB_URL}": ' +
        'value not found at "env" source',
    );
  });

  it('names the last source tried when every fallback misses', async () => {
    await assertConfigError(
      load(yml(...head, 'custom:', '  a: ${opt:x, self:custom.nope}')),
      'NIMBUS_CONFIG_VARIABLE',
      'serverless.yml:5:6 custom.a: Cannot resolve variable "${opt:x, self:custom.nope}": ' +
        'value not found at "self" source',
    );
  });

  it('errors on variable syntax errors with the position', async () => {
    await assertConfigError(
      load(yml(...head, 'custom:', '  a: ${opt:x, bad word}')),
      'NIMBUS_CONFIG_VARIABLE',
      'serverless.yml:5:6 custom.a: invalid variable syntax in "${opt:x, bad word}": ' +
        `"bad" is neither a variable source nor a literal (quote text: 'bad')`,
    );
  });

  it('leaves CloudFormation ${AWS::...} placeholders alone', async () => {
    const c = await custom(['  arn: !Sub arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:q']);
    assert.deepEqual(c.arn, { 'Fn::Sub': 'arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:q' });
  });

  it('useDotenv loads .env.<stage>, else .env; the CLI env wins', async () => {
    const config = yml('useDotenv: true', ...head, 'custom:', '  a: ${env:A}', '  b: ${env:B}');
    const files = {
      '.env': 'A=plain\nB="quoted"\n',
      '.env.prod': "A='prod'\n# comment\nB=prod-b\n",
    };
    const dev = await load(config, files);
    assert.deepEqual(dev.resolved.custom, { a: 'plain', b: 'quoted' });
    const prod = await load(config, files, { options: { stage: 'prod' }, env: { B: 'cli' } });
    assert.deepEqual(prod.resolved.custom, { a: 'prod', b: 'cli' });
  });

  it('useDotenv follows dotenv + dotenv-expand: ${VAR}, defaults, multi-line, escapes', async () => {
    const config = yml(
      'useDotenv: true',
      ...head,
      'custom:',
      '  url: ${env:URL}',
      '  key: ${env:KEY}',
      '  fallback: ${env:FALLBACK}',
      '  price: ${env:PRICE}',
      '  kept: ${env:KEPT}',
    );
    const env = [
      'HOST=db.local',
      'PORT=5432',
      'URL=postgres://${HOST}:$PORT/app',
      'KEY="-----BEGIN-----',
      'abc',
      '-----END-----"',
      'FALLBACK=${MISSING:-none}',
      'PRICE=\\$5 # a comment',
      'KEPT=${HOST}',
      '',
    ].join('\n');
    const loaded = await load(config, { '.env': env }, { env: { KEPT: '${not-expanded}' } });
    assert.deepEqual(loaded.resolved.custom, {
      url: 'postgres://db.local:5432/app',
      key: '-----BEGIN-----\nabc\n-----END-----',
      fallback: 'none',
      price: '$5',
      kept: '${not-expanded}',
    });
  });

  it('ignores .env files without useDotenv', async () => {
    await assertConfigError(
      load(yml(...head, 'custom:', '  a: ${env:A}'), { '.env': 'A=x\n' }),
      'NIMBUS_CONFIG_VARIABLE',
      'serverless.yml:5:6 custom.a: Cannot resolve variable "${env:A}": value not found at "env" source',
    );
  });
});
