import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { defaultDataDir, defaultEndpoint } from '../platform/config.js';
import { adminTokenFileName } from '../platform/control/admin-token.js';
import { CliError } from './cli-error.js';
import { readLocalEndpoint } from './local-endpoint.js';

export interface ResolvedEndpoint {
  endpoint: string;
  token?: string;
  /** Where the endpoint came from, for --verbose. */
  source: string;
}

/** The region of a service whose serverless.yml names none (as normalize-service defaults it). */
export const defaultRegion = 'us-east-1';

/** ~/.nimbus/config.yml, where `nimbus login` saves endpoints and tokens by region. */
export function cliConfigFile(env: Record<string, string | undefined>): string {
  return join(env.HOME ?? homedir(), '.nimbus', 'config.yml');
}

/**
 * A region is the name of a Nimbus platform endpoint. The CLI picks one from, in order:
 * NIMBUS_ENDPOINT / NIMBUS_TOKEN, the region's entry in ~/.nimbus/config.yml, or the local
 * platform: the endpoint `nimbus server` recorded in the local data dir (else port 8642), with
 * the token from the same dir (same user, mode 0600).
 */
export async function resolveEndpoint(
  region: string,
  env: Record<string, string | undefined>,
): Promise<ResolvedEndpoint> {
  if (env.NIMBUS_ENDPOINT) {
    const endpoint = normalizeEndpoint(env.NIMBUS_ENDPOINT, 'NIMBUS_ENDPOINT');
    // The local token only ever goes to this machine: never to a remote endpoint by accident.
    const token =
      env.NIMBUS_TOKEN ?? (isLoopback(endpoint) ? await readLocalToken(env) : undefined);
    return { endpoint, ...(token ? { token } : {}), source: 'NIMBUS_ENDPOINT' };
  }
  const configFile = cliConfigFile(env);
  const entry = await readRegionEntry(configFile, region);
  if (entry) {
    const token = env.NIMBUS_TOKEN ?? entry.token;
    return {
      endpoint: entry.endpoint,
      ...(token ? { token } : {}),
      source: `${configFile} (region ${region})`,
    };
  }
  const dataDir = defaultDataDir(env);
  const token = env.NIMBUS_TOKEN ?? (await readLocalToken(env));
  const recorded = await readLocalEndpoint(dataDir);
  return {
    endpoint: recorded ?? defaultEndpoint,
    ...(token ? { token } : {}),
    source: recorded ? `recorded by nimbus server in ${dataDir}` : 'default local endpoint',
  };
}

/**
 * `host:port` and `http://host:port/` both mean `http://host:port`; anything but http(s) is an
 * error naming where the value came from.
 */
export function normalizeEndpoint(raw: string, where: string): string {
  const text = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(`${where}: "${raw}" is not a URL; write it as http://host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`${where}: "${raw}" must be an http:// or https:// URL`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
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
  if (typeof endpoint !== 'string') {
    throw new CliError(`${file}: regions.${region}.endpoint must be an http(s) URL`);
  }
  const where = `${file}: regions.${region}.endpoint`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) && !/^https?:\/\//i.test(endpoint)) {
    throw new CliError(`${where} must be an http(s) URL`);
  }
  if (token !== undefined && typeof token !== 'string') {
    throw new CliError(`${file}: regions.${region}.token must be a string`);
  }
  return { endpoint: normalizeEndpoint(endpoint, where), ...(token ? { token } : {}) };
}

/** The admin token of the platform whose data dir is `dataDir` (default: the local one). */
export async function readLocalToken(
  env: Record<string, string | undefined>,
  dataDir = defaultDataDir(env),
): Promise<string | undefined> {
  try {
    return (await readFile(join(dataDir, adminTokenFileName), 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}
