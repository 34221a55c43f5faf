import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatDiagnostics } from '../../src/packaging/type-check.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('nimbus package type-checks a TypeScript service that has a tsconfig.json', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  const env = () => ({ HOME: root });

  before(async () => {
    ({ dir: root, cleanup } = await makeTempDir());
  });
  after(() => cleanup());

  it('the template passes; a type error stops packaging with file:line:col', async () => {
    const created = await runCli(['create', '-t', 'nodejs-typescript', '-p', 'ts'], {
      cwd: root,
      env: env(),
    });
    assert.equal(created.code, 0, created.stderr);
    const cwd = join(root, 'ts');
    const ok = await runCli(['package'], { cwd, env: env() });
    assert.equal(ok.code, 0, ok.stderr);

    await writeFile(
      join(cwd, 'src', 'handler.ts'),
      'export const hello = async () => {\n  const n: number = "five";\n  return n;\n};\n',
    );
    const bad = await runCli(['package'], { cwd, env: env() });
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stderr.split('\n').slice(-3).join('\n'),
      "✖ TypeScript errors (tsc --noEmit):\n  src/handler.ts:2:9 error TS2322: Type 'string' is not assignable to type 'number'.\n",
    );
  });

  it('a service without tsconfig.json is not type-checked', async () => {
    const created = await runCli(['create', '-t', 'nodejs', '-p', 'js'], { cwd: root, env: env() });
    assert.equal(created.code, 0, created.stderr);
    const run = await runCli(['package'], { cwd: join(root, 'js'), env: env() });
    assert.equal(run.code, 0, run.stderr);
  });

  it('formats tsc lines as file:line:col and keeps continuation lines attached', () => {
    assert.deepEqual(
      formatDiagnostics(
        "src/a.ts(1,2): error TS2345: Argument of type 'x' is not assignable.\n" +
          "  Type 'x' is missing y.\nsrc/b.ts(10,1): error TS1005: ';' expected.\n",
      ),
      [
        "src/a.ts:1:2 error TS2345: Argument of type 'x' is not assignable. Type 'x' is missing y.",
        "src/b.ts:10:1 error TS1005: ';' expected.",
      ],
    );
  });
});
