import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/repo-root.js';

/** README.md and every page under docs/. */
function pages(): string[] {
  const out = [join(repoRoot, 'README.md')];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.md')) out.push(full);
    }
  };
  walk(join(repoRoot, 'docs'));
  return out;
}

test('documentation links stay inside the repository and point at files that exist', () => {
  const problems: string[] = [];
  for (const page of pages()) {
    const text = readFileSync(page, 'utf8');
    for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1]!;
      const where = relative(repoRoot, page);
      if (/^[a-z]+:/i.test(target)) {
        problems.push(`${where}: ${target} points outside the repository`);
        continue;
      }
      const file = target.split('#')[0]!;
      if (file === '') continue;
      const full = resolve(dirname(page), file);
      if (!full.startsWith(repoRoot) || !existsSync(full)) {
        problems.push(`${where}: ${target} does not exist`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
