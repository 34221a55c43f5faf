/**
 * Keeps the error catalogue honest: the registry (src/errors/codes.ts), the table in
 * docs/errors.md and the code literals in src must all name the same codes.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { errorCodes } from '../../src/errors/codes.js';
import { repoRoot } from '../helpers/repo-root.js';

const srcDir = join(repoRoot, 'src');
const registryFile = join('src', 'errors', 'codes.ts');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

const sources = sourceFiles(srcDir)
  .map((file) => ({ file: relative(repoRoot, file), text: readFileSync(file, 'utf8') }))
  .filter((s) => s.file !== registryFile);

const registry = new Map<string, number | null>(Object.entries(errorCodes));

/** `| \`NIMBUS_X\` | 404 | ... |` rows of docs/errors.md; `—` is no status. */
function documentedCodes(): Map<string, number | null> {
  const text = readFileSync(join(repoRoot, 'docs', 'errors.md'), 'utf8');
  const rows = new Map<string, number | null>();
  for (const match of text.matchAll(/^\|\s*`(NIMBUS_[A-Z0-9_]+)`\s*\|\s*([^|]*?)\s*\|/gm)) {
    const [, code, status] = match;
    assert.ok(!rows.has(code!), `${code} is listed twice in docs/errors.md`);
    rows.set(code!, status === '—' ? null : Number(status));
  }
  return rows;
}

/** Names the platform reads as environment variables (`env.NIMBUS_X`): not error codes. */
const environmentVariables = new Set(
  sources.flatMap((s) => [...s.text.matchAll(/env\.(NIMBUS_[A-Z0-9_]+)/g)].map((m) => m[1]!)),
);

function codeLiterals(): { code: string; file: string }[] {
  return sources.flatMap((s) =>
    [...s.text.matchAll(/['"`](NIMBUS_[A-Z0-9_]+)['"`]/g)].map((m) => ({
      code: m[1]!,
      file: s.file,
    })),
  );
}

describe('error catalogue', () => {
  test('docs/errors.md lists every registered code with its status, and nothing else', () => {
    const docs = documentedCodes();
    const undocumented = [...registry.keys()].filter((code) => !docs.has(code));
    const unregistered = [...docs.keys()].filter((code) => !registry.has(code));
    assert.deepEqual(undocumented, [], 'registered in src/errors/codes.ts, missing from the docs');
    assert.deepEqual(unregistered, [], 'in docs/errors.md, missing from src/errors/codes.ts');
    for (const [code, status] of registry) {
      assert.equal(docs.get(code), status, `${code}: docs/errors.md disagrees on the status`);
    }
  });

  test('every NIMBUS_ literal in src is a registered code or an environment variable', () => {
    const strays = codeLiterals().filter(
      ({ code }) => !registry.has(code) && !environmentVariables.has(code),
    );
    assert.deepEqual(strays, [], 'declare these in src/errors/codes.ts and docs/errors.md');
  });

  test('every registered code is raised somewhere', () => {
    const used = new Set(codeLiterals().map((l) => l.code));
    assert.deepEqual(
      [...registry.keys()].filter((code) => !used.has(code)),
      [],
      'registered but never used: remove them from the registry and the docs',
    );
  });

  test('an HttpError names the status its code has in the registry', () => {
    const wrong: string[] = [];
    for (const s of sources) {
      for (const m of s.text.matchAll(/new HttpError\(\s*(\d+),\s*'(NIMBUS_[A-Z0-9_]+)'/g)) {
        if (registry.get(m[2]!) !== Number(m[1])) wrong.push(`${s.file}: ${m[1]} ${m[2]}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  test('server-side error classes extend NimbusError', () => {
    // Client-side (cli, client), in-function (runtimes) and internal config variable errors
    // never cross an edge; docs/errors.md says why.
    const exempt = [
      'src/errors/',
      'src/cli/',
      'src/client/',
      'src/runtimes/',
      'src/service/variables/',
    ];
    const plain = sources
      .filter((s) => !exempt.some((dir) => s.file.split('\\').join('/').startsWith(dir)))
      .flatMap((s) =>
        [...s.text.matchAll(/class (\w+) extends (?:Error|TypeError|RangeError)\b/g)].map(
          (m) => `${s.file}: ${m[1]}`,
        ),
      );
    assert.deepEqual(plain, []);
  });
});
