/**
 * Which node and python3 executables run functions. A function process may run as another user
 * (runAsUser), and an interpreter under a private home (pyenv in /root, nvm in ~/.nvm) is then
 * out of its reach, so each candidate is checked for that user and the first usable one wins.
 */
import { execFileSync } from 'node:child_process';
import { realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { InstanceError } from './instance-errors.js';

export interface RunAs {
  uid: number;
  gid: number;
}

const cache = new Map<string, string>();

export function nodeInterpreter(runAs: RunAs | undefined): string {
  return pick('node', [process.execPath, '/usr/local/bin/node', '/usr/bin/node'], runAs);
}

export function pythonInterpreter(runAs: RunAs | undefined): string {
  return pick('python3', [pythonOnPath(), '/usr/local/bin/python3', '/usr/bin/python3'], runAs);
}

function pick(name: string, candidates: (string | undefined)[], runAs: RunAs | undefined): string {
  const key = `${name}:${runAs ? `${runAs.uid}:${runAs.gid}` : '-'}`;
  const known = cache.get(key);
  if (known) return known;
  for (const candidate of candidates) {
    if (!candidate) continue;
    const real = realpathOrUndefined(candidate);
    if (real && canExecute(real, runAs)) {
      cache.set(key, real);
      return real;
    }
  }
  const who = runAs ? ` by uid ${runAs.uid}` : '';
  throw new InstanceError(
    'NIMBUS_INSTANCE_SPAWN_FAILED',
    `no ${name} executable${who} found (tried ${candidates.filter(Boolean).join(', ')})`,
  );
}

let pythonFound: string | null | undefined;

/** python3 on the platform's PATH may be a shim (pyenv): ask it for the real executable, once. */
function pythonOnPath(): string | undefined {
  if (pythonFound === undefined) {
    try {
      pythonFound = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 5000,
      }).trim();
    } catch {
      pythonFound = null;
    }
  }
  return pythonFound ?? undefined;
}

function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** Search permission on every ancestor and execute permission on the file, for that uid/gid. */
export function canExecute(path: string, runAs: RunAs | undefined): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    if (!runAs || runAs.uid === 0) return true;
    let current = path;
    for (;;) {
      if (!permits(current, runAs, 1)) return false;
      const up = dirname(current);
      if (up === current) return true;
      current = up;
    }
  } catch {
    return false;
  }
}

/** `bit` is 4 (read), 2 (write) or 1 (execute/search). */
export function permits(path: string, runAs: RunAs, bit: number): boolean {
  const st = statSync(path);
  if (st.uid === runAs.uid) return (st.mode & (bit << 6)) !== 0;
  if (st.gid === runAs.gid) return (st.mode & (bit << 3)) !== 0;
  return (st.mode & bit) !== 0;
}
