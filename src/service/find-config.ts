import { access } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigError } from './config-error.js';

/** Looked up in this order, as the Serverless Framework does. */
export const CONFIG_FILE_NAMES = [
  'serverless.yml',
  'serverless.yaml',
  'serverless.json',
  'serverless.js',
  'serverless.cjs',
  'serverless.mjs',
  'serverless.ts',
] as const;

/** Absolute path of the service's config file, or a ConfigError naming what was searched. */
export async function findConfigFile(cwd: string, configPath?: string): Promise<string> {
  if (configPath) {
    const full = isAbsolute(configPath) ? configPath : resolve(cwd, configPath);
    if (await exists(full)) return full;
    throw new ConfigError({
      code: 'NIMBUS_CONFIG_NOT_FOUND',
      file: relative(cwd, full) || full,
      detail: 'config file not found',
    });
  }
  for (const name of CONFIG_FILE_NAMES) {
    const full = join(cwd, name);
    if (await exists(full)) return full;
  }
  throw new ConfigError({
    code: 'NIMBUS_CONFIG_NOT_FOUND',
    file: cwd,
    detail: `no ${CONFIG_FILE_NAMES.join(', ')} found in this directory`,
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
