import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { defaultDataDir, defaultEndpoint } from '../platform/config.js';
import { adminTokenFileName } from '../platform/control/admin-token.js';
import { CliError } from './cli-error.js';

export interface ResolvedEndpoint {
  endpoint: string;
  token?: string;
  /** Where the endpoint came from, for --verbose. */
  source: string;
}

/**
 * A region is the name of a Nimbus platform endpoint. The CLI picks one from, in order:
 * NIMBUS_ENDPOINT / NIMBUS_TOKEN, the region's entry in ~/.nimbus/config.yml, or the local
 * default, whose token it reads from the local data dir (same user, mode 0600).
 */
export async function resolveEndpoint(
  region: string,
  env: Record<string, string | undefined>,
): Promise<ResolvedEndpoint> {
  if (env.NIMBUS_ENDPOINT) {
    return { endpoint: env.NIMBUS_ENDPOINT, token: env.NIMBUS_TOKEN, source: 'NIMBUS_ENDPOINT' };
  }
  const configFile = join(env.HOME ?? homedir(), '.nimbus', 'config.yml');
  const entry = await readRegionEntry(configFile, region);
  if (entry) {
    return {
      endpoint: entry.endpoint,
      token: env.NIMBUS_TOKEN ?? entry.token,
      source: `${configFile} (region ${region})`,
    };
  }
  const token = env.NIMBUS_TOKEN ?? (await readLocalToken(env));
  return { endpoint: defaultEndpoint, token, source: 'default local endpoint' };
}

async function readRegionEntry(
  file: string,
  region: string,
): Promise<{ endpoint: string; token?: string } | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new CliError(`${file}: ${(error as Error).message}`);
  }
  const entry = (doc as { regions?: Record<string, unknown> } | null)?.regions?.[region];
  if (entry === undefined) return undefined;
  const { endpoint, token } = (entry ?? {}) as { endpoint?: unknown; token?: unknown };
  if (typeof endpoint !== 'string' || !/^https?:\/\//.test(endpoint)) {
    throw new CliError(`${file}: regions.${region}.endpoint must be an http(s) URL`);
  }
  if (token !== undefined && typeof token !== 'string') {
    throw new CliError(`${file}: regions.${region}.token must be a string`);
  }
  return { endpoint, ...(token ? { token } : {}) };
}

async function readLocalToken(
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  try {
    return (await readFile(join(defaultDataDir(env), adminTokenFileName), 'utf8')).trim();
  } catch {
    return undefined;
  }
}
