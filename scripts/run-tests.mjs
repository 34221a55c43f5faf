#!/usr/bin/env node
// Runs every compiled test file with Node's own test runner. Node 20's --test does not
// take globs, so the file list is gathered here. Arguments filter files by substring.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...collect(full));
    else if (name.endsWith('.test.js')) out.push(full);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = collect('dist/test')
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// NIMBUS_TEST_REPORTER=tap (or spec, dot, ...) picks one of Node's own reporters instead of the
// concise one, e.g. for a tool that reads TAP.
const reporter =
  process.env.NIMBUS_TEST_REPORTER ?? new URL('./concise-reporter.mjs', import.meta.url).href;
const result = spawnSync(
  process.execPath,
  [
    '--enable-source-maps',
    '--test',
    `--test-reporter=${reporter}`,
    '--test-reporter-destination=stdout',
    '--test-concurrency=2',
    // A test that hangs (a child that never answers) fails after 3 minutes instead of holding CI.
    '--test-timeout=180000',
    ...files,
  ],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      // The AWS SDK clients in tests warn that future releases need Node 22; Nimbus supports 20.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
);
process.exit(result.status ?? 1);
