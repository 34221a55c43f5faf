import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, chown, mkdir, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import pino from 'pino';
import { bearerMatches } from '../../src/platform/control/admin-token.js';
import { permits } from '../../src/platform/pool/runtime-interpreters.js';
import { type PlatformOptions, startPlatform } from '../../src/platform/server.js';
import { repoRoot } from '../helpers/repo-root.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const asRoot = process.getuid?.() === 0;
const silent = pino({ level: 'silent' });

const options = (dataDir: string, extra: Partial<PlatformOptions> = {}): PlatformOptions => ({
  host: '127.0.0.1',
  port: 0,
  dataDir,
  logger: silent,
  ...extra,
});

const mode = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);

describe('the data dir is private to the platform', () => {
  test('a 0755 data dir with readable files is made 0700 / 0600 on start', async () => {
    const tmp = await makeTempDir();
    const dataDir = join(tmp.dir, 'data');
    try {
      const first = await startPlatform(options(dataDir));
      await first.close();
      // What `mkdir -p` and a loose umask leave behind.
      await chmod(dataDir, 0o755);
      await chmod(join(dataDir, 'nimbus.db'), 0o644);
      await chmod(join(dataDir, 'admin-token'), 0o644);
      await mkdir(join(dataDir, 'blobs', 'ab'), { recursive: true, mode: 0o755 });
      await writeFile(join(dataDir, 'blobs', 'ab', 'leftover'), 'x', { mode: 0o644 });
      const second = await startPlatform(options(dataDir));
      await second.close();
      assert.equal(await mode(dataDir), '700');
      assert.equal(await mode(join(dataDir, 'nimbus.db')), '600');
      assert.equal(await mode(join(dataDir, 'admin-token')), '600');
      assert.equal(await mode(join(dataDir, 'blobs')), '700');
      assert.equal(await mode(join(dataDir, 'blobs', 'ab')), '700');
      assert.equal(await mode(join(dataDir, 'blobs', 'ab', 'leftover')), '600');
    } finally {
      await tmp.cleanup();
    }
  });
});

describe('the admin token is never empty', () => {
  for (const [what, content] of [
    ['empty', ''],
    ['blank', '  \n\n'],
    ['a no-break space', '\u00a0\n'],
    ['too short', 'abc\n'],
  ] as const) {
    test(`an admin-token file that is ${what} stops the start`, async () => {
      const tmp = await makeTempDir();
      const dataDir = join(tmp.dir, 'data');
      try {
        await mkdir(dataDir, { mode: 0o700 });
        await writeFile(join(dataDir, 'admin-token'), content, { mode: 0o600 });
        await assert.rejects(startPlatform(options(dataDir)), {
          code: 'NIMBUS_ISOLATION_UNSAFE',
          message: /admin token/,
        });
      } finally {
        await tmp.cleanup();
      }
    });
  }

  test('a blank NIMBUS_ADMIN_TOKEN stops the start', async () => {
    const tmp = await makeTempDir();
    try {
      await assert.rejects(startPlatform(options(join(tmp.dir, 'data'), { adminToken: ' ' })), {
        code: 'NIMBUS_ISOLATION_UNSAFE',
      });
    } finally {
      await tmp.cleanup();
    }
  });

  test('the header is compared as sent: no trimming, no empty token', () => {
    const token = 'nimbus_0123456789abcdef';
    assert.equal(bearerMatches(`Bearer ${token}`, token), true);
    assert.equal(bearerMatches(`Bearer ${token}\u00a0`, token), false);
    assert.equal(bearerMatches(`Bearer \u00a0${token}`, token), false);
    assert.equal(bearerMatches(`Bearer ${token} `, token), false);
    assert.equal(bearerMatches('Bearer \u00a0', ''), false);
    assert.equal(bearerMatches('Bearer ', ''), false);
  });

  test('over HTTP, the token followed by a no-break space is refused', async () => {
    const tmp = await makeTempDir();
    const platform = await startPlatform(options(join(tmp.dir, 'data')));
    try {
      const { port } = new URL(platform.url);
      const ask = (authorization: Buffer) =>
        rawGet(
          Number(port),
          '/v1/services',
          Buffer.concat([Buffer.from('Bearer '), authorization]),
        );
      assert.match(await ask(Buffer.from(platform.adminToken)), /^HTTP\/1\.1 200/);
      // Latin-1 0xA0 is what a client sends for U+00A0; String.trim() would have dropped it.
      const nbsp = Buffer.concat([Buffer.from(platform.adminToken), Buffer.from([0xa0])]);
      assert.match(await ask(nbsp), /^HTTP\/1\.1 401/);
      assert.match(await ask(Buffer.from([0xa0])), /^HTTP\/1\.1 401/);
    } finally {
      await platform.close();
      await tmp.cleanup();
    }
  });
});

/** GET with an Authorization header of raw bytes, which Node's client would not send. */
function rawGet(port: number, path: string, authorization: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.write(
      Buffer.concat([
        Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: `),
        authorization,
        Buffer.from('\r\n\r\n'),
      ]),
    );
  });
}

const nobody = { uid: 65534, gid: 65534 };
const cli = join(repoRoot, 'bin', 'nimbus.js');

/** nobody can run the CLI from this checkout (not so under a private home). */
function reachableByNobody(path: string): boolean {
  let dir = path;
  try {
    if (!permits(path, nobody, 4)) return false;
    for (;;) {
      const up = join(dir, '..');
      if (up === dir) return true;
      dir = up;
      if (!permits(dir, nobody, 1)) return false;
    }
  } catch {
    return false;
  }
}

describe('nimbus server as a non-root user', {
  skip: !asRoot && 'needs root to become nobody',
}, () => {
  const runServer = (dataDir: string, args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [cli, 'server', '--port', '0', '--data-dir', dataDir, ...args],
        {
          uid: nobody.uid,
          gid: nobody.gid,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dataDir },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        // Started: that is all this test needs to know.
        if (stderr.includes('listening on')) child.kill('SIGTERM');
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });

  const ownedByNobody = async () => {
    const tmp = await makeTempDir();
    await chmod(tmp.dir, 0o755);
    const dataDir = join(tmp.dir, 'data');
    await mkdir(dataDir, { mode: 0o755 });
    await chown(dataDir, nobody.uid, nobody.gid);
    return { tmp, dataDir };
  };

  test('refuses to start without --isolation none', { skip: !reachableByNobody(cli) }, async () => {
    const { tmp, dataDir } = await ownedByNobody();
    try {
      const run = await runServer(dataDir, []);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /not running as root.*--isolation none/s);
      assert.doesNotMatch(run.stderr, /listening on/);
    } finally {
      await tmp.cleanup();
    }
  });

  test('starts with --isolation none and says so in the log; the data dir becomes 0700', {
    skip: !reachableByNobody(cli),
  }, async () => {
    const { tmp, dataDir } = await ownedByNobody();
    try {
      const run = await runServer(dataDir, ['--isolation', 'none']);
      assert.match(run.stderr, /listening on/);
      assert.match(run.stderr, /"level":40.*isolation none/);
      assert.equal(await mode(dataDir), '700');
    } finally {
      await tmp.cleanup();
    }
  });

  test('refuses a data dir it cannot make private', { skip: !reachableByNobody(cli) }, async () => {
    const tmp = await makeTempDir();
    try {
      await chmod(tmp.dir, 0o755);
      // Root's, 0777: nobody may write it but not chmod it.
      const dataDir = join(tmp.dir, 'data');
      await mkdir(dataDir);
      await chmod(dataDir, 0o777);
      const run = await runServer(dataDir, ['--isolation', 'none']);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /cannot make the data dir .* private/);
    } finally {
      await tmp.cleanup();
    }
  });
});
