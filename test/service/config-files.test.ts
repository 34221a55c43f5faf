// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Serverless variables are written ${...} in plain strings
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadService } from '../../src/service/load-service.js';
import { assertConfigError, cleanupServiceDirs, writeServiceDir } from './service-dir.js';

after(cleanupServiceDirs);

const load = async (files: Record<string, string>, env: Record<string, string> = {}) =>
  loadService({ cwd: await writeServiceDir(files), options: {}, env });

const functions = { hello: { handler: 'src/handler.hello', timeout: 10 } };

describe('config files other than serverless.yml', () => {
  it('serverless.ts is compiled by esbuild; its imports and variables work', async () => {
    const loaded = await load(
      {
        'serverless.ts': [
          "import { timeout } from './config/limits';",
          'interface Config { service: string; [key: string]: unknown }',
          'const config: Config = {',
          "  service: 'ts-svc',",
          "  provider: { name: 'aws', environment: { WHO: '${env:WHO}' } },",
          "  functions: { hello: { handler: 'src/handler.hello', timeout } },",
          '};',
          'export default config;',
          '',
        ].join('\n'),
        'config/limits.ts': 'export const timeout: number = 12;\n',
      },
      { WHO: 'me' },
    );
    assert.equal(loaded.definition.service, 'ts-svc');
    assert.equal(loaded.definition.functions.hello?.timeout, 12);
    assert.equal(loaded.definition.functions.hello?.environment.WHO, 'me');
    assert.match(loaded.configPath, /serverless\.ts$/);
  });

  it('serverless.js (CommonJS), serverless.mjs (an async function) and serverless.json', async () => {
    const cjs = await load({
      'serverless.js': `module.exports = ${JSON.stringify({ service: 'cjs-svc', provider: { name: 'aws' }, functions })};\n`,
    });
    assert.equal(cjs.definition.service, 'cjs-svc');
    const mjs = await load({
      'serverless.mjs': `export default async () => (${JSON.stringify({ service: 'mjs-svc', provider: { name: 'aws' }, functions })});\n`,
    });
    assert.equal(mjs.definition.service, 'mjs-svc');
    assert.equal(mjs.definition.functions.hello?.timeout, 10);
    const json = await load({
      'serverless.json': JSON.stringify({
        service: 'json-svc',
        provider: { name: 'aws' },
        functions,
      }),
    });
    assert.equal(json.definition.service, 'json-svc');
    const both = await load({
      'serverless.yml': 'service: yml-wins\nprovider:\n  name: aws\n',
      'serverless.ts': "export default { service: 'ts-loses' };\n",
    });
    assert.equal(both.definition.service, 'yml-wins', 'serverless.yml is looked up first');
  });

  it('errors name the file, with line:column where the file has one', async () => {
    await assertConfigError(
      load({
        'serverless.ts': `export default ${JSON.stringify({ service: 'svc', provider: { name: 'aws' }, functions: { hello: { handler: 'src/handler.hello', timeout: 5000 } } })};\n`,
      }),
      'NIMBUS_CONFIG_INVALID',
      'serverless.ts functions.hello.timeout: must be an integer from 1 to 900',
    );
    await assertConfigError(
      load({ 'serverless.ts': "const a: number = ;\nexport default { service: 's' };\n" }),
      'NIMBUS_CONFIG_READ',
      'serverless.ts:1:19 cannot compile the config file: Unexpected ";"',
    );
    await assertConfigError(
      load({ 'serverless.js': "throw new Error('boom');\n" }),
      'NIMBUS_CONFIG_READ',
      'serverless.js cannot load the config file: boom',
    );
    await assertConfigError(
      load({ 'serverless.mjs': 'export default 42;\n' }),
      'NIMBUS_CONFIG_INVALID',
      'serverless.mjs the config file must export an object (service, provider, functions, ...)',
    );
    await assert.rejects(
      load({ 'serverless.json': '{"service": "svc",\n  "provider": }' }),
      /serverless\.json:2:\d+ /,
    );
  });
});
