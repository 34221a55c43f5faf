import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';

/** One regular file found under the service directory. */
export interface WalkedFile {
  /** Path relative to the service directory, forward slashes: the name inside the zip. */
  path: string;
  /** Absolute path to read the bytes from (the link target for a symlinked file). */
  source: string;
  /** The owner may execute it: stored as 0755 instead of 0644. */
  executable: boolean;
}

export interface WalkOptions {
  /** Directories (relative, forward slashes) not to descend into at all, for speed. */
  pruneDir: (relDir: string) => boolean;
}

/**
 * Lists every regular file under `root`, sorted by path. Symlinks are followed only while they
 * stay inside `root` (a link to ../secrets must not ship it); a linked file is stored as a copy
 * under the link's own path, a linked directory is walked under the link's path unless it is
 * one of its own ancestors (cycle). Sockets, FIFOs and dangling links are skipped.
 */
export async function walkFiles(root: string, options: WalkOptions): Promise<WalkedFile[]> {
  const realRoot = await realpath(root);
  const inside = (p: string) => p === realRoot || p.startsWith(realRoot + sep);
  const out: WalkedFile[] = [];

  const visit = async (dir: string, rel: string, ancestors: Set<string>): Promise<void> => {
    const dirents: Dirent[] = await readdir(dir, { withFileTypes: true });
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const dirent of dirents) {
      const abs = join(dir, dirent.name);
      const relPath = rel === '' ? dirent.name : `${rel}/${dirent.name}`;
      let source = abs;
      let isDir = dirent.isDirectory();
      let isFile = dirent.isFile();
      if (dirent.isSymbolicLink()) {
        const real = await realpath(abs).catch(() => undefined);
        if (real === undefined || !inside(real)) continue;
        const info = await stat(real);
        source = real;
        isDir = info.isDirectory();
        isFile = info.isFile();
      }
      if (isDir) {
        if (options.pruneDir(relPath)) continue;
        const realDir = await realpath(source);
        if (ancestors.has(realDir)) continue;
        await visit(source, relPath, new Set([...ancestors, realDir]));
      } else if (isFile) {
        const info = await stat(source);
        out.push({ path: relPath, source, executable: (info.mode & 0o100) !== 0 });
      }
    }
  };

  await visit(realRoot, '', new Set([realRoot]));
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
