import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IsolationError } from '../isolation/isolation-error.js';

export const adminTokenFileName = 'admin-token';

/**
 * A token is visible ASCII, at least 16 characters: anything an HTTP header carries unchanged,
 * and never empty (an empty token would let `Authorization: Bearer ` in).
 */
const usableToken = /^[\x21-\x7e]{16,4096}$/;

/**
 * The admin token is NIMBUS_ADMIN_TOKEN when the operator sets one; otherwise it is made once,
 * on first start, and kept in the data dir readable by its owner only, so the CLI on the same
 * machine (same user) can find it and nobody else can.
 *
 * A token that is empty, blank or otherwise unusable (a crash on first start, a full disk, an
 * operator truncating the file) stops the start with IsolationError: quietly making a new one
 * would lock out every client that has the old, and using it would let anyone in.
 */
export async function loadOrCreateAdminToken(
  dataDir: string,
  fromEnv: string | undefined,
): Promise<{ token: string; source: 'env' | 'file' | 'generated'; file: string }> {
  const file = join(dataDir, adminTokenFileName);
  if (fromEnv !== undefined) {
    return { token: checked(fromEnv, 'NIMBUS_ADMIN_TOKEN'), source: 'env', file };
  }
  try {
    return { token: checked(await readFile(file, 'utf8'), file), source: 'file', file };
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
      return { token: checked(await readFile(file, 'utf8'), file), source: 'file', file };
    }
    throw error;
  }
  await chmod(file, 0o600);
  return { token, source: 'generated', file };
}

/** Only the line break a file ends with (and ASCII blanks) go: never Unicode spaces. */
function checked(raw: string, where: string): string {
  const token = raw.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  if (usableToken.test(token)) return token;
  throw new IsolationError(
    token === ''
      ? `the admin token in ${where} is empty: write a token of 16 or more visible ASCII ` +
          'characters into it, or delete the file to have a new one made'
      : `the admin token in ${where} is not 16 to 4096 visible ASCII characters (no spaces)`,
  );
}

/**
 * Compares in constant time so the token cannot be guessed byte by byte from timings. The header
 * is taken as sent: no trimming (JavaScript's trim() would also drop U+00A0 and U+FEFF), and an
 * empty token matches nothing.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (!token || !header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length), 'utf8');
  const expected = Buffer.from(token, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
