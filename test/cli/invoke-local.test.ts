import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CliRun, runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const config = `service: local-svc
frameworkVersion: '3'
provider:
  name: aws
  runtime: nodejs20.x
  environment:
    FROM_CONFIG: config
functions:
  cjs:
    handler: handler.echo
  esm:
    handler: esm.handler
  ts:
    handler: src/typed.handler
  py:
    handler: py_handler.handler
    runtime: python3.12
  fails:
    handler: handler.fails
`;

const files: Record<string, string> = {
  'handler.js': `'use strict';
module.exports.echo = async (event, context) => {
  console.log('cjs says', JSON.stringify(event));
  return {
    event,
    isLocal: process.env.IS_LOCAL,
    fromConfig: process.env.FROM_CONFIG,
    extra: process.env.EXTRA,
    clientContext: context.clientContext,
  };
};
module.exports.fails = async () => {
  throw new TypeError('went wrong');
};
`,
  'esm.mjs': `export const handler = async (event) => ({ kind: 'esm', event });\n`,
  'src/typed.ts': `import { shout } from './shout.js';
interface Event { name?: string }
export const handler = async (event: Event): Promise<{ kind: string; text: string }> => ({
  kind: 'ts',
  text: shout(event.name ?? 'nobody'),
});
`,
  'src/shout.ts': `export const shout = (s: string): string => s.toUpperCase();\n`,
  'py_handler.py': `import os


def handler(event, context):
    print("py says", event)
    return {"kind": "py", "event": event, "isLocal": os.environ.get("IS_LOCAL")}
`,
  'event.json': `{"from": "file"}\n`,
};

describe('nimbus invoke local', () => {
  let root: string;
  let cwd: string;
  let env: Record<string, string>;
  let cleanup: () => Promise<void>;

  before(async () => {
    const tmp = await makeTempDir();
    root = tmp.dir;
    cleanup = tmp.cleanup;
    cwd = join(root, 'svc');
    await mkdir(join(cwd, 'src'), { recursive: true });
    await writeFile(join(cwd, 'serverless.yml'), config);
    for (const [name, text] of Object.entries(files)) await writeFile(join(cwd, name), text);
    await mkdir(join(root, 'home'));
    // No platform anywhere: invoke local must not need one.
    env = { HOME: join(root, 'home'), NIMBUS_ENDPOINT: 'http://127.0.0.1:9' };
  });
  after(() => cleanup());

  const invoke = (...args: string[]) => runCli(['invoke', 'local', ...args], { cwd, env });
  const payload = (run: CliRun) => {
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout);
  };

  test('a CommonJS handler: event, IS_LOCAL, logs on stderr, 4-space JSON on stdout', async () => {
    const run = await invoke('-f', 'cjs', '-d', '{"a":1}');
    assert.deepEqual(payload(run), {
      event: { a: 1 },
      isLocal: 'true',
      fromConfig: 'config',
    });
    assert.match(run.stdout, /^{\n {4}"event": {\n {8}"a": 1\n {4}},/);
    assert.match(run.stderr, /^START$/m);
    assert.match(run.stderr, /\tINFO\tcjs says {"a":1}$/m);
    assert.match(run.stderr, /^END Duration: [\d.]+ ms/m);
  });

  test('an ES module handler', async () => {
    assert.deepEqual(payload(await invoke('-f', 'esm', '-d', '[1,2]')), {
      kind: 'esm',
      event: [1, 2],
    });
  });

  test('a TypeScript handler is bundled with its imports', async () => {
    assert.deepEqual(payload(await invoke('-f', 'ts', '-d', '{"name":"ada"}')), {
      kind: 'ts',
      text: 'ADA',
    });
  });

  test('a Python handler', async () => {
    const run = await invoke('-f', 'py', '-d', '{"n":2}');
    assert.deepEqual(payload(run), { kind: 'py', event: { n: 2 }, isLocal: 'true' });
    assert.match(run.stderr, /py says \{'n': 2\}/);
  });

  test('-e adds variables and wins over the configured ones', async () => {
    const run = await invoke('-f', 'cjs', '-e', 'EXTRA=x=1', '-e', 'FROM_CONFIG=cli');
    const out = payload(run);
    assert.equal(out.extra, 'x=1');
    assert.equal(out.fromConfig, 'cli');
    assert.deepEqual(out.event, {});
  });

  test('--raw passes JSON as a string; data that is not JSON is a string anyway', async () => {
    assert.equal(payload(await invoke('-f', 'cjs', '-d', '{"a":1}', '--raw')).event, '{"a":1}');
    assert.equal(payload(await invoke('-f', 'cjs', '-d', 'plain text')).event, 'plain text');
  });

  test('-p reads the event from a file; --context reaches context.clientContext', async () => {
    const out = payload(
      await invoke('-f', 'cjs', '-p', 'event.json', '--context', '{"custom":{"k":"v"}}'),
    );
    assert.deepEqual(out.event, { from: 'file' });
    assert.deepEqual(out.clientContext, { custom: { k: 'v' } });
  });

  test('a function error prints the error JSON and exits 1', async () => {
    const run = await invoke('-f', 'fails');
    assert.equal(run.code, 1);
    const error = JSON.parse(run.stdout);
    assert.equal(error.errorType, 'TypeError');
    assert.equal(error.errorMessage, 'went wrong');
    assert.match(run.stdout, /^{\n {4}"errorType"/);
    assert.match(run.stderr, /✖ Function "fails" failed: TypeError/);
  });

  test('an unknown function key is a clear error', async () => {
    const run = await invoke('-f', 'nope');
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(
      run.stderr,
      /✖ Function "nope" is not defined in this service; the functions of service "\S+" are: cjs, esm, ts, py, fails/,
    );
    const missing = await invoke();
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Missing -f <function>/);
  });

  test('leaves no temp dir behind', async () => {
    const before = new Set(await localDirs());
    assert.equal((await invoke('-f', 'cjs')).code, 0);
    assert.equal((await invoke('-f', 'fails')).code, 1);
    const left = (await localDirs()).filter((d) => !before.has(d));
    assert.deepEqual(left, []);
  });
});

async function localDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith('nimbus-local-'));
}
