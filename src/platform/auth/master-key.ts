import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NimbusError } from '../../errors/nimbus-error.js';

export const masterKeyFileName = 'master-key';
const keyBytes = 32;

export class MasterKeyError extends NimbusError {
  constructor(message: string) {
    super('NIMBUS_AUTH_BAD_MASTER_KEY', message);
  }
}

/**
 * The key that seals access-key secrets at rest: NIMBUS_MASTER_KEY when the operator sets one
 * (every node of a PostgreSQL cluster must share it), otherwise made once, on first start, and
 * kept in the data dir readable by its owner only, as the admin token is. Losing it makes every
 * stored access key unusable; the keys must then be created again.
 *
 * The text form is 32 bytes as base64 (44 characters) or hex (64 characters).
 */
export async function loadOrCreateMasterKey(
  dataDir: string,
  fromEnv: string | undefined,
): Promise<{ key: Buffer; source: 'env' | 'file' | 'generated'; file: string }> {
  const file = join(dataDir, masterKeyFileName);
  if (fromEnv) return { key: parseMasterKey(fromEnv, 'NIMBUS_MASTER_KEY'), source: 'env', file };
  const existing = await readKeyFile(file);
  if (existing !== undefined) return { key: parseMasterKey(existing, file), source: 'file', file };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(keyBytes);
  // 'wx' so two servers starting at once cannot overwrite each other's key.
  try {
    await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return { key: parseMasterKey((await readKeyFile(file)) ?? '', file), source: 'file', file };
    }
    throw error;
  }
  // The umask may have narrowed the mode but never widens it; chmod makes 0600 certain.
  await chmod(file, 0o600);
  return { key, source: 'generated', file };
}

/** 32 bytes from base64 or hex text; anything else is refused rather than padded or cut. */
export function parseMasterKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)
      ? Buffer.from(trimmed, 'base64')
      : undefined;
  if (key?.length !== keyBytes) {
    throw new MasterKeyError(
      `${where}: the master key must be 32 bytes as base64 (44 characters) or hex (64 characters)`,
    );
  }
  return key;
}

async function readKeyFile(file: string): Promise<string | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return text === '' ? undefined : text;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
