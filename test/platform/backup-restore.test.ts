import assert from 'node:assert/strict';
import { access, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import yazl from 'yazl';
import { isBackupEntry } from '../../src/backup/backup-layout.js';
import { ControlClient } from '../../src/client/control-client.js';
import { type RunningPlatform, startPlatform } from '../../src/platform/server.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const silent = pino({ level: 'silent' });

function start(dataDir: string): Promise<RunningPlatform> {
  return startPlatform({ host: '127.0.0.1', port: 0, dataDir, logger: silent });
}

async function invoke(platform: RunningPlatform, qualifier: string): Promise<unknown> {
  const res = await fetch(
    `${platform.url}/2015-03-31/functions/svc-dev-hello/invocations?Qualifier=${qualifier}`,
    { method: 'POST', headers: { authorization: `Bearer ${platform.adminToken}` }, body: '{}' },
  );
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

const handler = (answer: string) => `exports.hello = async () => (${JSON.stringify(answer)});\n`;

describe('nimbus backup, then restore into a new data dir', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let original: RunningPlatform;
  let env: Record<string, string>;

  before(async () => {
    const tmp = await makeTempDir();
    root = tmp.dir;
    original = await start(join(root, 'original'));
    env = { HOME: root, NIMBUS_ENDPOINT: original.url, NIMBUS_TOKEN: original.adminToken };
    cleanup = async () => {
      await original.close();
      await tmp.cleanup();
    };
    assert.equal(
      (await runCli(['create', '-t', 'nodejs', '-p', 'svc'], { cwd: root, env })).code,
      0,
    );
    const cwd = join(root, 'svc');
    for (const answer of ['first', 'second']) {
      await writeFile(join(cwd, 'handler.js'), handler(answer));
      const deployed = await runCli(['deploy'], { cwd, env });
      assert.equal(deployed.code, 0, deployed.stderr);
    }
    assert.equal((await runCli(['keys', 'create'], { cwd: root, env })).code, 0);
  });
  after(() => cleanup());

  test('the restored platform serves the same functions with the same versions', async () => {
    const file = join(root, 'running.zip');
    const backup = await runCli(['backup', '--output', file], { cwd: root, env });
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stderr, new RegExp(`✔ Backup of ${original.url} written to ${file}`));

    const again = await runCli(['backup', '--output', file], { cwd: root, env });
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `✖ ${file} already exists: pick a new file\n`);

    const restoredDir = join(root, 'restored');
    const restored = await runCli(['restore', '--input', file, '--data-dir', restoredDir], {
      cwd: root,
      env,
    });
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stderr, /✔ Restored the database and 2 artifacts/);

    const copy = await start(restoredDir);
    try {
      assert.equal(copy.adminToken, original.adminToken, 'the admin token came along');
      const before = await new ControlClient({
        endpoint: original.url,
        token: original.adminToken,
      }).getFunction('svc-dev-hello');
      const after = await new ControlClient({
        endpoint: copy.url,
        token: copy.adminToken,
      }).getFunction('svc-dev-hello');
      assert.deepEqual(
        after?.versions.map((v) => [v.version, v.codeSha256]),
        before?.versions.map((v) => [v.version, v.codeSha256]),
      );
      assert.equal(after?.versions.length, 2);
      assert.equal(await invoke(copy, '1'), 'first');
      assert.equal(await invoke(copy, '2'), 'second');
      // Access keys are sealed with the master key: listing them proves it came along.
      const keys = await runCli(['keys', 'list', '--json'], {
        cwd: root,
        env: { ...env, NIMBUS_ENDPOINT: copy.url },
      });
      assert.equal(keys.code, 0, keys.stderr);
      assert.match(keys.stdout, /NIMB[A-Z0-9]{16}/);
    } finally {
      await copy.close();
    }

    const notEmpty = await runCli(['restore', '--input', file, '--data-dir', restoredDir], {
      cwd: root,
      env,
    });
    assert.equal(notEmpty.code, 1);
    assert.match(
      notEmpty.stderr,
      /is not empty: restore into a new data dir \(nothing was changed\)/,
    );
  });

  test('--data-dir backs up a data dir directly, consistent while its platform runs', async () => {
    const file = join(root, 'direct.zip');
    const backup = await runCli(
      ['backup', '--output', file, '--data-dir', join(root, 'original')],
      { cwd: root, env: { HOME: root } },
    );
    assert.equal(backup.code, 0, backup.stderr);
    const dir = join(root, 'direct');
    const restored = await runCli(['restore', '--input', file, '--data-dir', dir], {
      cwd: root,
      env: { HOME: root },
    });
    assert.equal(restored.code, 0, restored.stderr);
    const copy = await start(dir);
    try {
      assert.equal(await invoke(copy, '2'), 'second');
    } finally {
      await copy.close();
    }
  });

  test('POST /v1/backup needs the admin token', async () => {
    const res = await fetch(`${original.url}/v1/backup`, { method: 'POST' });
    assert.equal(res.status, 401);
    await res.body?.cancel();
  });

  test('an archive that is not a backup is refused and nothing is created', async () => {
    const hostile = join(root, 'hostile.zip');
    const zip = new yazl.ZipFile();
    zip.addBuffer(Buffer.from('{"format":1}'), 'nimbus-backup.json');
    zip.addBuffer(Buffer.from('x'), 'blobs/evil.sh');
    zip.end();
    const chunks: Buffer[] = [];
    for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
    await writeFile(hostile, Buffer.concat(chunks));
    const dir = join(root, 'never');
    const run = await runCli(['restore', '--input', hostile, '--data-dir', dir], {
      cwd: root,
      env: { HOME: root },
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /unexpected entry "blobs\/evil\.sh" \(not a Nimbus backup\?\)/);
    await assert.rejects(access(dir));
    assert.deepEqual(
      (await readdir(root)).filter((n) => n.includes('restoring')),
      [],
      'no staging dir is left behind',
    );

    await writeFile(join(root, 'text.zip'), 'not a zip');
    const text = await runCli(['restore', '--input', join(root, 'text.zip'), '--data-dir', dir], {
      cwd: root,
      env: { HOME: root },
    });
    assert.equal(text.code, 1);
    assert.match(text.stderr, /^✖ .*text\.zip is not a Nimbus backup: /);
  });
});

test('only the backup layout may be restored: no path can leave the data dir', () => {
  const blob = `blobs/sha256/ab/${'ab'.repeat(32)}`;
  for (const ok of ['nimbus-backup.json', 'nimbus.db', 'master-key', 'admin-token', blob]) {
    assert.equal(isBackupEntry(ok), true, ok);
  }
  for (const bad of ['../nimbus.db', '/etc/passwd', 'blobs/../../x', `${blob}/..`, 'endpoint']) {
    assert.equal(isBackupEntry(bad), false, bad);
  }
});
