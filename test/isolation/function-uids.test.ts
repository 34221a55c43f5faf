import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { type RunningPlatform, startPlatform } from '../../src/platform/server.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait-for.js';

const asRoot = process.getuid?.() === 0;

/**
 * A hostile function against another service stage's: the kernel, not convention, keeps them
 * apart (docs/security.md). Needs root, as the platform does to switch users.
 */
describe('a uid per service stage', { skip: !asRoot && 'needs root' }, () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let platform: RunningPlatform;
  let env: Record<string, string>;
  const dataDir = () => join(tmp.dir, 'data');

  const start = async () =>
    startPlatform({
      host: '127.0.0.1',
      port: 0,
      dataDir: dataDir(),
      logger: pino({ level: 'silent' }),
      idleTimeoutMs: 300,
    });

  const invoke = async (name: string, event: unknown = {}) => {
    const res = await platform.invoker.invoke(name, undefined, { payload: JSON.stringify(event) });
    const outcome = res.result.outcome;
    assert.equal(outcome.status, 'ok', JSON.stringify(outcome));
    return JSON.parse((outcome as { payload: string }).payload);
  };

  const service = async (name: string, functions: Record<string, string>, code: string) => {
    const cwd = join(tmp.dir, name);
    await mkdir(cwd);
    const yml = [`service: ${name}`, 'provider:', '  name: aws', '  runtime: nodejs20.x'];
    yml.push('functions:');
    for (const [key, handler] of Object.entries(functions)) {
      yml.push(`  ${key}:`, `    handler: ${handler}`);
    }
    await writeFile(join(cwd, 'serverless.yml'), `${yml.join('\n')}\n`);
    await writeFile(join(cwd, 'handler.js'), code);
    const res = await runCli(['deploy'], { cwd, env });
    assert.equal(res.code, 0, res.stderr);
  };

  before(async () => {
    tmp = await makeTempDir();
    platform = await start();
    env = { HOME: tmp.dir, NIMBUS_ENDPOINT: platform.url, NIMBUS_TOKEN: platform.adminToken };
    await service(
      'victim',
      { info: 'handler.info' },
      [
        "const fs = require('node:fs');",
        "fs.writeFileSync(require('node:path').join(process.env.TMPDIR, 'secret.txt'), 'victim secret');",
        'exports.info = async () => ({ pid: process.pid, uid: process.getuid(), gid: process.getgid(),',
        '  tmp: process.env.TMPDIR, code: process.env.LAMBDA_TASK_ROOT });',
      ].join('\n'),
    );
    await service(
      'attacker',
      { probe: 'handler.probe', detach: 'handler.detach' },
      [
        "const fs = require('node:fs');",
        "const { spawn } = require('node:child_process');",
        'const attempt = (fn) => { try { fn(); return "allowed"; } catch (e) { return e.code; } };',
        'exports.probe = async (v) => ({',
        '  uid: process.getuid(),',
        '  environ: attempt(() => fs.readFileSync(`/proc/${v.pid}/environ`)),',
        '  mem: attempt(() => fs.closeSync(fs.openSync(`/proc/${v.pid}/mem`, "r"))),',
        '  signal: attempt(() => process.kill(v.pid, 0)),',
        '  kill: attempt(() => process.kill(v.pid, "SIGKILL")),',
        '  code: attempt(() => fs.readdirSync(v.code)),',
        '  handler: attempt(() => fs.readFileSync(`${v.code}/handler.js`)),',
        '  tmp: attempt(() => fs.readdirSync(v.tmp)),',
        '  secret: attempt(() => fs.readFileSync(`${v.tmp}/secret.txt`)),',
        '  ownCode: attempt(() => fs.writeFileSync(`${process.env.LAMBDA_TASK_ROOT}/x`, "x")),',
        '});',
        'exports.detach = async () => {',
        "  const child = spawn('setsid', ['sleep', '300'], { stdio: 'ignore' });",
        '  child.unref();', // not detached by node: setsid itself makes the new session, keeping the pid
        '  await new Promise((r) => setTimeout(r, 200));',
        '  return { pid: child.pid };',
        '};',
      ].join('\n'),
    );
  });
  after(async () => {
    await platform?.close();
    await tmp?.cleanup();
  });

  test('each stage runs as its own uid and group, outside the nobody account', async () => {
    const victim = await invoke('victim-dev-info');
    const attacker = await invoke('attacker-dev-probe', victim);
    assert.ok(victim.uid >= 200_000 && victim.uid <= 265_535, `victim uid ${victim.uid}`);
    assert.ok(attacker.uid >= 200_000 && attacker.uid <= 265_535, `attacker uid ${attacker.uid}`);
    assert.notEqual(victim.uid, attacker.uid);
    assert.equal(victim.gid, victim.uid);
  });

  test("another stage's environment, memory, code and temp dir are out of reach; signals refused", async () => {
    const victim = await invoke('victim-dev-info');
    const probe = await invoke('attacker-dev-probe', victim);
    assert.deepEqual(
      {
        environ: probe.environ,
        mem: probe.mem,
        signal: probe.signal,
        kill: probe.kill,
        code: probe.code,
        handler: probe.handler,
        tmp: probe.tmp,
        secret: probe.secret,
        ownCode: probe.ownCode,
      },
      {
        environ: 'EACCES',
        mem: 'EACCES',
        signal: 'EPERM',
        kill: 'EPERM',
        code: 'EACCES',
        handler: 'EACCES',
        tmp: 'EACCES',
        secret: 'EACCES',
        ownCode: 'EACCES',
      },
    );
    // The victim is still the same process.
    assert.equal((await invoke('victim-dev-info')).pid, victim.pid);
  });

  test('a process a function detaches with setsid dies once its last instance stops', async () => {
    const { pid } = await invoke('attacker-dev-detach');
    assert.ok(existsSync(`/proc/${pid}`), 'the detached sleep runs');
    await waitUntil(
      () =>
        platform.pool.countFor('attacker-dev-detach', '1') === 0 &&
        platform.pool.countFor('attacker-dev-probe', '1') === 0,
      'the attacker stage scaled to zero',
    );
    await waitUntil(() => !isAlive(pid), `detached pid ${pid} gone`);
  });

  test('the uid of a stage is kept across restarts; its leftovers are killed at start', async () => {
    const before = (await invoke('victim-dev-info')).uid;
    await platform.close();
    // What a platform killed with -9 leaves: a detached process of a function uid.
    const orphan = spawn('sleep', ['300'], {
      uid: before,
      gid: before,
      detached: true,
      stdio: 'ignore',
    });
    orphan.unref();
    await waitUntil(() => isAlive(orphan.pid!), 'the orphan runs');
    platform = await start();
    await waitUntil(() => !isAlive(orphan.pid!), 'the orphan killed at start');
    assert.equal((await invoke('victim-dev-info')).uid, before);
  });
});

/** Alive and not a zombie waiting to be reaped. */
function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
