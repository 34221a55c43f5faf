import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../model/clock.js';
import type { FunctionTarget, LogEvent } from '../../model/invocation.js';
import { sweepUid } from '../isolation/uid-sweep.js';
import {
  type GenericRuntime,
  type Instance,
  type RunAs,
  startGenericRuntime,
  startInstance,
} from './instance.js';
import type { InstanceFactory, PoolInstance } from './instance-pool.js';

/** The unprivileged user functions run as when the platform runs as root (`nobody`). */
export const nobody: RunAs = { uid: 65534, gid: 65534 };

export interface ProcessFactoryOptions {
  tmpRoot: string;
  logger: Logger;
  clock: Clock;
  onLog: (event: LogEvent) => void;
  /** Booted, code-less runtime processes kept ready per family (node, python). Default 1. */
  prewarm?: number;
  /** Who runs a function whose target names no user of its own (root platform only). */
  runAsUser?: RunAs;
  /**
   * Called when the last instance of a uid is gone, to end whatever its processes left behind
   * (docs/security.md). Default: sweepUid, which kills every process of that uid.
   */
  onUidIdle?: (uid: number) => void;
  /** How long a function's init may take before it fails (Sandbox.Timedout). Default 10 s. */
  initTimeoutMs?: number;
}

export interface ProcessInstanceFactory {
  create: InstanceFactory;
  /** Boots the prewarm pools; optional (the first cold start boots them too). */
  warm(): void;
  close(): void;
}

/**
 * Makes process-backed instances. Node and Python instances come from a small pool of generic
 * runtimes that are already booted, so a cold start only loads the user's code; each one taken
 * is replaced in the background. `provided` runtimes are the user's own bootstrap and start
 * from scratch.
 */
export function processInstanceFactory(opts: ProcessFactoryOptions): ProcessInstanceFactory {
  const size = opts.prewarm ?? 1;
  const ready: Record<'nodejs' | 'python', GenericRuntime[]> = { nodejs: [], python: [] };
  const booting: Record<'nodejs' | 'python', number> = { nodejs: 0, python: 0 };
  let closed = false;
  const asRoot = process.getuid?.() === 0;
  const onUidIdle = opts.onUidIdle ?? ((uid: number) => sweepUid(uid));
  /** Instances per function uid, starting ones included: a uid at zero has nothing legitimate. */
  const live = new Map<number, number>();
  const hold = (uid: number) => live.set(uid, (live.get(uid) ?? 0) + 1);
  const letGo = (uid: number) => {
    const left = (live.get(uid) ?? 1) - 1;
    if (left > 0) {
      live.set(uid, left);
      return;
    }
    live.delete(uid);
    try {
      onUidIdle(uid);
    } catch (error) {
      opts.logger.warn({ err: error, uid }, 'sweeping the processes of a function uid failed');
    }
  };

  const refill = (family: 'nodejs' | 'python') => {
    while (!closed && ready[family].length + booting[family] < size) {
      booting[family]++;
      // As root a prewarmed runtime boots as root and becomes its function's own user when it
      // is specialized (before any user code loads), so one pool serves every uid.
      startGenericRuntime(family, {
        tmpRoot: opts.tmpRoot,
        ...(asRoot ? { interpreterUser: opts.runAsUser ?? nobody } : {}),
      })
        .then(
          (runtime) => {
            if (closed) runtime.kill();
            else {
              ready[family].push(runtime);
              // A prewarmed process that dies while waiting is dropped, and replaced.
              void runtime.closed.then(() => {
                const i = ready[family].indexOf(runtime);
                if (i >= 0) {
                  ready[family].splice(i, 1);
                  refill(family);
                }
              });
            }
          },
          (error) => opts.logger.warn({ err: error, family }, 'prewarming a runtime failed'),
        )
        .finally(() => {
          booting[family]--;
        });
    }
  };

  const create: InstanceFactory = async (target: FunctionTarget, kind): Promise<PoolInstance> => {
    const uid = asRoot ? target.runAs?.uid : undefined;
    if (uid === undefined) return startOne(target, kind);
    hold(uid);
    let instance: Instance;
    try {
      instance = await startOne(target, kind);
    } catch (error) {
      letGo(uid);
      throw error;
    }
    void instance.closed.then(() => letGo(uid));
    return instance;
  };

  const startOne = async (
    target: FunctionTarget,
    kind: 'on-demand' | 'provisioned',
  ): Promise<Instance> => {
    const instanceId = randomUUID().replaceAll('-', '');
    const common = {
      instanceId,
      clock: opts.clock,
      onLog: opts.onLog,
      initializationType:
        kind === 'provisioned' ? ('provisioned-concurrency' as const) : ('on-demand' as const),
      ...(opts.initTimeoutMs === undefined ? {} : { initTimeoutMs: opts.initTimeoutMs }),
    };
    if (target.runtimeFamily !== 'provided') {
      const family = target.runtimeFamily;
      const runtime = ready[family].shift();
      // Spawning forks this whole process and blocks the event loop for milliseconds: do it
      // after the cold request has been served, not while it waits.
      setTimeout(() => refill(family), 100).unref();
      if (runtime && runtime.state === 'ready') {
        const runAs = target.runAs ?? opts.runAsUser;
        return runtime.specialize(target, { ...common, ...(runAs ? { runAs } : {}) });
      }
      runtime?.kill();
    }
    return startInstance({
      ...common,
      target,
      tmpRoot: opts.tmpRoot,
      ...(opts.runAsUser ? { runAsUser: opts.runAsUser } : {}),
    });
  };

  return {
    create,
    // Node only: a Python runtime is booted once the first Python function runs, so a platform
    // without Python functions never pays for one.
    warm: () => refill('nodejs'),
    close: () => {
      closed = true;
      for (const family of ['nodejs', 'python'] as const) {
        for (const runtime of ready[family].splice(0)) runtime.kill();
      }
    },
  };
}
