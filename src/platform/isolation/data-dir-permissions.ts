import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { IsolationError } from './isolation-error.js';

/**
 * Makes the data dir private to the platform's user before anything is read from it: the dir
 * and every dir under it 0700, every file 0600. It holds the store (whose WAL keeps recent rows,
 * function secrets included), the admin token, the master key and the artifacts; a data dir made
 * with a plain `mkdir -p` is 0755 and would let every function read them.
 *
 * Refuses (IsolationError) when the modes cannot be set or do not stick (a dir owned by another
 * user, a file system without Unix modes): starting anyway would expose all of it.
 */
export async function secureDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await tighten(dataDir, 0o700);
  } catch (error) {
    if (error instanceof IsolationError) throw error;
    throw new IsolationError(
      `cannot make the data dir ${dataDir} private (0700, files 0600): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

async function tighten(path: string, mode: number, top = true): Promise<void> {
  const info = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    // An entry that went between readdir and lstat (SQLite's -shm/-wal, removed when the last
    // connection of a platform that just stopped closes) has nothing left to protect.
    if (!top && error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (info === undefined || info.isSymbolicLink()) return;
  if ((info.mode & 0o777) !== mode) {
    try {
      await chmod(path, mode);
    } catch (error) {
      if (!top && (error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const after = (await lstat(path)).mode & 0o777;
    if (after !== mode) {
      throw new IsolationError(
        `${path} stays mode ${after.toString(8)} after chmod ${mode.toString(8)}: the data dir ` +
          'must be on a file system with Unix permissions',
      );
    }
  }
  if (!info.isDirectory()) return;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.isSymbolicLink()) continue;
    await tighten(join(path, entry.name), entry.isDirectory() ? 0o700 : 0o600, false);
  }
}
