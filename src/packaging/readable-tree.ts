/**
 * Extracted function code must be readable (and its directories traversable) by the function
 * user, `nobody` when the platform runs as root, whatever umask the platform or the zip had.
 */
import { chmod, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Directories 0755, executables 0755, other files 0644; symlinks left alone (never followed). */
export async function makeTreeReadable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await lstat(path);
    if (info.isSymbolicLink()) continue;
    if (info.isDirectory()) await makeTreeReadable(path);
    else await chmod(path, info.mode & 0o100 ? 0o755 : 0o644);
  }
}
