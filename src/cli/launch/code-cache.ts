/**
 * A V8 code cache for the bundled CLI. Node 20 has no `module.enableCompileCache()` (that is 22+),
 * and compiling the bundle's code is about a third of every command's CPU time, so the launcher
 * compiles it with `vm.Script` and keeps the bytecode V8 made, one file per command (what a command
 * compiles depends on the command), to hand back to V8 on the next run.
 *
 * The cache holds code that will run, so it is used only from a directory this user owns and no
 * one else can write: `$NIMBUS_COMPILE_CACHE`, else `$XDG_CACHE_HOME/nimbus/compile`, else
 * `~/.cache/nimbus/compile`; created 0700, files written 0600 by rename. `NIMBUS_COMPILE_CACHE=off`
 * turns it off. A file, `<command>-<tag of the bundle's path>.bin`, records which bundle (its size,
 * mtime and inode) and which Node made it;
 * any other bundle or Node treats it as absent and overwrites it. Every failure only means no cache.
 */
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const magic = 'nimbus-code-cache-1';

export interface CodeCache {
  /** The bytecode V8 made for this bundle and this command, if a good one is there. */
  read(): Buffer | undefined;
  write(data: Buffer): void;
}

/** The private cache directory, or undefined when there is none to use. */
export function cacheDirectory(env: Record<string, string | undefined>): string | undefined {
  const configured = env.NIMBUS_COMPILE_CACHE;
  if (configured === 'off' || configured === '0') return undefined;
  let dir: string;
  if (configured) dir = configured;
  else if (env.XDG_CACHE_HOME) dir = join(env.XDG_CACHE_HOME, 'nimbus', 'compile');
  else {
    const home = env.HOME || homedir();
    if (!home) return undefined;
    dir = join(home, '.cache', 'nimbus', 'compile');
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return isPrivateDirectory(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** A real directory (not a link), owned by this user, that group and others cannot write. */
function isPrivateDirectory(dir: string): boolean {
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  return st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
}

/** The cache of `bundleFile` for one command (a file name made of `[a-z-]` only). */
export function codeCache(dir: string, bundleFile: string, command: string): CodeCache {
  const st = lstatSync(bundleFile);
  const key = `${magic} ${process.version} ${process.arch} ${st.size} ${st.mtimeMs} ${st.ino}\n`;
  // Named by the bundle's path too: two installed CLIs would otherwise overwrite each other's.
  const file = join(dir, `${command}-${pathTag(bundleFile)}.bin`);
  return {
    read() {
      try {
        const data = readFileSync(file);
        const header = Buffer.from(key);
        return data.subarray(0, header.length).equals(header)
          ? data.subarray(header.length)
          : undefined;
      } catch {
        return undefined;
      }
    },
    write(data) {
      const partial = `${file}.${process.pid}.tmp`;
      try {
        writeFileSync(partial, Buffer.concat([Buffer.from(key), data]), { mode: 0o600 });
        renameSync(partial, file);
      } catch {
        // A read-only or full disk: the next run compiles again, nothing worse.
      }
    },
  };
}

/** FNV-1a of the path, 8 hex digits: a name, not a secret (crypto would cost a module load). */
function pathTag(path: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) {
    hash ^= path.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** `deploy function -f x` → `deploy-function`; flags and values are not part of the name. */
export function commandKey(args: readonly string[]): string {
  const words: string[] = [];
  for (const arg of args) {
    if (!/^[a-z][a-z-]{0,30}$/.test(arg) || words.length === 2) break;
    words.push(arg);
  }
  return words.length > 0 ? words.join('-') : 'main';
}
