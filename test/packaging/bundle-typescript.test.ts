import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { bundleOutputPath, isTypeScriptHandler } from '../../src/packaging/bundle-typescript.js';
import { PackagingError } from '../../src/packaging/errors.js';
import { packageService } from '../../src/packaging/package-service.js';
import { extractZip, lambdaZipLimits } from '../../src/packaging/zip-safety.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { definition, fn, readZip, writeTree, zipNames } from './service-fixture.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c();
});

async function tempDir(): Promise<string> {
  const tmp = await makeTempDir('nimbus-ts-');
  cleanups.push(tmp.cleanup);
  return tmp.dir;
}

const tsService = {
  'serverless.yml': 'service: svc\n',
  'package.json': JSON.stringify({ type: 'module', dependencies: { 'cjs-dep': '1' } }),
  'tsconfig.json': '{}',
  'src/handler.ts': [
    "import { greet } from './lib/greet.js';",
    "import cjs from 'cjs-dep';",
    'interface Event { name: string }',
    'export const hello = async (event: Event) => ({',
    '  statusCode: 200,',
    "  body: greet(event.name) + ' on ' + cjs.platform(),",
    '});',
    '',
  ].join('\n'),
  'src/lib/greet.ts': 'export const greet = (name: string): string => "hello " + name;\n',
  'src/types.d.ts': 'declare module "cjs-dep";\n',
  'src/handler.mjs': 'stale compiled output',
  'node_modules/cjs-dep/package.json': JSON.stringify({ name: 'cjs-dep', main: 'index.js' }),
  // CommonJS requiring a builtin: works in an ESM bundle only through the createRequire banner.
  'node_modules/cjs-dep/index.js':
    "const os = require('os');\nmodule.exports = { platform: () => os.platform() };\n",
};

test('naming: src/handler.ts -> src/handler.mjs; .d.ts and .js are not bundled', () => {
  assert.equal(bundleOutputPath('src/handler.ts'), 'src/handler.mjs');
  assert.equal(bundleOutputPath('api/x.mts'), 'api/x.mjs');
  assert.equal(bundleOutputPath('x.cts'), 'x.mjs');
  assert.ok(isTypeScriptHandler('src/handler.ts'));
  assert.ok(!isTypeScriptHandler('src/handler.js'));
  assert.ok(!isTypeScriptHandler('src/handler.d.ts'));
});

test('a TypeScript handler is bundled to <file>.mjs and the bundle runs', async () => {
  const dir = await tempDir();
  await writeTree(dir, tsService);
  const def = definition([fn('hello', 'src/handler.ts')]);
  const run = () =>
    packageService({
      serviceDir: dir,
      configPath: join(dir, 'serverless.yml'),
      definition: def,
      outDir: join(dir, '.serverless'),
    });
  const first = await run();
  const zipPath = join(dir, '.serverless/svc.zip');
  assert.deepEqual(await zipNames(zipPath), [
    'node_modules/cjs-dep/index.js',
    'node_modules/cjs-dep/package.json',
    'package.json',
    'src/handler.mjs',
    'tsconfig.json',
  ]);
  const bundle = (await readZip(zipPath)).find((e) => e.name === 'src/handler.mjs')!;
  const text = bundle.content.toString('utf8');
  assert.match(text, /sourceMappingURL=data:application\/json;base64,/);
  assert.ok(!text.includes(dir), 'no absolute paths in the bundle or its source map');

  const second = await run();
  assert.deepEqual(second.artifacts, first.artifacts, 'bundling is deterministic');

  const extracted = join(await tempDir(), 'code');
  await extractZip(await readFile(zipPath), extracted, lambdaZipLimits);
  const mod = (await import(pathToFileURL(join(extracted, 'src/handler.mjs')).href)) as {
    hello: (e: { name: string }) => Promise<{ statusCode: number; body: string }>;
  };
  assert.deepEqual(await mod.hello({ name: 'nimbus' }), {
    statusCode: 200,
    body: `hello nimbus on ${process.platform}`,
  });
});

test('a pattern can re-include the TypeScript sources', async () => {
  const dir = await tempDir();
  await writeTree(dir, tsService);
  const def = definition([fn('hello', 'src/handler.ts')], {
    patterns: ['src/**/*.ts', '!node_modules/**'],
  });
  await packageService({
    serviceDir: dir,
    configPath: join(dir, 'serverless.yml'),
    definition: def,
    outDir: join(dir, '.serverless'),
  });
  assert.deepEqual(await zipNames(join(dir, '.serverless/svc.zip')), [
    'package.json',
    'src/handler.mjs',
    'src/handler.ts',
    'src/lib/greet.ts',
    'src/types.d.ts',
    'tsconfig.json',
  ]);
});

test('individually: each TypeScript function gets only its own bundle', async () => {
  const dir = await tempDir();
  await writeTree(dir, {
    ...tsService,
    'src/other.ts': 'export const hello = (): number => 42;\n',
    'src/plain.js': 'export const hello = () => 1;\n',
  });
  const def = definition(
    [fn('hello', 'src/handler.ts'), fn('other', 'src/other.ts'), fn('plain', 'src/plain.js')],
    { individually: true, patterns: ['!node_modules/**', '!tsconfig.json', '!package.json'] },
  );
  await packageService({
    serviceDir: dir,
    configPath: join(dir, 'serverless.yml'),
    definition: def,
    outDir: join(dir, '.serverless'),
  });
  // src/handler.mjs here is the stale file on disk, not a bundle: only `other` was bundled.
  const other = await readZip(join(dir, '.serverless/other.zip'));
  assert.deepEqual(
    other.map((e) => e.name),
    ['src/handler.mjs', 'src/other.mjs', 'src/plain.js'],
  );
  assert.equal(other[0]!.content.toString(), 'stale compiled output');
  assert.deepEqual(await zipNames(join(dir, '.serverless/plain.zip')), [
    'src/handler.mjs',
    'src/handler.ts',
    'src/lib/greet.ts',
    'src/other.ts',
    'src/plain.js',
    'src/types.d.ts',
  ]);
});

test('an esbuild syntax error names the function, file and line', async () => {
  const dir = await tempDir();
  await writeTree(dir, {
    'serverless.yml': '',
    'src/broken.ts':
      'export const hello = async () => {\n  const x: number = 1;\n  return x +;\n};\n',
  });
  const def = definition([fn('broken', 'src/broken.ts')]);
  await assert.rejects(
    packageService({
      serviceDir: dir,
      configPath: join(dir, 'serverless.yml'),
      definition: def,
      outDir: join(dir, '.serverless'),
    }),
    (err) => {
      assert.ok(err instanceof PackagingError);
      assert.equal(err.code, 'NIMBUS_PACKAGING_BUNDLE_FAILED');
      assert.match(err.message, /function "broken"/);
      assert.match(err.message, /src\/broken\.ts:3:\d+: /);
      return true;
    },
  );
});

test('a missing import is reported the same way', async () => {
  const dir = await tempDir();
  await writeTree(dir, {
    'serverless.yml': '',
    'h.ts': "import { x } from './nope.js';\nexport const hello = () => x;\n",
  });
  const def = definition([fn('h', 'h.ts')]);
  await assert.rejects(
    packageService({
      serviceDir: dir,
      configPath: join(dir, 'serverless.yml'),
      definition: def,
      outDir: join(dir, '.serverless'),
    }),
    /h\.ts:1:\d+: Could not resolve "\.\/nope\.js"/,
  );
});

test('two functions with handlers in one TypeScript file share one bundle of it', async () => {
  const dir = await tempDir();
  await writeTree(dir, {
    'serverless.yml': '',
    'src/api.ts':
      'export const one = async (): Promise<number> => 1;\nexport const two = async (): Promise<number> => 2;\n',
    'src/api.mts': 'export const three = 3;\n',
  });
  const shared = [
    fn('one', 'src/api.ts', { handler: 'src/api.one' }),
    fn('two', 'src/api.ts', { handler: 'src/api.two' }),
  ];
  const run = (def: ReturnType<typeof definition>) =>
    packageService({
      serviceDir: dir,
      configPath: join(dir, 'serverless.yml'),
      definition: def,
      outDir: join(dir, '.serverless'),
    });
  const together = await run(definition(shared));
  assert.equal(together.functionArtifacts.one, together.functionArtifacts.two);
  const entries = await readZip(join(dir, '.serverless/svc.zip'));
  assert.deepEqual(
    entries.map((e) => e.name),
    ['src/api.mjs'],
  );
  const extracted = join(await tempDir(), 'code');
  await extractZip(await readFile(join(dir, '.serverless/svc.zip')), extracted, lambdaZipLimits);
  const mod = (await import(pathToFileURL(join(extracted, 'src/api.mjs')).href)) as {
    one: () => Promise<number>;
    two: () => Promise<number>;
  };
  assert.equal(await mod.one(), 1);
  assert.equal(await mod.two(), 2);

  // Individually, each function's zip holds its own bundle of the file.
  const apart = await run(definition(shared, { individually: true }));
  assert.deepEqual(
    apart.artifacts.map((a) => a.file),
    ['one.zip', 'two.zip'],
  );
  for (const file of ['one.zip', 'two.zip']) {
    assert.deepEqual(await zipNames(join(dir, '.serverless', file)), ['src/api.mjs']);
  }

  // Two different files that would bundle to one name are refused with both named.
  await assert.rejects(
    run(definition([...shared, fn('three', 'src/api.mts', { handler: 'src/api.three' })])),
    (err) => {
      assert.ok(err instanceof PackagingError);
      assert.equal(err.code, 'NIMBUS_PACKAGING_ARTIFACT_CONFLICT');
      assert.match(
        err.message,
        /src\/api\.ts and src\/api\.mts \(function "three"\) would both be bundled as src\/api\.mjs/,
      );
      return true;
    },
  );
});
