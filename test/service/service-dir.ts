import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigError } from '../../src/service/config-error.js';
import {
  type LoadedService,
  type LoadServiceOptions,
  loadService,
} from '../../src/service/load-service.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** Files of a throwaway service directory; a `src/handler.js` is added unless given. */
export type ServiceFiles = Record<string, string>;

const cleanups: (() => Promise<void>)[] = [];

/** Writes the files into a fresh temp dir; removed by `cleanupServiceDirs`. */
export async function writeServiceDir(files: ServiceFiles): Promise<string> {
  const { dir, cleanup } = await makeTempDir('nimbus-service-');
  cleanups.push(cleanup);
  const all = { 'src/handler.js': 'export const hello = () => 1;\n', ...files };
  for (const [name, content] of Object.entries(all)) {
    const full = join(dir, name);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
    if (name === 'bootstrap') await chmod(full, 0o755);
  }
  return dir;
}

export async function cleanupServiceDirs(): Promise<void> {
  await Promise.all(cleanups.splice(0).map((c) => c()));
}

/** Loads `serverless.yml` text (plus extra files) with empty options and env by default. */
export async function load(
  yml: string,
  extra: ServiceFiles = {},
  opts: Partial<LoadServiceOptions> = {},
): Promise<LoadedService> {
  const cwd = await writeServiceDir({ 'serverless.yml': yml, ...extra });
  return loadService({ cwd, options: {}, env: {}, ...opts });
}

/** Asserts that loading fails with exactly this ConfigError code and message. */
export async function assertConfigError(
  promise: Promise<unknown>,
  code: string,
  message: string,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.message, message);
    assert.equal(error.code, code);
    return true;
  });
}

/** Joins lines so YAML in tests reads top to bottom with visible line numbers. */
export function yml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}
