import assert from 'node:assert/strict';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunningPlatform } from '../../src/platform/server.js';
import { startCliPlatform } from '../helpers/cli-platform.js';
import { runCli } from '../helpers/run-cli.js';

/** A port nothing listens on: bound, then released. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('CLI against a running platform', () => {
  let platform: RunningPlatform;
  let root: string;
  let cleanup: () => Promise<void>;
  let env: Record<string, string>;

  before(async () => {
    const started = await startCliPlatform();
    ({ platform, root, env } = started);
    cleanup = started.close;
  });
  after(() => cleanup());

  test('create, deploy, skip, change to version 2, info, deploy list, remove', async () => {
    const created = await runCli(['create', '-t', 'aws-nodejs', '-p', 'my-svc'], {
      cwd: root,
      env,
    });
    assert.equal(created.code, 0, created.stderr);
    const cwd = join(root, 'my-svc');

    const first = await runCli(['deploy'], { cwd, env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /Deploying my-svc to stage dev \(us-east-1\)/);
    assert.match(first.stderr, /✔ Service deployed to my-svc-dev/);
    assert.match(first.stdout, /functions:\n {2}hello: my-svc-dev-hello \(version 1\)/);

    const second = await runCli(['deploy'], { cwd, env });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /No changes to deploy\. Deployment skipped\./);

    await appendFile(join(cwd, 'handler.js'), '\n// changed\n');
    const third = await runCli(['deploy', '--verbose'], { cwd, env });
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout, /hello: my-svc-dev-hello \(version 2\)/);
    assert.match(third.stderr, /PUBLISHED - my-svc-dev-hello - version 2/);

    const info = await runCli(['info'], { cwd, env });
    assert.equal(info.code, 0, info.stderr);
    const port = new URL(platform.url).port;
    assert.equal(
      info.stdout,
      [
        'service: my-svc',
        'stage: dev',
        'region: us-east-1',
        'endpoints:',
        `  GET - http://127.0.0.1:${port}/my-svc-dev/`,
        `  GET - http://my-svc-dev.localhost:${port}/`,
        'functions:',
        '  hello: my-svc-dev-hello (version 2)',
        '',
      ].join('\n'),
    );
    const infoJson = JSON.parse((await runCli(['info', '--json'], { cwd, env })).stdout);
    assert.equal(infoJson.functions[0].version, 2);

    const list = await runCli(['deploy', 'list'], { cwd, env });
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout.match(/^Timestamp: \d+$/gm)?.length, 2);
    const fns = await runCli(['deploy', 'list', 'functions'], { cwd, env });
    assert.equal(fns.stdout, 'hello: All versions: 1, 2\n');
    const listJson = JSON.parse((await runCli(['deploy', 'list', '--json'], { cwd, env })).stdout);
    assert.equal(listJson.deployments.length, 2);

    const prod = await runCli(['deploy', '--stage', 'prod'], { cwd, env });
    assert.equal(prod.code, 0, prod.stderr);
    assert.match(
      prod.stdout,
      /hello: my-svc-prod-hello \(version 1\)/,
      'stages are separate namespaces',
    );

    const removed = await runCli(['remove'], { cwd, env });
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stderr, /✔ Service my-svc has been successfully removed/);
    const gone = await runCli(['info'], { cwd, env });
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /is not deployed to stage "dev"/);
    assert.equal((await runCli(['info', '-s', 'prod'], { cwd, env })).code, 0, 'prod untouched');
  });

  for (const template of ['nodejs-typescript', 'python']) {
    test(`the ${template} template deploys as-is`, async () => {
      const created = await runCli(['create', '-t', template, '-p', `t-${template}`], {
        cwd: root,
        env,
      });
      assert.equal(created.code, 0, created.stderr);
      const res = await runCli(['deploy'], { cwd: join(root, `t-${template}`), env });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /\(version 1\)/);
    });
  }

  test('print resolves variables', async () => {
    const cwd = join(root, 'printed');
    await mkdir(cwd);
    await writeFile(
      join(cwd, 'serverless.yml'),
      "service: printed\nprovider:\n  name: aws\n  stage: ${opt:stage, 'dev'}\ncustom:\n  who: ${env:WHO}\n",
    );
    const res = await runCli(['print', '--stage', 'qa', '--format', 'json'], {
      cwd,
      env: { ...env, WHO: 'me' },
    });
    assert.equal(res.code, 0, res.stderr);
    const printed = JSON.parse(res.stdout);
    assert.equal(printed.provider.stage, 'qa');
    assert.equal(printed.custom.who, 'me');
    const path = await runCli(['print', '--path', 'custom.who', '--format', 'text'], {
      cwd,
      env: { ...env, WHO: 'x' },
    });
    assert.equal(path.stdout, 'x\n');
  });

  test('errors: one clear line and a non-zero exit', async () => {
    const cwd = join(root, 'broken');
    await mkdir(cwd);
    await writeFile(
      join(cwd, 'serverless.yml'),
      'service: broken\nprovider:\n  name: aws\nfunctions:\n  hello:\n    handler: handler.hello\n    timeout: 5000\n',
    );
    await writeFile(join(cwd, 'handler.js'), 'exports.hello = async () => 1;\n');
    const bad = await runCli(['deploy'], { cwd, env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /serverless\.yml:7:14 functions\.hello\.timeout: /);
    assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');

    const created = await runCli(['create', '-t', 'nodejs', '-p', 'ok-svc'], { cwd: root, env });
    assert.equal(created.code, 0);
    const ok = join(root, 'ok-svc');
    const closed = await closedPort();
    const down = await runCli(['deploy'], {
      cwd: ok,
      env: { ...env, NIMBUS_ENDPOINT: `http://127.0.0.1:${closed}` },
    });
    assert.equal(down.code, 1);
    assert.ok(
      down.stderr.includes(
        `No Nimbus platform at http://127.0.0.1:${closed}: start one with 'nimbus server'`,
      ),
      down.stderr,
    );

    const wrong = await runCli(['deploy'], { cwd: ok, env: { ...env, NIMBUS_TOKEN: 'wrong' } });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /admin token/);

    const unknown = await runCli(['deploy', '--forc'], { cwd: ok, env });
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /unknown option '--forc'[\s\S]*Did you mean --force\?/);

    const again = await runCli(['create', '-t', 'nodejs', '-p', 'ok-svc'], { cwd: root, env });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
    const tpl = await runCli(['create', '-t', 'cobol', '-p', 'x'], { cwd: root, env });
    assert.equal(tpl.code, 1);
    assert.match(tpl.stderr, /Template "cobol" is not supported/);
  });
});
