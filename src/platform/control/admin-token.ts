import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const adminTokenFileName = 'admin-token';

/**
 * The admin token is NIMBUS_ADMIN_TOKEN when the operator sets one; otherwise it is made once,
 * on first start, and kept in the data dir readable by its owner only, so the CLI on the same
 * machine (same user) can find it and nobody else can.
 */
export async function loadOrCreateAdminToken(
  dataDir: string,
  fromEnv: string | undefined,
): Promise<{ token: string; source: 'env' | 'file' | 'generated'; file: string }> {
  const file = join(dataDir, adminTokenFileName);
  if (fromEnv) return { token: fromEnv, source: 'env', file };
  try {
    const token = (await readFile(file, 'utf8')).trim();
    if (token) return { token, source: 'file', file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const token = `nimbus_${randomBytes(32).toString('base64url')}`;
  // 'wx' so two servers starting at once cannot overwrite each other's token.
  try {
    await writeFile(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return { token: (await readFile(file, 'utf8')).trim(), source: 'file', file };
    }
    throw error;
  }
  await chmod(file, 0o600);
  return { token, source: 'generated', file };
}

/** Compares in constant time so the token cannot be guessed byte by byte from timings. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length).trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
