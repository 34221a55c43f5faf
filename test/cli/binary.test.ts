import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { closedPort } from '../helpers/closed-port.js';
import { repoRoot } from '../helpers/repo-root.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const bin = join(repoRoot, 'bin', 'nimbus.js');

test('bin/nimbus.js --version prints the CLI version alone; `version` says when no platform answers', async () => {
  const tmp = await makeTempDir();
  try {
    const port = await closedPort();
    const env = { PATH: process.env.PATH, HOME: tmp.dir, NIMBUS_ENDPOINT: `127.0.0.1:${port}` };
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    for (const flag of ['--version', '-v']) {
      const res = spawnSync(process.execPath, [bin, flag], { encoding: 'utf8', env });
      assert.equal(res.status, 0, res.stderr);
      assert.equal(res.stdout, `Nimbus CLI ${version}\n`);
    }
    const res = spawnSync(process.execPath, [bin, 'version'], { encoding: 'utf8', env });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(
      res.stdout,
      `Nimbus CLI ${version}\nNimbus platform: not reachable at http://127.0.0.1:${port}\n`,
    );
  } finally {
    await tmp.cleanup();
  }
});

test('nimbus server: health, a 0600 admin token in the data dir, clean stop on SIGTERM', async () => {
  const tmp = await makeTempDir();
  const dataDir = join(tmp.dir, 'data');
  const child = spawn(process.execPath, [bin, 'server', '--port', '0', '--data-dir', dataDir], {
    env: { PATH: process.env.PATH, HOME: tmp.dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
    });
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200);
    const tokenFile = join(dataDir, 'admin-token');
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    assert.equal((await fetch(`${url}/v1/services`)).status, 401);
    assert.equal(
      (await fetch(`${url}/v1/services`, { headers: { authorization: `Bearer ${token}` } })).status,
      200,
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
    await tmp.cleanup();
  }
});

test('nimbus server refuses a bad --port with a clear message', () => {
  const res = spawnSync(process.execPath, [bin, 'server', '--port', 'abc'], { encoding: 'utf8' });
  assert.equal(res.status, 1);
  assert.match(res.stderr, /--port must be an integer from 0 to 65535, not "abc"/);
});

test('nimbus server with an unreachable PostgreSQL: one line naming where, no password, exit 1', async () => {
  const tmp = await makeTempDir();
  try {
    const port = await closedPort();
    const res = spawnSync(
      process.execPath,
      [bin, 'server', '--port', '0', '--data-dir', join(tmp.dir, 'data')],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: tmp.dir,
          NIMBUS_DATABASE_URL: `postgres://nimbus:s3cret@127.0.0.1:${port}/nimbus`,
        },
      },
    );
    assert.equal(res.status, 1);
    assert.equal(
      res.stderr,
      `✖ cannot open the PostgreSQL store at postgres://nimbus@127.0.0.1:${port}/nimbus (schema public): ` +
        `connect ECONNREFUSED 127.0.0.1:${port}; is PostgreSQL running and listening on that host and port?\n`,
    );
  } finally {
    await tmp.cleanup();
  }
});
