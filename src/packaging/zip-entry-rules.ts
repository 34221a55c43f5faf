import { posix } from 'node:path';
import type { Entry } from 'yauzl';
import { ZipRejectedError } from './zip-rejected-error.js';

/**
 * Pure checks on one zip entry: its name, whether it is a symlink, where a symlink points.
 * Kept free of I/O so inspectZip and extractZip apply exactly the same rules.
 */

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;

/** Why `name` may not be extracted, or null when it is safe. */
export function unsafeNameReason(name: string): string | null {
  if (name.includes('\0')) return 'contains a NUL character';
  if (name.length === 0) return 'is empty';
  // Both separators count: zips made on Windows use backslashes, and an extractor that
  // converts them (yauzl does) would otherwise turn `..\x` into `../x` after our check.
  if (/^[\\/]/.test(name)) return 'is an absolute path';
  if (/^[a-zA-Z]:/.test(name)) return 'is an absolute path (drive letter)';
  if (name.split(/[\\/]/).includes('..')) return 'contains a ".." segment';
  return null;
}

/** Throws NIMBUS_ARTIFACT_UNSAFE_PATH if the entry name is unsafe. */
export function assertSafeName(name: string): void {
  const reason = unsafeNameReason(name);
  if (reason !== null) {
    throw new ZipRejectedError(
      'NIMBUS_ARTIFACT_UNSAFE_PATH',
      `zip entry ${JSON.stringify(name)} ${reason}`,
      name,
    );
  }
}

/** Unix file type bits live in the high 16 bits of the external attributes. */
function unixType(entry: Entry): number {
  return (entry.externalFileAttributes >>> 16) & S_IFMT;
}

export function isSymlinkEntry(entry: Entry): boolean {
  return unixType(entry) === S_IFLNK;
}

export function isDirectoryEntry(entry: Entry): boolean {
  return entry.fileName.endsWith('/') || unixType(entry) === S_IFDIR;
}

/** 0755 when the owner may execute the file, else 0644; nothing else (no setuid, no 0777). */
export function fileModeOf(entry: Entry): number {
  return (entry.externalFileAttributes >>> 16) & 0o100 ? 0o755 : 0o644;
}

/** A symlink target longer than this is not a path anyone means; refuse rather than read it. */
export const maxSymlinkTargetBytes = 4096;

/**
 * Throws NIMBUS_ARTIFACT_UNSAFE_PATH when a symlink stored as `linkName` with content `target`
 * points outside the extraction root. This is the lexical check; extractZip also resolves the
 * links it created, which catches chains such as `a -> .` plus `b -> a/..`.
 */
export function assertSymlinkInside(linkName: string, target: string): void {
  const refuse = (why: string): never => {
    throw new ZipRejectedError(
      'NIMBUS_ARTIFACT_UNSAFE_PATH',
      `zip entry ${JSON.stringify(linkName)} is a symlink to ${JSON.stringify(target)}, ${why}`,
      linkName,
    );
  };
  if (target.length === 0 || target.includes('\0')) refuse('which is not a valid path');
  if (/^[\\/]/.test(target) || /^[a-zA-Z]:/.test(target)) refuse('an absolute path');
  const base = posix.dirname(linkName.replace(/\\/g, '/').replace(/\/+$/, ''));
  const resolved = posix.normalize(posix.join(base, target.replace(/\\/g, '/')));
  if (resolved === '..' || resolved.startsWith('../')) refuse('which points outside the artifact');
}

/**
 * yauzl validates names itself and reports plain Errors ("absolute path: /x", "invalid relative
 * path: ../x"). Give them our codes, keeping the entry name; anything else means a broken zip.
 */
export function mapReaderError(err: unknown): ZipRejectedError {
  if (err instanceof ZipRejectedError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const named =
    /^(absolute path|invalid relative path|invalid characters in fileName): (.*)$/s.exec(message);
  if (named) {
    const entry = named[2] ?? '';
    return new ZipRejectedError(
      'NIMBUS_ARTIFACT_UNSAFE_PATH',
      `zip entry ${JSON.stringify(entry)} refused: ${named[1]}`,
      entry,
      { cause: err },
    );
  }
  return new ZipRejectedError(
    'NIMBUS_ARTIFACT_INVALID',
    `not a readable zip: ${message}`,
    undefined,
    {
      cause: err,
    },
  );
}
