import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PackagingError } from '../../src/packaging/errors.js';
import { packageService } from '../../src/packaging/package-service.js';
import { ZipRejectedError } from '../../src/packaging/zip-safety.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { rawZip } from './raw-zip.js';
import { definition, fn, readZip, writeTree, zipNames } from './service-fixture.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c();
});

async function serviceDir(files: Parameters<typeof writeTree>[1]): Promise<string> {
  const tmp = await makeTempDir('nimbus-pkg-');
  cleanups.push(tmp.cleanup);
  await writeTree(tmp.dir, files);
  return tmp.dir;
}

function run(dir: string, def: ReturnType<typeof definition>, outDir = join(dir, '.serverless')) {
  return packageService({
    serviceDir: dir,
    configPath: join(dir, 'serverless.yml'),
    definition: def,
    outDir,
  });
}

const basic = {
  'serverless.yml': 'service: svc\n',
  'handler.js': 'export const hello = async () => ({ statusCode: 200 });\n',
  'lib/util.js': 'export const x = 1;\n',
  'bin/tool': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
};

test('same input gives byte-identical zips, even after touching mtimes', async () => {
  const dir = await serviceDir(basic);
  const def = definition([fn('hello', 'handler.js')]);
  const first = await run(dir, def);
  const bytes1 = await readFile(join(dir, '.serverless/svc.zip'));
  const state1 = await readFile(first.stateFile, 'utf8');
  await utimes(join(dir, 'handler.js'), new Date('2031-05-05'), new Date('2031-05-05'));
  await utimes(join(dir, 'lib/util.js'), new Date(), new Date());
  const second = await run(dir, def);
  assert.deepEqual(await readFile(join(dir, '.serverless/svc.zip')), bytes1);
  assert.equal(await readFile(second.stateFile, 'utf8'), state1);
  assert.deepEqual(second, first);
  assert.equal(first.artifacts.length, 1);
  assert.equal(first.artifacts[0]!.file, 'svc.zip');
  assert.equal(first.artifacts[0]!.size, bytes1.length);
  assert.equal(first.functionArtifacts.hello, first.artifacts[0]!.sha256);
  assert.match(first.artifacts[0]!.sha256, /^[0-9a-f]{64}$/);
});

test('entries are sorted, dated 1980-01-01 00:00 in DOS form, 0644 or 0755', async () => {
  const dir = await serviceDir(basic);
  await run(dir, definition([fn('hello', 'handler.js')]));
  const entries = await readZip(join(dir, '.serverless/svc.zip'));
  assert.deepEqual(
    entries.map((e) => e.name),
    ['bin/tool', 'handler.js', 'lib/util.js'],
  );
  for (const e of entries) {
    assert.equal(e.dosDate, (0 << 9) | (1 << 5) | 1);
    assert.equal(e.dosTime, 0);
    assert.equal(e.extraFieldLength, 0, 'no time-zone dependent extra field');
    assert.equal(e.mode, e.name === 'bin/tool' ? 0o100755 : 0o100644);
  }
});

test('standard excludes, the config file and outDir never ship', async () => {
  const dir = await serviceDir({
    ...basic,
    '.git/HEAD': 'ref',
    '.gitignore': 'x',
    '.DS_Store': 'x',
    'lib/.DS_Store': 'x',
    'npm-debug.log': 'x',
    'npm-debug.log.123': 'x',
    'yarn-error.log': 'x',
    '.serverless/old.zip': 'x',
    '.serverless/stale.txt': 'x',
    '.serverless_plugins/p.js': 'x',
    '.nimbus/nimbus.db': 'x',
    '.env': 'A=1',
    'dist/pkg/leftover.txt': 'x',
  });
  // patterns cannot bring them back
  const def = definition([fn('hello', 'handler.js')], {
    patterns: ['.git/**', '**/.DS_Store', 'serverless.yml'],
  });
  await run(dir, def, join(dir, 'dist/pkg'));
  assert.deepEqual(await zipNames(join(dir, 'dist/pkg/svc.zip')), [
    '.env',
    'bin/tool',
    'handler.js',
    'lib/util.js',
  ]);
});

test('patterns apply in order: exclude, re-include, exclude again', async () => {
  const dir = await serviceDir({
    ...basic,
    'docs/a.md': 'x',
    'docs/keep.md': 'x',
    'test/x.test.js': 'x',
    '.hidden/config.json': '{}',
  });
  const def = definition([fn('hello', 'handler.js')], {
    patterns: [
      '!docs/**',
      'docs/keep.md',
      '!test/**',
      '!**/.hidden/**',
      './.hidden/config.json',
      '!bin/**',
    ],
  });
  await run(dir, def);
  assert.deepEqual(await zipNames(join(dir, '.serverless/svc.zip')), [
    '.hidden/config.json',
    'docs/keep.md',
    'handler.js',
    'lib/util.js',
  ]);
});

test('individually: one zip per function, service then function patterns', async () => {
  const dir = await serviceDir({
    'serverless.yml': '',
    'a/handler.js': 'a',
    'b/handler.js': 'b',
    'shared/x.js': 'x',
  });
  const def = definition(
    [
      fn('alpha', 'a/handler.js', { package: { patterns: ['!b/**'] } }),
      fn('beta', 'b/handler.js', { package: { patterns: ['!a/**', '!shared/**', 'shared/x.js'] } }),
    ],
    { individually: true, patterns: ['!shared/**'] },
  );
  const result = await run(dir, def);
  assert.deepEqual(
    result.artifacts.map((a) => a.file),
    ['alpha.zip', 'beta.zip'],
  );
  assert.deepEqual(await zipNames(join(dir, '.serverless/alpha.zip')), ['a/handler.js']);
  assert.deepEqual(await zipNames(join(dir, '.serverless/beta.zip')), [
    'b/handler.js',
    'shared/x.js',
  ]);
  assert.notEqual(result.functionArtifacts.alpha, result.functionArtifacts.beta);
  const state = JSON.parse(await readFile(result.stateFile, 'utf8'));
  assert.deepEqual(state, {
    service: 'svc',
    stage: 'dev',
    region: 'local',
    package: {
      individually: true,
      artifacts: result.artifacts.map(({ file, sha256, size }) => ({ file, sha256, size })),
    },
    functions: { alpha: { artifact: 'alpha.zip' }, beta: { artifact: 'beta.zip' } },
    definition: JSON.parse(JSON.stringify(def)),
  });
});

test('function-level individually splits one function out of the shared zip', async () => {
  const dir = await serviceDir({ 'serverless.yml': '', 'a.js': 'a', 'b.js': 'b', 'c.js': 'c' });
  const def = definition([
    fn('a', 'a.js'),
    fn('b', 'b.js', { package: { patterns: ['!a.js', '!c.js'], individually: true } }),
    fn('c', 'c.js', { package: { patterns: ['!a.js'] } }), // ignored: not individually
  ]);
  const result = await run(dir, def);
  assert.deepEqual(
    result.artifacts.map((a) => a.file),
    ['b.zip', 'svc.zip'],
  );
  assert.deepEqual(await zipNames(join(dir, '.serverless/b.zip')), ['b.js']);
  assert.deepEqual(await zipNames(join(dir, '.serverless/svc.zip')), ['a.js', 'b.js', 'c.js']);
  assert.equal(result.functionArtifacts.a, result.functionArtifacts.c);
});

test('stale zips from an earlier run are removed', async () => {
  const dir = await serviceDir({
    'serverless.yml': '',
    'a.js': 'a',
    '.serverless/gone.zip': 'old',
  });
  await run(dir, definition([fn('a', 'a.js')], { individually: true }));
  assert.deepEqual((await readdir(join(dir, '.serverless'))).sort(), [
    'a.zip',
    'serverless-state.json',
  ]);
});

test('symlinks are followed inside the service dir and never out of it', async () => {
  const outside = await serviceDir({ 'secret.txt': 'do not ship', 'dir/s.txt': 'no' });
  const dir = await serviceDir({ 'serverless.yml': '', 'a.js': 'a', 'real/x.js': 'x' });
  await symlink(join(outside, 'secret.txt'), join(dir, 'leak.txt'));
  await symlink(join(outside, 'dir'), join(dir, 'leakdir'));
  await symlink('real', join(dir, 'alias'));
  await symlink('..', join(dir, 'real/loop'));
  await run(dir, definition([fn('a', 'a.js')]));
  const entries = await readZip(join(dir, '.serverless/svc.zip'));
  assert.deepEqual(
    entries.map((e) => e.name),
    ['a.js', 'alias/x.js', 'real/x.js'],
  );
});

test('dev dependencies are left out, shared and scoped ones handled', async () => {
  const pkg = (name: string, deps: Record<string, string> = {}) =>
    JSON.stringify({ name, version: '1.0.0', dependencies: deps });
  const files = {
    'serverless.yml': '',
    'a.js': 'a',
    'package.json': JSON.stringify({
      dependencies: { prod: '1', '@scope/runtime': '1' },
      devDependencies: { devtool: '1', '@types/thing': '1', both: '1' },
    }),
    'node_modules/prod/package.json': pkg('prod', { both: '1', nested: '1' }),
    'node_modules/prod/index.js': '',
    'node_modules/prod/node_modules/nested/package.json': pkg('nested', { 'deep-prod': '1' }),
    'node_modules/deep-prod/package.json': pkg('deep-prod'),
    'node_modules/@scope/runtime/package.json': pkg('@scope/runtime'),
    'node_modules/both/package.json': pkg('both'),
    'node_modules/devtool/package.json': pkg('devtool', { 'dev-helper': '1' }),
    'node_modules/devtool/bin.js': { content: '#!/usr/bin/env node\n', mode: 0o755 },
    'node_modules/dev-helper/package.json': pkg('dev-helper'),
    'node_modules/@types/thing/package.json': pkg('@types/thing'),
    'node_modules/@types/thing/index.d.ts': '',
    'node_modules/stray/package.json': pkg('stray'),
  };
  const dir = await serviceDir(files);
  await mkdir(join(dir, 'node_modules/.bin'));
  await symlink('../devtool/bin.js', join(dir, 'node_modules/.bin/devtool'));
  await run(dir, definition([fn('a', 'a.js')]));
  const expected = [
    'a.js',
    'node_modules/@scope/runtime/package.json',
    'node_modules/both/package.json',
    'node_modules/deep-prod/package.json',
    'node_modules/prod/index.js',
    'node_modules/prod/node_modules/nested/package.json',
    'node_modules/prod/package.json',
    'node_modules/stray/package.json',
    'package.json',
  ];
  assert.deepEqual(await zipNames(join(dir, '.serverless/svc.zip')), expected);

  await run(dir, definition([fn('a', 'a.js')], { excludeDevDependencies: false }));
  const all = await zipNames(join(dir, '.serverless/svc.zip'));
  assert.ok(all.includes('node_modules/devtool/bin.js'));
  assert.ok(all.includes('node_modules/.bin/devtool'));
  assert.ok(all.includes('node_modules/@types/thing/index.d.ts'));
});

test('package.artifact is copied as-is and hashed; functions may have their own', async () => {
  const prebuilt = rawZip([{ name: 'index.js', data: 'exports.h = 1' }]);
  const own = rawZip([{ name: 'main.py', data: 'def h(): pass' }]);
  const dir = await serviceDir({ 'serverless.yml': '', 'a.js': 'a' });
  await mkdir(join(dir, 'build'));
  await writeFile(join(dir, 'build/app.zip'), prebuilt);
  await writeFile(join(dir, 'build/py.zip'), own);
  const def = definition(
    [
      fn('a', 'a.js'),
      fn('b', 'b.js'),
      fn('py', 'main.py', {
        runtimeFamily: 'python',
        package: { patterns: [], artifact: 'build/py.zip' },
      }),
    ],
    { artifact: 'build/app.zip' },
  );
  const result = await run(dir, def);
  assert.deepEqual(
    result.artifacts.map((a) => a.file),
    ['app.zip', 'py.zip'],
  );
  assert.deepEqual(await readFile(join(dir, '.serverless/app.zip')), prebuilt);
  const state = JSON.parse(await readFile(result.stateFile, 'utf8'));
  assert.deepEqual(state.functions, {
    a: { artifact: 'app.zip' },
    b: { artifact: 'app.zip' },
    py: { artifact: 'py.zip' },
  });
  assert.equal(result.functionArtifacts.a, result.artifacts[0]!.sha256);
  assert.equal(result.functionArtifacts.py, result.artifacts[1]!.sha256);
});

test('a missing package.artifact is an error naming it', async () => {
  const dir = await serviceDir({ 'serverless.yml': '', 'a.js': 'a' });
  await assert.rejects(
    run(dir, definition([fn('a', 'a.js')], { artifact: 'build/nope.zip' })),
    (err) => {
      assert.ok(err instanceof PackagingError);
      assert.equal(err.code, 'NIMBUS_PACKAGING_ARTIFACT_MISSING');
      assert.match(err.message, /build\/nope\.zip/);
      return true;
    },
  );
});

test('an unsafe package.artifact is refused with its name', async () => {
  const dir = await serviceDir({ 'serverless.yml': '', 'a.js': 'a' });
  await writeFile(join(dir, 'evil.zip'), rawZip([{ name: '../escape.js', data: 'x' }]));
  await assert.rejects(run(dir, definition([fn('a', 'a.js')], { artifact: 'evil.zip' })), (err) => {
    assert.ok(err instanceof ZipRejectedError);
    assert.equal(err.code, 'NIMBUS_ARTIFACT_UNSAFE_PATH');
    assert.match(err.message, /evil\.zip/);
    assert.match(err.message, /\.\.\/escape\.js/);
    return true;
  });
});

test('two artifacts with the same file name are a conflict', async () => {
  const dir = await serviceDir({ 'serverless.yml': '', 'a.js': 'a', 'x/a.zip': '', 'y/a.zip': '' });
  await writeFile(join(dir, 'x/a.zip'), rawZip([{ name: 'a', data: '' }]));
  const def = definition(
    [fn('a', 'a.js'), fn('b', 'a.js', { package: { patterns: [], artifact: 'x/a.zip' } })],
    {
      individually: true,
    },
  );
  await assert.rejects(run(dir, def), { code: 'NIMBUS_PACKAGING_ARTIFACT_CONFLICT' });
});
