/** The deploy API refuses what the CLI would refuse: 400 naming the field, nothing deployed. */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FunctionDefinition } from '../../src/model/service-definition.js';
import type { RunningPlatform } from '../../src/platform/server.js';
import { startCliPlatform } from '../helpers/cli-platform.js';
import { fnDef, serviceDef } from '../helpers/definitions.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const sha = 'a'.repeat(64);

describe('deploy API validation', () => {
  let platform: RunningPlatform;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ platform, close: cleanup } = await startCliPlatform({ options: { maxInstances: 20 } }));
  });
  after(() => cleanup());

  const deploy = async (fn: FunctionDefinition) => {
    const body = { definition: serviceDef([fn]), functionArtifacts: { [fn.key]: sha } };
    const res = await fetch(`${platform.url}/v1/services/svc/stages/dev/deployments`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${platform.adminToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as { error: { code: string; message: string } },
    };
  };

  const manyEnv = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`K${i}`, 'v']));
  const deepPath = Array.from({ length: 7500 }, () => 'a').join('/');
  const cases: [string, Partial<FunctionDefinition> & Record<string, unknown>, RegExp][] = [
    ['handler path traversal', { handler: '../../etc/passwd.x' }, /functions\.fn\.handler:/],
    ['absolute handler', { handler: '/etc/passwd.x' }, /functions\.fn\.handler:/],
    ['handlerFile traversal', { handlerFile: '../secret.js' }, /functions\.fn\.handlerFile:/],
    ['unknown runtime', { runtime: 'cobol1.0' }, /functions\.fn\.runtime: unsupported runtime/],
    ['runtime of another family', { runtime: 'python3.12' }, /functions\.fn\.runtime:/],
    [
      'negative reserved concurrency',
      { reservedConcurrency: -1 },
      /functions\.fn\.reservedConcurrency:/,
    ],
    [
      'provisioned concurrency over the cap',
      { provisionedConcurrency: 100_000 },
      /functions\.fn\.provisionedConcurrency: must be at most 20/,
    ],
    [
      'reserved concurrency over the cap',
      { reservedConcurrency: 21 },
      /functions\.fn\.reservedConcurrency: must be at most 20/,
    ],
    ['1000 retries', { maximumRetryAttempts: 1000 }, /functions\.fn\.maximumRetryAttempts:/],
    ['negative event age', { maximumEventAge: -5 }, /functions\.fn\.maximumEventAge:/],
    [
      '50,000 environment keys',
      { environment: manyEnv },
      /functions\.fn\.environment: takes \d+ bytes/,
    ],
    [
      'a 100-segment route',
      { events: [{ kind: 'http', method: 'GET', path: 'a/'.repeat(100) }] },
      /functions\.fn\.events\.0\.http\.path: has 100 segments; at most 64/,
    ],
    ['bad environment name', { environment: { 'A-B': 'x' } }, /functions\.fn\.environment\.A-B:/],
    [
      'a 7,500-segment route',
      { events: [{ kind: 'http', method: 'GET', path: deepPath }] },
      /functions\.fn\.events\.0\.http\.path: is 14999 characters long/,
    ],
  ];
  for (const [what, overrides, message] of cases) {
    test(`${what}: 400 naming the field, nothing deployed`, async () => {
      const out = await deploy(fnDef('fn', overrides as Partial<FunctionDefinition>));
      assert.equal(out.status, 400, JSON.stringify(out.body));
      assert.equal(out.body.error.code, 'NIMBUS_DEPLOY_BAD_REQUEST');
      assert.match(out.body.error.message, message);
      assert.equal(await platform.store.findStage('svc', 'dev'), undefined);
    });
  }

  test("a deploy past this platform's cap is reported at serverless.yml:line", async () => {
    const tmp = await makeTempDir();
    try {
      const cwd = join(tmp.dir, 'svc');
      await mkdir(cwd);
      await writeFile(
        join(cwd, 'serverless.yml'),
        'service: wide\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n  hello:\n    handler: handler.hello\n    provisionedConcurrency: 50\n',
      );
      await writeFile(join(cwd, 'handler.js'), 'exports.hello = async () => 1;\n');
      const env = {
        HOME: tmp.dir,
        NIMBUS_ENDPOINT: platform.url,
        NIMBUS_TOKEN: platform.adminToken,
      };
      const res = await runCli(['deploy'], { cwd, env });
      assert.equal(res.code, 1);
      assert.match(
        res.stderr,
        /serverless\.yml:8:\d+ .*provisionedConcurrency.*must be at most 20/,
      );
      assert.equal(await platform.store.findStage('wide', 'dev'), undefined);
    } finally {
      await tmp.cleanup();
    }
  });

  test('the CLI refuses provisionedConcurrency past any platform cap at file:line', async () => {
    const tmp = await makeTempDir();
    try {
      const cwd = join(tmp.dir, 'svc');
      await mkdir(cwd);
      await writeFile(
        join(cwd, 'serverless.yml'),
        'service: big\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n  hello:\n    handler: handler.hello\n    provisionedConcurrency: 100000\n',
      );
      await writeFile(join(cwd, 'handler.js'), 'exports.hello = async () => 1;\n');
      const res = await runCli(['package'], { cwd, env: { HOME: tmp.dir } });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /serverless\.yml:8:\d+ .*provisionedConcurrency.*at most 10000/);
    } finally {
      await tmp.cleanup();
    }
  });
});
