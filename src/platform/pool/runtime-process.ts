/**
 * One runtime OS process: spawned in its own process group (so a kill takes its children too),
 * optionally as an unprivileged user, with a scrubbed environment and its own temp dir, which is
 * removed once the process is gone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { InstanceError } from './instance-errors.js';
import { ProcMemory } from './instance-memory.js';
import { permits, type RunAs } from './runtime-interpreters.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  tmpDir: string;
  runAs: RunAs | undefined;
  /** Open fd 3 as a socketpair to the platform (Nimbus bootstraps). */
  control: boolean;
}

/** runAsUser applies only when the platform can switch users, that is, runs as root. */
export function effectiveRunAs(runAsUser: RunAs | undefined): RunAs | undefined {
  return runAsUser && process.getuid?.() === 0 ? runAsUser : undefined;
}

const STDERR_TAIL = 4096;
/** How long to wait, after exit, for the last stdout/stderr bytes before calling it closed. */
const DRAIN_MS = 50;

export class RuntimeProcess {
  readonly pid: number;
  readonly tmpDir: string;
  readonly memory: ProcMemory;
  readonly control: Socket | undefined;
  /** Resolves when the process has exited and its output has drained. */
  readonly exited: Promise<ExitInfo>;
  /** Resolves once the process is gone and its temp dir removed. */
  readonly closed: Promise<void>;
  exitInfo: ExitInfo | undefined;
  /** Set the moment the exit is known, before its output has drained (exitInfo waits for that). */
  exitSeen = false;
  /** Raw text the process wrote to fd 1 / fd 2 (not through its bootstrap). */
  onOutput: (kind: 'out' | 'err', text: string) => void = () => {};
  #stderrTail = '';

  constructor(child: ChildProcess, tmpDir: string) {
    this.pid = child.pid as number;
    this.tmpDir = tmpDir;
    this.memory = new ProcMemory(child.pid);
    this.control = child.stdio[3] as Socket | undefined;
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => this.onOutput('out', text));
    child.stderr?.on('data', (text: string) => {
      this.#stderrTail = (this.#stderrTail + text).slice(-STDERR_TAIL);
      this.onOutput('err', text);
    });
    this.exited = new Promise((resolve) => {
      let info: ExitInfo | undefined;
      const done = () => {
        if (!info || this.exitInfo) return;
        this.exitInfo = info;
        resolve(info);
      };
      child.once('exit', (code, signal) => {
        this.exitSeen = true;
        info = { code, signal };
        setTimeout(done, DRAIN_MS).unref();
      });
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        info ??= { code, signal };
        done();
      });
    });
    this.closed = this.exited.then(async () => {
      this.memory.close();
      this.control?.destroy();
      await rm(tmpDir, { recursive: true, force: true });
    });
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** The last few KB the process wrote to fd 2, for diagnosing a crash. */
  get stderrTail(): string {
    return this.#stderrTail;
  }

  /** SIGKILL to the whole process group. */
  kill(): void {
    if (this.exitInfo) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export function spawnRuntimeProcess(opts: SpawnOptions): Promise<RuntimeProcess> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(opts.command, opts.args, {
        cwd: opts.cwd,
        env: opts.env,
        stdio: opts.control ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
        detached: true,
        ...(opts.runAs ? { uid: opts.runAs.uid, gid: opts.runAs.gid } : {}),
      });
    } catch (err) {
      // Best effort: whatever is left goes with the run root on stop.
      rm(opts.tmpDir, { recursive: true, force: true }).catch(() => {});
      reject(spawnFailed(opts, err));
      return;
    }
    child.once('error', (err) => {
      // Best effort: whatever is left goes with the run root on stop.
      rm(opts.tmpDir, { recursive: true, force: true }).catch(() => {});
      reject(spawnFailed(opts, err));
    });
    child.once('spawn', () => resolve(new RuntimeProcess(child, opts.tmpDir)));
  });
}

function spawnFailed(opts: SpawnOptions, cause: unknown): InstanceError {
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new InstanceError(
    'NIMBUS_INSTANCE_SPAWN_FAILED',
    `could not start ${opts.command} in ${opts.cwd}: ${msg}`,
    { cause },
  );
}

const reachableRoots = new Set<string>();

/**
 * A fresh directory under tmpRoot, owned by the user the function runs as, mode 0700. tmpRoot
 * itself must let that user through (search permission on it and its ancestors).
 */
export async function makeInstanceTempDir(
  tmpRoot: string,
  label: string,
  runAs: RunAs | undefined,
): Promise<string> {
  await mkdir(tmpRoot, { recursive: true, mode: 0o711 });
  if (runAs) assertReachable(tmpRoot, runAs);
  const dir = await mkdtemp(join(tmpRoot, `${label}-`));
  if (runAs) await chown(dir, runAs.uid, runAs.gid);
  await chmod(dir, 0o700);
  return dir;
}

function assertReachable(tmpRoot: string, runAs: RunAs): void {
  const key = `${runAs.uid}:${runAs.gid}:${tmpRoot}`;
  if (reachableRoots.has(key)) return;
  let dir = tmpRoot;
  for (;;) {
    if (!permits(dir, runAs, 1)) {
      throw new InstanceError(
        'NIMBUS_INSTANCE_CONFIG',
        `uid ${runAs.uid} cannot reach the instance temp root ${tmpRoot}: ${dir} lacks search permission for it (chmod o+x)`,
      );
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  reachableRoots.add(key);
}
