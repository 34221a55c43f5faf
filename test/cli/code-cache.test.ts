/**
 * The bundled CLI's V8 code cache (src/cli/launch/): kept per command in a directory only this
 * user can write, tied to one bundle and one Node, and never a reason for a command to fail.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cacheDirectory, codeCache, commandKey } from '../../src/cli/launch/code-cache.js';
import { repoRoot } from '../helpers/repo-root.js';
import { makeTempDir } from '../helpers/temp-dir.js';

test('a command is named by its first words, never by its flags or values', () => {
  assert.equal(commandKey(['deploy']), 'deploy');
  assert.equal(commandKey(['deploy', 'function', '-f', 'hello']), 'deploy-function');
  assert.equal(commandKey(['invoke', '-f', 'hello']), 'invoke');
  assert.equal(commandKey(['alias', 'set', 'extra']), 'alias-set');
  assert.equal(commandKey(['--version']), 'main');
  assert.equal(commandKey(['create', '../../etc']), 'create');
  assert.equal(commandKey([]), 'main');
});

test('the cache directory is private, or there is none', async () => {
  const tmp = await makeTempDir();
  try {
    assert.equal(cacheDirectory({ NIMBUS_COMPILE_CACHE: 'off', HOME: tmp.dir }), undefined);
    const home = cacheDirectory({ HOME: tmp.dir });
    assert.equal(home, join(tmp.dir, '.cache', 'nimbus', 'compile'));
    assert.equal(statSync(home).mode & 0o777, 0o700);
    assert.equal(
      cacheDirectory({ XDG_CACHE_HOME: join(tmp.dir, 'xdg'), HOME: tmp.dir }),
      join(tmp.dir, 'xdg', 'nimbus', 'compile'),
    );
    const shared = join(tmp.dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    assert.equal(cacheDirectory({ NIMBUS_COMPILE_CACHE: shared }), undefined, 'others can write');
    const link = join(tmp.dir, 'link');
    symlinkSync(home, link);
    assert.equal(cacheDirectory({ NIMBUS_COMPILE_CACHE: link }), undefined, 'a symbolic link');
  } finally {
    await tmp.cleanup();
  }
});

test('a cache belongs to one bundle: a rebuilt bundle reads nothing', async () => {
  const tmp = await makeTempDir();
  try {
    const dir = cacheDirectory({ NIMBUS_COMPILE_CACHE: join(tmp.dir, 'cache') })!;
    const bundle = join(tmp.dir, 'main.cjs');
    writeFileSync(bundle, 'module.exports = {};');
    codeCache(dir, bundle, 'deploy').write(Buffer.from('bytecode'));
    const [file] = readdirSync(dir);
    assert.match(file!, /^deploy-[0-9a-f]{8}\.bin$/);
    assert.equal(statSync(join(dir, file!)).mode & 0o777, 0o600);
    assert.equal(codeCache(dir, bundle, 'deploy').read()?.toString(), 'bytecode');
    assert.equal(codeCache(dir, bundle, 'info').read(), undefined);
    utimesSync(bundle, new Date(), new Date(Date.now() + 5000));
    assert.equal(codeCache(dir, bundle, 'deploy').read(), undefined);
  } finally {
    await tmp.cleanup();
  }
});

test('bin/nimbus.js fills the cache on its first run, uses it, and survives a damaged one', async () => {
  const tmp = await makeTempDir();
  try {
    const bin = join(repoRoot, 'bin', 'nimbus.js');
    const env = { PATH: process.env.PATH, HOME: tmp.dir };
    const run = () =>
      spawnSync(process.execPath, [bin, 'print', '--help'], { encoding: 'utf8', env });
    const first = run();
    assert.equal(first.status, 0, first.stderr);
    const dir = join(tmp.dir, '.cache', 'nimbus', 'compile');
    const file = join(dir, readdirSync(dir).find((f) => f.startsWith('print-'))!);
    const made = readFileSync(file);
    assert.ok(made.length > 1000, 'V8 bytecode was written');
    const second = run();
    assert.equal(second.stdout, first.stdout);
    assert.deepEqual(readFileSync(file), made, 'an accepted cache is not rewritten');
    // Same header, garbage bytecode: V8 refuses it, the command runs anyway, the file is renewed.
    const header = made.subarray(0, made.indexOf(10) + 1);
    writeFileSync(file, Buffer.concat([header, Buffer.from('not bytecode at all')]));
    const third = run();
    assert.equal(third.status, 0, third.stderr);
    assert.equal(third.stdout, first.stdout);
    assert.ok(readFileSync(file).length > 1000, 'the damaged cache was replaced');
  } finally {
    await tmp.cleanup();
  }
});
