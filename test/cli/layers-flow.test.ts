/**
 * serverless.yml `layers:` end to end with the real CLI and real function processes: layers are
 * packaged and published at deploy, `{Ref: <Key>LambdaLayer}` and layer version ARNs resolve,
 * a Node and a Python function load what only their layer provides, a changed layer publishes
 * new versions of exactly the functions that use it, and bad references fail at file:line.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LambdaClient, ListLayersCommand } from '@aws-sdk/client-lambda';
import type { RunningPlatform } from '../../src/platform/server.js';
import { startCliPlatform } from '../helpers/cli-platform.js';
import { runCli } from '../helpers/run-cli.js';

function serverlessYml(functionsExtra: string[] = []): string {
  return [
    'service: lay',
    'provider:',
    '  name: aws',
    '  runtime: nodejs20.x',
    'layers:',
    '  deps:',
    '    path: layers/deps',
    '    description: shared node modules',
    '    compatibleRuntimes: [nodejs20.x]',
    '  py-tools:',
    '    path: layers/py',
    '    retain: true',
    'functions:',
    '  hello:',
    '    handler: handler.hello',
    '    layers:',
    '      - Ref: DepsLambdaLayer',
    '    events:',
    '      - httpApi: GET /hello',
    '  plain:',
    '    handler: handler.plain',
    '    events:',
    '      - httpApi: GET /plain',
    '  py:',
    '    handler: app.handler',
    '    runtime: python3.12',
    '    layers:',
    '      - Ref: PyDashtoolsLambdaLayer',
    '    events:',
    '      - httpApi: GET /py',
    ...functionsExtra,
    '',
  ].join('\n');
}

const handlerJs = [
  "exports.hello = async () => ({ statusCode: 200, body: JSON.stringify({ said: require('greet').greet('yml') }) });",
  "exports.plain = async () => { let found = true; try { require.resolve('greet'); } catch { found = false; } return { statusCode: 200, body: JSON.stringify({ found }) }; };",
  '',
].join('\n');

describe('serverless.yml layers with nimbus deploy', () => {
  let platform: RunningPlatform;
  let root: string;
  let env: Record<string, string>;
  let cleanup: () => Promise<void>;

  before(async () => {
    const started = await startCliPlatform();
    ({ platform, root, env } = started);
    cleanup = started.close;
  });
  after(() => cleanup());

  const get = async (path: string) => {
    const res = await fetch(`${platform.url}/lay-dev${path}`);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as Record<string, unknown>;
  };
  const writeGreet = async (cwd: string, tag: string) => {
    const dir = join(cwd, 'layers/deps/nodejs/node_modules/greet');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'package.json'), '{"name":"greet","main":"index.js"}');
    await writeFile(
      join(dir, 'index.js'),
      `exports.greet = (who) => 'hello ' + who + ' from ${tag}';\n`,
    );
  };

  test('layers are published, resolved and loaded; a changed layer republishes its users only', async () => {
    const cwd = join(root, 'lay');
    await mkdir(join(cwd, 'layers/py/python'), { recursive: true });
    await writeFile(join(cwd, 'serverless.yml'), serverlessYml());
    await writeFile(join(cwd, 'handler.js'), handlerJs);
    await writeFile(
      join(cwd, 'app.py'),
      'import pyhelper\n\ndef handler(event, context):\n    return {"statusCode": 200, "body": pyhelper.answer()}\n',
    );
    await writeFile(
      join(cwd, 'layers/py/python/pyhelper.py'),
      'import json\n\ndef answer():\n    return json.dumps({"py": "from layer"})\n',
    );
    await writeGreet(cwd, 'v1');

    const first = await runCli(['deploy', '--verbose'], { cwd, env });
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(await get('/hello'), { said: 'hello yml from v1' });
    assert.deepEqual(await get('/py'), { py: 'from layer' });
    // The layer's directory is the layer's, not in the functions' zip, and not on plain's path.
    assert.deepEqual(await get('/plain'), { found: false });
    const state = JSON.parse(
      await readFile(join(cwd, '.serverless/serverless-state.json'), 'utf8'),
    );
    assert.deepEqual(state.layers, {
      deps: { artifact: 'deps.zip' },
      'py-tools': { artifact: 'py-tools.zip' },
    });

    const again = await runCli(['deploy'], { cwd, env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /No changes to deploy\. Deployment skipped\./);

    await writeGreet(cwd, 'v2');
    const changed = await runCli(['deploy', '--verbose'], { cwd, env });
    assert.equal(changed.code, 0, changed.stderr);
    assert.match(changed.stderr, /PUBLISHED - lay-dev-hello - version 2/);
    assert.match(changed.stderr, /UNCHANGED - lay-dev-plain - version 1/);
    assert.match(changed.stderr, /UNCHANGED - lay-dev-py - version 1/);
    assert.deepEqual(await get('/hello'), { said: 'hello yml from v2' });

    const fn = await fetch(`${platform.url}/v1/functions/lay-dev-hello`, {
      headers: { authorization: `Bearer ${platform.adminToken}` },
    });
    const body = JSON.stringify(await fn.json());
    assert.match(body, /layer:deps:2/);

    // Rolling back restores the layer version the old deployment ran with.
    const listed = await runCli(['rollback'], { cwd, env });
    const stamps = [...listed.stdout.matchAll(/^Timestamp: (\d+)$/gm)].map((m) => m[1]!);
    const back = await runCli(['rollback', '-t', stamps[0]!], { cwd, env });
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(await get('/hello'), { said: 'hello yml from v1' });

    // Removing the stage removes the layer versions it published, except retained layers'.
    const removed = await runCli(['remove'], { cwd, env });
    assert.equal(removed.code, 0, removed.stderr);
    const made = await fetch(`${platform.url}/v1/keys`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${platform.adminToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ description: 'layers test' }),
    });
    const { key } = (await made.json()) as { key: { id: string; secret: string } };
    const lambda = new LambdaClient({
      endpoint: platform.url,
      region: 'us-east-1',
      credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
    });
    try {
      const listed = await lambda.send(new ListLayersCommand({}));
      assert.deepEqual(
        listed.Layers?.map((l) => l.LayerName),
        ['py-tools'],
      );
    } finally {
      lambda.destroy();
    }
  });

  test('deploy --package deploys the packaged layers without the sources', async () => {
    const cwd = join(root, 'pkg');
    await mkdir(join(cwd, 'layers/py/python'), { recursive: true });
    await writeFile(join(cwd, 'serverless.yml'), serverlessYml());
    await writeFile(join(cwd, 'handler.js'), handlerJs);
    await writeFile(
      join(cwd, 'app.py'),
      'def handler(e, c):\n    return {"statusCode": 200, "body": "{}"}\n',
    );
    await writeFile(join(cwd, 'layers/py/python/pyhelper.py'), 'x = 1\n');
    await writeGreet(cwd, 'packaged');
    const packaged = await runCli(['package', '--stage', 'pkg', '--package', 'out'], { cwd, env });
    assert.equal(packaged.code, 0, packaged.stderr);
    // The sources change after packaging: the package is what deploys.
    await writeGreet(cwd, 'changed-after');
    const deployed = await runCli(['deploy', '--package', 'out', '--stage', 'pkg'], { cwd, env });
    assert.equal(deployed.code, 0, deployed.stderr);
    const res = await fetch(`${platform.url}/lay-pkg/hello`);
    assert.deepEqual(await res.json(), { said: 'hello yml from packaged' });
  });

  test('bad layer references fail at their serverless.yml line', async () => {
    const cwd = join(root, 'bad');
    await mkdir(join(cwd, 'layers/py/python'), { recursive: true });
    await writeFile(join(cwd, 'handler.js'), handlerJs);
    await writeFile(join(cwd, 'app.py'), 'def handler(e, c):\n    return 1\n');
    await writeFile(join(cwd, 'layers/py/python/pyhelper.py'), 'x = 1\n');
    await writeGreet(cwd, 'bad');
    const deployWith = async (lines: string[]) => {
      await writeFile(join(cwd, 'serverless.yml'), serverlessYml(lines));
      return runCli(['deploy'], { cwd, env });
    };

    const unknown = await deployWith([
      '  bad:',
      '    handler: handler.plain',
      '    layers:',
      '      - Ref: NopeLambdaLayer',
    ]);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /serverless\.yml:34:\d+ .*functions\.bad\.layers\[0\]: \{Ref: NopeLambdaLayer\} names no layer of this service/,
    );

    const arn = 'arn:aws:lambda:us-east-1:000000000000:layer:deps:1';
    const six = await deployWith([
      '  bad:',
      '    handler: handler.plain',
      '    layers:',
      ...Array.from({ length: 6 }, () => `      - ${arn}`),
    ]);
    assert.equal(six.code, 1);
    assert.match(
      six.stderr,
      /serverless\.yml:34:\d+ .*functions\.bad\.layers: lists 6 layers; a function may use at most 5/,
    );

    const badArn = await deployWith([
      '  bad:',
      '    handler: handler.plain',
      '    layers:',
      '      - arn:aws:lambda:us-east-1:000000000000:function:nope',
    ]);
    assert.equal(badArn.code, 1);
    assert.match(badArn.stderr, /serverless\.yml:34:\d+ .*is not a layer version ARN/);

    // Well formed, but no such version on this platform: refused by the platform, still located.
    const missing = await deployWith([
      '  bad:',
      '    handler: handler.plain',
      '    layers:',
      '      - arn:aws:lambda:us-east-1:000000000000:layer:never-published:3',
    ]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /serverless\.yml:34:\d+ .*Layer version arn:aws:lambda:us-east-1:000000000000:layer:never-published:3 does not exist/,
    );
    const info = await fetch(`${platform.url}/v1/services/lay/stages/dev`, {
      headers: { authorization: `Bearer ${platform.adminToken}` },
    });
    assert.ok(info.status === 200 || info.status === 404);
  });
});
