import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  extractZip,
  inspectZip,
  lambdaZipLimits,
  type ZipLimits,
  ZipRejectedError,
} from '../../src/packaging/zip-safety.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { type RawEntry, rawZip } from './raw-zip.js';

const small: ZipLimits = { maxZippedBytes: 10_000, maxUnzippedBytes: 1_000 };

function rejects(code: ZipRejectedError['code'], entry?: string) {
  return (err: unknown) => {
    assert.ok(err instanceof ZipRejectedError, `expected ZipRejectedError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (entry !== undefined) {
      assert.equal(err.entry, entry);
      assert.ok(err.message.includes(JSON.stringify(entry)), err.message);
    }
    return true;
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const tmp = await makeTempDir('nimbus-zip-');
  try {
    await fn(tmp.dir);
  } finally {
    await tmp.cleanup();
  }
}

test('lambdaZipLimits are the Lambda limits in MiB', () => {
  assert.equal(lambdaZipLimits.maxZippedBytes, 50 * 1024 * 1024);
  assert.equal(lambdaZipLimits.maxUnzippedBytes, 250 * 1024 * 1024);
});

test('inspectZip counts entries and declared bytes; extractZip writes them with their modes', async () => {
  const zip = rawZip([
    { name: 'a.txt', data: 'hello' },
    { name: 'bin/run', data: '#!/bin/sh\n', mode: 0o100755, deflate: true },
    { name: 'dir/', mode: 0o040755 },
    { name: 'lib/link.txt', data: '../a.txt', mode: 0o120777 },
  ]);
  assert.deepEqual(await inspectZip(zip, small), { entries: 4, unzippedBytes: 5 + 10 + 8 });
  await withDir(async (dir) => {
    const dest = join(dir, 'out');
    await extractZip(zip, dest, small);
    assert.equal(await readFile(join(dest, 'a.txt'), 'utf8'), 'hello');
    assert.equal((await stat(join(dest, 'bin/run'))).mode & 0o100, 0o100);
    assert.equal((await stat(join(dest, 'a.txt'))).mode & 0o111, 0);
    assert.ok((await stat(join(dest, 'dir'))).isDirectory());
    assert.equal(await readlink(join(dest, 'lib/link.txt')), '../a.txt');
    assert.equal(await readFile(join(dest, 'lib/link.txt'), 'utf8'), 'hello');
  });
});

const unsafeNames: Array<[string, string]> = [
  ['absolute', '/etc/passwd'],
  ['drive letter', 'C:\\Windows\\x.dll'],
  ['drive letter, forward slash', 'c:/x'],
  ['UNC', '\\\\server\\share\\x'],
  ['leading backslash', '\\x'],
  ['dot-dot', '../x'],
  ['nested dot-dot', 'a/b/../../../x'],
  ['bare dot-dot', '..'],
  ['backslash dot-dot', '..\\x'],
  ['mixed backslash dot-dot', 'a\\..\\..\\x'],
  ['NUL', 'a\0.txt'],
];

for (const [label, name] of unsafeNames) {
  test(`refuses an entry name: ${label}`, async () => {
    const zip = rawZip([
      { name: 'ok.txt', data: 'fine' },
      { name, data: 'x' },
    ]);
    // yauzl turns backslashes into slashes before we see the name.
    const shown = name.replace(/\\/g, '/');
    await assert.rejects(inspectZip(zip, small), rejects('NIMBUS_ARTIFACT_UNSAFE_PATH', shown));
    await withDir(async (dir) => {
      const dest = join(dir, 'out');
      await assert.rejects(extractZip(zip, dest, small), rejects('NIMBUS_ARTIFACT_UNSAFE_PATH'));
      await assert.rejects(stat(dest), { code: 'ENOENT' });
      assert.deepEqual(await readdir(dir), []);
    });
  });
}

const escapingLinks: Array<[string, string, string]> = [
  ['relative', 'a/link', '../../outside'],
  ['absolute', 'link', '/etc/passwd'],
  ['drive letter', 'link', 'C:\\x'],
  ['backslash dot-dot', 'link', '..\\..\\x'],
];
for (const [label, name, target] of escapingLinks) {
  test(`refuses a symlink pointing outside: ${label}`, async () => {
    const zip = rawZip([{ name, data: target, mode: 0o120777 }]);
    await assert.rejects(inspectZip(zip, small), rejects('NIMBUS_ARTIFACT_UNSAFE_PATH', name));
  });
}

test('extractZip refuses symlink chains that only escape once resolved, and cleans up', async () => {
  const zip = rawZip([
    { name: 'a.txt', data: 'first' },
    { name: 'here', data: '.', mode: 0o120777 },
    { name: 'up', data: 'here/..', mode: 0o120777 },
  ]);
  await inspectZip(zip, small); // lexically each link stays inside
  await withDir(async (dir) => {
    const dest = join(dir, 'out');
    await assert.rejects(
      extractZip(zip, dest, small),
      rejects('NIMBUS_ARTIFACT_UNSAFE_PATH', 'up'),
    );
    assert.deepEqual(await readdir(dir), []);
  });
});

test('extractZip never writes through a symlink it extracted', async () => {
  const zip = rawZip([
    { name: 'sub/keep.txt', data: 'k' },
    { name: 'link', data: 'sub', mode: 0o120777 },
    { name: 'link/evil.txt', data: 'x' },
  ]);
  await withDir(async (dir) => {
    await assert.rejects(
      extractZip(zip, join(dir, 'out'), small),
      rejects('NIMBUS_ARTIFACT_UNSAFE_PATH', 'link/evil.txt'),
    );
    assert.deepEqual(await readdir(dir), []);
  });
});

test('declared unzipped size over the cap is TOO_LARGE', async () => {
  const zip = rawZip([
    { name: 'a', data: Buffer.alloc(600) },
    { name: 'b', data: Buffer.alloc(600) },
  ]);
  await assert.rejects(
    inspectZip(zip, { ...small, maxZippedBytes: 100_000 }),
    rejects('NIMBUS_ARTIFACT_TOO_LARGE', 'b'),
  );
});

test('zipped size over the cap is TOO_LARGE before the zip is read', async () => {
  const junk = Buffer.alloc(2_000, 7); // not even a zip: the size check comes first
  await assert.rejects(
    inspectZip(junk, { ...small, maxZippedBytes: 1_999 }),
    rejects('NIMBUS_ARTIFACT_TOO_LARGE'),
  );
});

test('too many entries is TOO_LARGE', async () => {
  const entries: RawEntry[] = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, data: 'x' }));
  await assert.rejects(
    inspectZip(rawZip(entries), { ...small, maxEntries: 4 }),
    rejects('NIMBUS_ARTIFACT_TOO_LARGE'),
  );
  assert.equal((await inspectZip(rawZip(entries), { ...small, maxEntries: 5 })).entries, 5);
});

test('extractZip counts real bytes: a lying entry stops at the cap and leaves nothing', async () => {
  const zip = rawZip([
    { name: 'honest.txt', data: 'hello' },
    { name: 'bomb.bin', data: Buffer.alloc(200_000), deflate: true, declaredSize: 10 },
  ]);
  assert.equal((await inspectZip(zip, small)).unzippedBytes, 15);
  await withDir(async (dir) => {
    await assert.rejects(
      extractZip(zip, join(dir, 'out'), small),
      rejects('NIMBUS_ARTIFACT_TOO_LARGE', 'bomb.bin'),
    );
    assert.deepEqual(await readdir(dir), []);
  });
});

test('an entry larger than declared but under the cap is INVALID', async () => {
  const zip = rawZip([
    { name: 'liar.txt', data: Buffer.alloc(100), deflate: true, declaredSize: 10 },
  ]);
  await withDir(async (dir) => {
    await assert.rejects(
      extractZip(zip, join(dir, 'out'), small),
      rejects('NIMBUS_ARTIFACT_INVALID'),
    );
  });
});

test('corrupt and truncated zips are INVALID', async () => {
  const good = rawZip([{ name: 'a.txt', data: 'hello' }]);
  await assert.rejects(
    inspectZip(Buffer.from('definitely not a zip'), small),
    rejects('NIMBUS_ARTIFACT_INVALID'),
  );
  await assert.rejects(
    inspectZip(good.subarray(0, good.length - 5), small),
    rejects('NIMBUS_ARTIFACT_INVALID'),
  );
  await assert.rejects(inspectZip(Buffer.alloc(0), small), rejects('NIMBUS_ARTIFACT_INVALID'));
  const badCentral = Buffer.from(good);
  badCentral.writeUInt32LE(0xdeadbeef, badCentral.length - 22 - 46 - 5); // central header signature
  await assert.rejects(inspectZip(badCentral, small), rejects('NIMBUS_ARTIFACT_INVALID'));
});

test('a refusal in an existing destDir removes only what extractZip wrote', async () => {
  await withDir(async (dest) => {
    await writeFile(join(dest, 'mine.txt'), 'keep me');
    await mkdir(join(dest, 'existing'));
    const zip = rawZip([
      { name: 'existing/new.txt', data: 'new' },
      { name: 'fresh/dir/new.txt', data: 'new' },
      { name: 'mine.txt', data: 'clobber' },
    ]);
    await assert.rejects(
      extractZip(zip, dest, small),
      rejects('NIMBUS_ARTIFACT_INVALID', 'mine.txt'),
    );
    assert.equal(await readFile(join(dest, 'mine.txt'), 'utf8'), 'keep me');
    assert.deepEqual((await readdir(dest)).sort(), ['existing', 'mine.txt']);
    assert.deepEqual(await readdir(join(dest, 'existing')), []);
    assert.ok((await lstat(join(dest, 'existing'))).isDirectory());
  });
});
