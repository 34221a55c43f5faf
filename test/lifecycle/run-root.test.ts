import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { RunRoot } from '../../src/platform/lifecycle/run-root.js';
import { repoRoot } from '../helpers/repo-root.js';
import { makeTempDir } from '../helpers/temp-dir.js';

test('a run root left by a platform killed with -9 is removed by the next start', async () => {
  const tmp = await makeTempDir();
  try {
    const module = pathToFileURL(
      join(repoRoot, 'dist', 'src', 'platform', 'lifecycle', 'run-root.js'),
    );
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { RunRoot } = await import(${JSON.stringify(module.href)});
         const root = new RunRoot({ parent: ${JSON.stringify(tmp.dir)} });
         await root.start();
         console.log(root.dir);
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const leftover = await new Promise<string>((resolve) =>
      child.stdout.once('data', (c: Buffer) => resolve(c.toString().trim())),
    );
    await mkdir(join(leftover, 'code', 'abc'), { recursive: true });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    assert.ok(existsSync(leftover), 'kill -9 leaves it behind');

    // Not to be touched: a live owner, and a dir without an owner file (not known to be dead).
    const live = new RunRoot({ parent: tmp.dir });
    await live.start();
    const unknown = join(tmp.dir, 'nimbus-run-unknown');
    await mkdir(unknown);
    // A reused pid: ours, with another start time.
    const reused = join(tmp.dir, 'nimbus-run-reused');
    await mkdir(reused);
    await writeFile(join(reused, 'owner.pid'), `${process.pid} 1\n`);

    const next = new RunRoot({ parent: tmp.dir });
    await next.start();
    assert.equal(existsSync(leftover), false, 'the dead platform’s run root is gone');
    assert.equal(existsSync(reused), false, 'a reused pid does not keep it');
    assert.ok(existsSync(live.dir), 'a live platform’s run root stays');
    assert.ok(existsSync(unknown), 'a dir without owner file stays');
    await next.stop();
    await live.stop();
  } finally {
    await tmp.cleanup();
  }
});
