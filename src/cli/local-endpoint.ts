import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The file in a data dir that says where the platform using that dir listens. `nimbus server`
 * and `nimbus dev` write it, so that the CLI of the same user finds a platform on any port
 * without NIMBUS_ENDPOINT (the token is already next to it, in `admin-token`).
 */
export const endpointFileName = 'endpoint';

/** Records `url` for local CLIs; an address that listens everywhere is reached on loopback. */
export async function recordLocalEndpoint(dataDir: string, url: string): Promise<string> {
  const reachable = reachableUrl(url);
  await writeFile(join(dataDir, endpointFileName), `${reachable}\n`, { mode: 0o644 });
  return reachable;
}

export async function readLocalEndpoint(dataDir: string): Promise<string | undefined> {
  try {
    const text = (await readFile(join(dataDir, endpointFileName), 'utf8')).trim();
    return /^https?:\/\/\S+$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/** `http://0.0.0.0:9000` → `http://127.0.0.1:9000`; `[::]` → `[::1]`. */
export function reachableUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.hostname === '0.0.0.0') parsed.hostname = '127.0.0.1';
  else if (parsed.hostname === '[::]') parsed.hostname = '[::1]';
  return parsed.origin;
}
