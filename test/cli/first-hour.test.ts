import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { closedPort } from '../helpers/closed-port.js';
import { repoRoot } from '../helpers/repo-root.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const bin = join(repoRoot, 'bin', 'nimbus.js');

/**
 * The README's path on a port other than 8642: `nimbus server` in one process, the CLI of the
 * same user (same HOME) in another, with no NIMBUS_* variable set.
 */
describe('first hour: a platform on another port, no environment variables', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let server: ChildProcess;
  let url: string;
  let env: Record<string, string>;
  const dataDir = () => join(root, 'home', '.local', 'share', 'nimbus');
  const version = async () =>
    JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')).version as string;

  before(async () => {
    const tmp = await makeTempDir();
    root = tmp.dir;
    env = { HOME: join(root, 'home'), PATH: process.env.PATH ?? '' };
    server = spawn(process.execPath, [bin, 'server', '--port', '0'], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    url = await new Promise<string>((resolve, reject) => {
      server.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(stderr);
        if (match && stderr.includes('CLI:')) resolve(match[1]!);
      });
      server.once('exit', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
    });
    assert.match(stderr, /CLI: commands of this user find it as is/);
    cleanup = async () => {
      const exited = new Promise((done) => server.once('exit', done));
      server.kill('SIGTERM');
      await exited;
      await tmp.cleanup();
    };
  });
  after(() => cleanup());

  test('version names the CLI and the platform it found', async () => {
    const run = await runCli(['version'], { cwd: root, env });
    assert.equal(run.code, 0, run.stderr);
    const v = await version();
    assert.equal(run.stdout, `Nimbus CLI ${v}\nNimbus platform ${v} at ${url}\n`);
    const health = (await (await fetch(`${url}/health`)).json()) as { version: string };
    assert.equal(health.version, v);
  });

  test('create, deploy, logs before any run, invoke, DryRun, an undeployed stage', async () => {
    assert.equal(
      (await runCli(['create', '-t', 'nodejs', '-p', 'svc'], { cwd: root, env })).code,
      0,
    );
    const cwd = join(root, 'svc');
    const deployed = await runCli(['deploy'], { cwd, env });
    assert.equal(deployed.code, 0, deployed.stderr);

    const quiet = await runCli(['logs', '-f', 'hello'], { cwd, env });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, '');
    assert.match(
      quiet.stderr,
      /No log lines for function "hello" \(svc-dev-hello\) since .*: it has not run since then/,
    );

    const invoked = await runCli(['invoke', '-f', 'hello'], { cwd, env });
    assert.equal(invoked.code, 0, invoked.stderr);

    const dry = await runCli(['invoke', '-f', 'hello', '-t', 'DryRun'], { cwd, env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.stderr, '✔ Function svc-dev-hello can be invoked (version 1)\n');

    const prod = await runCli(['invoke', '-f', 'hello', '--stage', 'prod'], { cwd, env });
    assert.equal(prod.code, 1);
    assert.equal(
      prod.stderr,
      `✖ Function "hello" (svc-prod-hello) of service "svc" is not deployed to stage "prod": ` +
        `deploy it first with 'nimbus deploy --stage prod'\n`,
    );

    const noVersion = await runCli(['invoke', '-f', 'hello', '-q', '7'], { cwd, env });
    assert.equal(noVersion.code, 1);
    assert.equal(
      noVersion.stderr,
      '✖ Function "hello" (svc-dev-hello) has no version or alias "7": its versions are 1; its aliases dev\n',
    );

    const missing = await runCli(['invoke'], { cwd, env });
    assert.equal(
      missing.stderr,
      '✖ Missing -f <function>; the functions of service "svc" are: hello\n',
    );
  });

  test('-c other-dir/serverless.yml packages that directory', async () => {
    assert.equal(
      (await runCli(['create', '-t', 'nodejs', '-p', 'other'], { cwd: root, env })).code,
      0,
    );
    const run = await runCli(['package', '-c', 'other/serverless.yml'], { cwd: root, env });
    assert.equal(run.code, 0, run.stderr);
    await stat(join(root, 'other', '.serverless'));
  });

  test('a wrong token says where the right one is', async () => {
    const run = await runCli(['info'], {
      cwd: join(root, 'svc'),
      env: { ...env, NIMBUS_TOKEN: 'wrong' },
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /missing or wrong admin token/);
    assert.match(run.stderr, new RegExp(`by default ${dataDir()}/admin-token`));
    assert.match(run.stderr, /nimbus login --endpoint/);
    assert.equal(run.stderr.split('\n').length, 2, 'one line');
  });

  test('login saves an endpoint written without http:// and the token for another user home', async () => {
    const otherHome = join(root, 'other-home');
    const otherEnv = { HOME: otherHome, PATH: env.PATH ?? '' };
    const hostPort = url.replace('http://', '');

    const noToken = await runCli(['login', '--endpoint', hostPort], { cwd: root, env: otherEnv });
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, /No token: pass --token <token>, or --data-dir <dir>/);

    const wrong = await runCli(['login', '--endpoint', hostPort, '--token', 'nope'], {
      cwd: root,
      env: otherEnv,
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, new RegExp(`The platform at ${url} refused the token`));

    const ok = await runCli(['login', '--endpoint', hostPort, '--data-dir', dataDir()], {
      cwd: root,
      env: otherEnv,
    });
    assert.equal(ok.code, 0, ok.stderr);
    const file = join(otherHome, '.nimbus', 'config.yml');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const token = (await readFile(join(dataDir(), 'admin-token'), 'utf8')).trim();
    const saved = await readFile(file, 'utf8');
    assert.ok(saved.includes(`endpoint: ${url}`) && saved.includes(token), saved);

    const info = await runCli(['info'], { cwd: join(root, 'svc'), env: otherEnv });
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /service: svc/);
  });

  test('no platform at the endpoint leads to nimbus server and nimbus login', async () => {
    const port = await closedPort();
    const run = await runCli(['info'], {
      cwd: join(root, 'svc'),
      env: { ...env, NIMBUS_ENDPOINT: `127.0.0.1:${port}` },
    });
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      `✖ No Nimbus platform at http://127.0.0.1:${port}: start one with 'nimbus server', or point the ` +
        `CLI at a running one with 'nimbus login --endpoint <url>' (or NIMBUS_ENDPOINT)\n`,
    );
  });
});
