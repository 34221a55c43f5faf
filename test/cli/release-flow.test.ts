import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { RunningPlatform } from '../../src/platform/server.js';
import { startCliPlatform } from '../helpers/cli-platform.js';
import { runCli } from '../helpers/run-cli.js';

/** Two functions whose handlers share one JavaScript file; `extra` adds a second route. */
function serverlessYml(opts: { extraRoute?: boolean; memory?: number; greeting?: string } = {}) {
  return [
    'service: rel',
    'provider:',
    '  name: aws',
    '  runtime: nodejs20.x',
    `  stage: \${opt:stage, 'dev'}`,
    ...(opts.greeting ? ['  environment:', `    GREETING: ${opts.greeting}`] : []),
    'functions:',
    '  hello:',
    '    handler: handler.hello',
    ...(opts.memory ? [`    memorySize: ${opts.memory}`] : []),
    '    events:',
    '      - httpApi: GET /hello',
    '  other:',
    '    handler: handler.other',
    '    events:',
    '      - httpApi: GET /other',
    ...(opts.extraRoute ? ['      - httpApi: POST /extra'] : []),
    '',
  ].join('\n');
}

function handlerJs(tag: string): string {
  return [
    `const reply = (who) => ({ statusCode: 200, body: JSON.stringify({ who, tag: '${tag}', greeting: process.env.GREETING ?? null }) });`,
    "exports.hello = async () => reply('hello');",
    "exports.other = async () => reply('other');",
    '',
  ].join('\n');
}

describe('release management: deploy function, deploy --package, rollback', () => {
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

  const get = async (stage: string, path: string, method = 'GET') => {
    const res = await fetch(`${platform.url}/rel-${stage}${path}`, { method });
    const body = res.status === 200 ? ((await res.json()) as Record<string, unknown>) : {};
    return { status: res.status, body };
  };
  const control = (path: string, body: unknown, token = platform.adminToken) =>
    fetch(`${platform.url}/v1/services/rel/stages/dev${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  test('deploy function, update-config, rollback -t, rollback function', async () => {
    const cwd = join(root, 'rel');
    await mkdir(cwd);
    await writeFile(join(cwd, 'serverless.yml'), serverlessYml());
    await writeFile(join(cwd, 'handler.js'), handlerJs('v1'));
    const first = await runCli(['deploy'], { cwd, env });
    assert.equal(first.code, 0, first.stderr);
    const info = async () => JSON.parse((await runCli(['info', '--json'], { cwd, env })).stdout);
    const before1 = await info();
    const firstHash = JSON.parse((await runCli(['deploy', 'list', '--json'], { cwd, env })).stdout)
      .deployments[0].hash;
    assert.deepEqual((await get('dev', '/hello')).body, {
      who: 'hello',
      tag: 'v1',
      greeting: null,
    });

    const same = await runCli(['deploy', 'function', '-f', 'hello'], { cwd, env });
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stderr, /Code did not change\. Function deployment skipped\./);

    await writeFile(join(cwd, 'handler.js'), handlerJs('v2'));
    const code = await runCli(['deploy', 'function', '-f', 'hello', '--verbose'], { cwd, env });
    assert.equal(code.code, 0, code.stderr);
    assert.match(code.stderr, /Deploying function hello to stage dev/);
    assert.match(code.stderr, /PUBLISHED - rel-dev-hello - version 2/);
    assert.match(code.stderr, /✔ Function code deployed/);
    assert.equal(code.stdout, 'hello: rel-dev-hello (version 2)\n');
    assert.equal((await get('dev', '/hello')).body.tag, 'v2', 'the stage serves the new code');
    assert.equal((await get('dev', '/other')).body.tag, 'v1', 'other functions keep theirs');

    const forced = await runCli(['deploy', 'function', '-f', 'hello', '--force'], { cwd, env });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /version 2\)/, 'force records, but publishes no new version');

    // --update-config: configuration only; the code stays v2 even though the file changes.
    await writeFile(join(cwd, 'serverless.yml'), serverlessYml({ greeting: 'hi', memory: 256 }));
    await writeFile(join(cwd, 'handler.js'), handlerJs('v3-not-deployed'));
    const cfg = await runCli(['deploy', 'function', '-f', 'hello', '--update-config'], {
      cwd,
      env,
    });
    assert.equal(cfg.code, 0, cfg.stderr);
    assert.match(cfg.stderr, /✔ Function configuration updated/);
    assert.equal(cfg.stdout, 'hello: rel-dev-hello (version 3)\n');
    assert.deepEqual((await get('dev', '/hello')).body, {
      who: 'hello',
      tag: 'v2',
      greeting: 'hi',
    });
    const cfgAgain = await runCli(['deploy', 'function', '-f', 'hello', '-u'], { cwd, env });
    assert.match(cfgAgain.stderr, /Configuration did not change\. Configuration update skipped\./);

    // A full deploy that adds a route, then roll back to the first deployment.
    await writeFile(join(cwd, 'serverless.yml'), serverlessYml({ extraRoute: true }));
    await writeFile(join(cwd, 'handler.js'), handlerJs('v4'));
    const full = await runCli(['deploy'], { cwd, env });
    assert.equal(full.code, 0, full.stderr);
    assert.equal((await get('dev', '/extra', 'POST')).body.tag, 'v4');
    const beforeRollback = await info();
    assert.notDeepEqual(beforeRollback.endpoints, before1.endpoints);

    const listed = await runCli(['rollback'], { cwd, env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stderr, /nimbus rollback -t YourTimeStampHere/);
    const stamps = [...listed.stdout.matchAll(/^Timestamp: (\d+)$/gm)].map((m) => m[1]!);
    assert.equal(stamps.length, 5, 'deploy, code, force, config, full');
    assert.match(listed.stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/m);

    const back = await runCli(['rollback', '-t', stamps[0]!, '--verbose'], { cwd, env });
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stderr, new RegExp(`✔ Service rolled back to timestamp ${stamps[0]}`));
    assert.match(back.stderr, /RESTORED - rel-dev-hello - version 1/);
    const restored = await info();
    assert.deepEqual(restored.endpoints, before1.endpoints, 'routes as they were');
    assert.deepEqual(
      restored.functions.map((f: { key: string; version: number }) => [f.key, f.version]),
      before1.functions.map((f: { key: string; version: number }) => [f.key, f.version]),
      'stage aliases on the old versions, no new version published',
    );
    assert.deepEqual((await get('dev', '/hello')).body, {
      who: 'hello',
      tag: 'v1',
      greeting: null,
    });
    assert.equal((await get('dev', '/extra', 'POST')).status, 404, 'the later route is gone');
    const deployments = JSON.parse(
      (await runCli(['deploy', 'list', '--json'], { cwd, env })).stdout,
    ).deployments as { timestamp: number; hash: string }[];
    const rolledBack = deployments.at(-1)!;
    assert.ok(rolledBack.timestamp > Number(stamps.at(-1)), 'a new deployment record');
    assert.equal(rolledBack.hash, firstHash, 'definition and artifacts of the first deployment');

    const fnBack = await runCli(
      ['rollback', 'function', '-f', 'hello', '--function-version', '3'],
      {
        cwd,
        env,
      },
    );
    assert.equal(fnBack.code, 0, fnBack.stderr);
    assert.match(fnBack.stderr, /✔ Function hello rolled back to version 3/);
    assert.equal(fnBack.stdout, 'hello: rel-dev-hello (version 3)\n');
    assert.deepEqual((await get('dev', '/hello')).body, {
      who: 'hello',
      tag: 'v2',
      greeting: 'hi',
    });
    assert.equal((await get('dev', '/other')).body.tag, 'v1');

    const noVersion = await runCli(
      ['rollback', 'function', '-f', 'hello', '--function-version', '99'],
      { cwd, env },
    );
    assert.equal(noVersion.code, 1);
    assert.match(noVersion.stderr, /has no version 99$/m);
    const noStamp = await runCli(['rollback', '-t', '12345'], { cwd, env });
    assert.equal(noStamp.code, 1);
    assert.match(noStamp.stderr, /no retained deployment with timestamp 12345/);
    const badStamp = await runCli(['rollback', '-t', 'yesterday'], { cwd, env });
    assert.equal(badStamp.code, 1);
    assert.match(badStamp.stderr, /--timestamp must be a positive whole number/);
    const unknownFn = await runCli(['deploy', 'function', '-f', 'nope'], { cwd, env });
    assert.equal(unknownFn.code, 1);
    assert.match(unknownFn.stderr, /Function "nope" is not defined/);
  });

  test('the function deploy and rollback endpoints refuse bad requests and change nothing', async () => {
    const cwd = join(root, 'rel');
    const list = async () =>
      (await (
        await fetch(`${platform.url}/v1/services/rel/stages/dev/deployments`, {
          headers: { authorization: `Bearer ${platform.adminToken}` },
        })
      ).json()) as { deployments: unknown[] };
    const count = (await list()).deployments.length;
    const sha = 'a'.repeat(64);
    const cases: [string, unknown, number, string, string?][] = [
      ['/functions/hello/deployments', {}, 400, 'NIMBUS_DEPLOY_BAD_REQUEST'],
      ['/functions/hello/deployments', { artifact: 'x' }, 400, 'NIMBUS_DEPLOY_BAD_REQUEST'],
      ['/functions/hello/deployments', { artifact: sha }, 400, 'NIMBUS_DEPLOY_ARTIFACT_MISSING'],
      [
        '/functions/nope/deployments',
        { config: { key: 'nope' } },
        400,
        'NIMBUS_DEPLOY_BAD_REQUEST',
      ],
      ['/functions/hello/rollback', { version: -1 }, 400, 'NIMBUS_DEPLOY_BAD_REQUEST'],
      ['/functions/nope/rollback', { version: 1 }, 404, 'NIMBUS_NOT_FOUND'],
      ['/rollback', { timestamp: 'x' }, 400, 'NIMBUS_DEPLOY_BAD_REQUEST'],
      ['/rollback', { timestamp: 1 }, 404, 'NIMBUS_NOT_FOUND'],
      ['/rollback', { timestamp: 1 }, 401, 'NIMBUS_AUTH_REQUIRED', 'wrong-token'],
    ];
    for (const [path, body, status, code, token] of cases) {
      const res = await control(path, body, token);
      assert.equal(res.status, status, `${path} ${JSON.stringify(body)}`);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code);
    }
    // Renaming through --update-config would orphan the deployed function: refused.
    const deployed = JSON.parse((await runCli(['info', '--json'], { cwd, env })).stdout);
    assert.ok(deployed);
    const stage = (await (
      await fetch(`${platform.url}/v1/services/rel/stages/dev`, {
        headers: { authorization: `Bearer ${platform.adminToken}` },
      })
    ).json()) as { current: { definition: { functions: Record<string, { name: string }> } } };
    const config = { ...stage.current.definition.functions.hello!, name: 'renamed' };
    const renamed = await control('/functions/hello/deployments', { config });
    assert.equal(renamed.status, 400);
    assert.match(
      ((await renamed.json()) as { error: { message: string } }).error.message,
      /renamed function needs a full deploy/,
    );
    // A configuration the platform assembles is held to a deploy request's rules: no handler
    // outside the code, no concurrency past the platform's cap.
    for (const [bad, field] of [
      [{ handler: '../../etc/passwd.handler', handlerFile: '../../etc/passwd.js' }, 'handler'],
      [{ reservedConcurrency: 1_000_000 }, 'reservedConcurrency'],
    ] as const) {
      const res = await control('/functions/hello/deployments', {
        config: { ...stage.current.definition.functions.hello!, ...bad },
      });
      assert.equal(res.status, 400, JSON.stringify(bad));
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(error.code, 'NIMBUS_DEPLOY_BAD_REQUEST');
      assert.match(error.message, new RegExp(`functions\\.hello\\.${field}`));
    }
    assert.equal((await list()).deployments.length, count, 'nothing recorded');
  });

  test('deploy --package deploys what package wrote, only where it was made for', async () => {
    const cwd = join(root, 'pkg');
    await mkdir(cwd);
    await writeFile(join(cwd, 'serverless.yml'), serverlessYml());
    await writeFile(join(cwd, 'handler.js'), handlerJs('packaged'));
    const pkg = await runCli(['package', '-s', 'prod', '-p', 'out'], { cwd, env });
    assert.equal(pkg.code, 0, pkg.stderr);
    // The sources change after packaging: deploy --package must not read them.
    await writeFile(join(cwd, 'handler.js'), 'this is not javascript');

    const wrongStage = await runCli(['deploy', '--package', 'out'], { cwd, env });
    assert.equal(wrongStage.code, 1);
    assert.match(
      wrongStage.stderr,
      /package was made for service "rel" stage "prod", not service "rel" stage "dev"/,
    );
    const elsewhere = join(root, 'other-svc');
    await mkdir(elsewhere);
    await writeFile(
      join(elsewhere, 'serverless.yml'),
      'service: another\nprovider:\n  name: aws\n',
    );
    const wrongService = await runCli(['deploy', '--package', join(cwd, 'out'), '-s', 'prod'], {
      cwd: elsewhere,
      env,
    });
    assert.equal(wrongService.code, 1);
    assert.match(wrongService.stderr, /not service "another" stage "prod"/);

    const ok = await runCli(['deploy', '--package', 'out', '-s', 'prod'], { cwd, env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /✔ Service deployed to rel-prod/);
    assert.equal((await get('prod', '/hello')).body.tag, 'packaged');
    const again = await runCli(['deploy', '--package', 'out', '-s', 'prod'], { cwd, env });
    assert.match(again.stderr, /No changes to deploy\. Deployment skipped\./);

    // Without a serverless.yml the package's own service and stage are the target.
    const bare = join(root, 'bare');
    await mkdir(bare);
    const noConfig = await runCli(['deploy', '--package', join(cwd, 'out')], { cwd: bare, env });
    assert.equal(noConfig.code, 0, noConfig.stderr);
    assert.match(noConfig.stderr, /No changes to deploy/);

    const state = join(cwd, 'out', 'serverless-state.json');
    const zip = JSON.parse(await readFile(state, 'utf8')).package.artifacts[0].file;
    await writeFile(join(cwd, 'out', zip), 'tampered');
    const tampered = await runCli(['deploy', '--package', 'out', '-s', 'prod'], { cwd, env });
    assert.equal(tampered.code, 1);
    assert.match(tampered.stderr, /changed after packaging/);
    const missing = await runCli(['deploy', '--package', 'nowhere', '-s', 'prod'], { cwd, env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No package in .*nowhere: cannot read serverless-state\.json/);
  });

  test('two TypeScript functions in one handler file deploy and each runs its export', async () => {
    const cwd = join(root, 'ts-shared');
    await mkdir(join(cwd, 'src'), { recursive: true });
    await writeFile(
      join(cwd, 'serverless.yml'),
      [
        'service: tsshared',
        'provider:',
        '  name: aws',
        '  runtime: nodejs20.x',
        'functions:',
        '  one:',
        '    handler: src/api.one',
        '    events:',
        '      - httpApi: GET /one',
        '  two:',
        '    handler: src/api.two',
        '    events:',
        '      - httpApi: GET /two',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(cwd, 'src/api.ts'),
      [
        'const reply = (n: number) => ({ statusCode: 200, body: String(n) });',
        'export const one = async () => reply(1);',
        'export const two = async () => reply(2);',
        '',
      ].join('\n'),
    );
    const deployed = await runCli(['deploy'], { cwd, env });
    assert.equal(deployed.code, 0, deployed.stderr);
    for (const n of [1, 2]) {
      const res = await fetch(`${platform.url}/tsshared-dev/${n === 1 ? 'one' : 'two'}`);
      assert.equal(await res.text(), String(n));
    }
  });

  test('invoke --context / --contextPath and -l with the raw START, END and REPORT lines', async () => {
    const cwd = join(root, 'ctx');
    await mkdir(cwd);
    await writeFile(
      join(cwd, 'serverless.yml'),
      'service: ctx\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n  echo:\n    handler: handler.echo\n',
    );
    await writeFile(
      join(cwd, 'handler.js'),
      "exports.echo = async (event, context) => { console.log('hi'); return context.clientContext ?? null; };\n",
    );
    assert.equal((await runCli(['deploy'], { cwd, env })).code, 0);
    const inline = await runCli(
      ['invoke', '-f', 'echo', '--context', '{"custom":{"k":"v"}}', '-l'],
      { cwd, env },
    );
    assert.equal(inline.code, 0, inline.stderr);
    const [payload, log] = inline.stdout.split(`${'-'.repeat(68)}\n`);
    assert.deepEqual(JSON.parse(payload!), { custom: { k: 'v' } });
    const lines = log!.trimEnd().split('\n');
    assert.match(lines[0]!, /^START RequestId: [\w-]+ Version: 1$/);
    assert.match(lines[1]!, /\tINFO\thi$/);
    assert.match(lines[2]!, /^END RequestId: [\w-]+$/);
    assert.match(
      lines[3]!,
      /^REPORT RequestId: [\w-]+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 1024 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms$/,
    );
    await writeFile(join(cwd, 'context.json'), '{"custom":{"from":"file"}}');
    const fromFile = await runCli(['invoke', '-f', 'echo', '-x', 'context.json'], { cwd, env });
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.deepEqual(JSON.parse(fromFile.stdout), { custom: { from: 'file' } });
    const local = await runCli(['invoke', 'local', '-f', 'echo', '--context', '{"a":1}'], {
      cwd,
      env,
    });
    assert.equal(local.code, 0, local.stderr);
    assert.deepEqual(JSON.parse(local.stdout), { a: 1 }, 'invoke local still gets its context');
    const bad = await runCli(['invoke', '-f', 'echo', '--context', 'nope'], { cwd, env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--context must be JSON/);
  });

  test('nimbus offline is nimbus dev', async () => {
    const help = await runCli(['offline', '--help'], { cwd: root, env });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: nimbus dev\|offline \[options\]/);
    assert.match(help.stdout, /deploy, watch and redeploy on every change/);
  });
});
