/**
 * One function instance = one OS process, Lambda's execution environment. This is the
 * single-instance layer the pool builds on; docs/runtimes.md describes the behaviour in full.
 *
 * - nodejs*, python*: a Nimbus bootstrap on fd 3 frames (runtime-framed.ts), bootable ahead of
 *   time with startGenericRuntime() and turned into an instance with specialize().
 * - provided*: the package's own `bootstrap` against a per-instance Runtime API server
 *   (runtime-api-server.ts).
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Clock, systemClock } from '../../model/clock.js';
import type {
  FunctionErrorBody,
  FunctionTarget,
  InvokeRequest,
  InvokeResult,
  LogEvent,
} from '../../model/invocation.js';
import { type InstanceState, ProcessInstance } from './instance-core.js';
import { functionArn, functionEnvironment } from './instance-env.js';
import { InstanceError } from './instance-errors.js';
import { logStreamName } from './instance-log.js';
import { RuntimeApiServer } from './runtime-api-server.js';
import { bootGenericRuntime, DEFAULT_INIT_TIMEOUT_MS } from './runtime-framed.js';
import type { RunAs } from './runtime-interpreters.js';
import { effectiveRunAs, makeInstanceTempDir, spawnRuntimeProcess } from './runtime-process.js';

export type { InstanceState } from './instance-core.js';
export { InstanceError, type InstanceErrorCode, MAX_RESPONSE_BYTES } from './instance-errors.js';
export {
  type GenericFamily,
  type GenericRuntime,
  type GenericRuntimeOptions,
  type GenericRuntimeState,
  type SpecializeOptions,
  startGenericRuntime,
} from './runtime-framed.js';
export type { RunAs } from './runtime-interpreters.js';

export interface InstanceOptions {
  target: FunctionTarget;
  instanceId: string;
  /** The instance's own writable temp dir (HOME, TMPDIR) is made under it and removed on exit. */
  tmpRoot: string;
  /** Wall-clock time for log timestamps and deadlines; durations use the monotonic clock. */
  clock?: Clock;
  /** Every log line, synchronously, in order. Must be cheap: buffer, do not write here. */
  onLog: (e: LogEvent) => void;
  /** Set when the platform runs as root: the function runs as this user. */
  runAsUser?: RunAs;
  /** AWS_LAMBDA_INITIALIZATION_TYPE; default on-demand. */
  initializationType?: 'on-demand' | 'provisioned-concurrency';
  /** Lambda's 10 s init limit, overridable. */
  initTimeoutMs?: number;
  /** The node / python3 executable to run instead of the one found automatically. */
  interpreter?: string;
}

export interface Instance {
  readonly id: string;
  readonly target: FunctionTarget;
  readonly state: InstanceState;
  /** Set when init failed; the instance is dead and its first invoke() returns this error. */
  readonly initError: FunctionErrorBody | undefined;
  readonly logStream: string;
  readonly pid: number;
  /** Requests it serves at once: the target's `concurrency`, 1 by default (Lambda's contract). */
  readonly capacity: number;
  /**
   * One invocation; the instance must be idle (or dead from a failed init not yet reported).
   * Every function failure, timeout, memory kill or crash resolves as an InvokeResult with an
   * error outcome; it rejects only with InstanceError NIMBUS_INSTANCE_NOT_IDLE.
   */
  invoke(req: InvokeRequest): Promise<InvokeResult>;
  /** Graceful: let the invocation in flight finish, then kill; resolves once cleaned up. */
  stop(): Promise<void>;
  /** SIGKILL now; an invocation in flight ends with Runtime.ExitError. */
  kill(): void;
  /** Resolves once the process is gone and its temp dir removed, however it ended. */
  readonly closed: Promise<void>;
}

/**
 * Starts a process for `target` and initializes it (loads the user's code; for provided, waits
 * for the bootstrap's first /next). Resolves with an idle instance, or a dead one carrying
 * initError when the function's init failed. Rejects with InstanceError when the platform could
 * not start a process at all (missing interpreter, unreachable tmpRoot, for provided a missing
 * or non-executable bootstrap: code NIMBUS_INSTANCE_SPAWN_FAILED with `functionError` set to
 * the Runtime.InvalidEntrypoint error Lambda would return).
 */
export async function startInstance(opts: InstanceOptions): Promise<Instance> {
  const startedAt = performance.now();
  const family = opts.target.runtimeFamily;
  if (family === 'provided') return startProvided(opts, startedAt);
  const generic = await bootGenericRuntime(family, {
    tmpRoot: opts.tmpRoot,
    runAsUser: opts.target.runAs ?? opts.runAsUser,
    memorySize: opts.target.memorySize,
    interpreter: opts.interpreter,
  });
  return generic.specializeFrom(startedAt, opts.target, opts);
}

/** A provided instance whose bootstrap is missing: Lambda's Runtime.InvalidEntrypoint. */
export class InvalidEntrypointError extends InstanceError {
  readonly functionError: FunctionErrorBody;

  constructor(path: string, cause: unknown) {
    super('NIMBUS_INSTANCE_SPAWN_FAILED', `no executable bootstrap at ${path}`, { cause });
    this.functionError = {
      errorType: 'Runtime.InvalidEntrypoint',
      errorMessage: `Couldn't find valid bootstrap(s): [${path}]`,
    };
  }
}

async function startProvided(opts: InstanceOptions, startedAt: number): Promise<Instance> {
  const target = opts.target;
  // As Lambda: the function's own bootstrap, else one a layer put at /opt/bootstrap.
  const candidates = [join(target.codeDir, 'bootstrap')];
  if (target.layersDir !== undefined) candidates.push(join(target.layersDir, 'bootstrap'));
  let bootstrap: string | undefined;
  let missing: unknown;
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      bootstrap = candidate;
      break;
    } catch (err) {
      missing ??= err;
    }
  }
  if (bootstrap === undefined) throw new InvalidEntrypointError(candidates.join(', '), missing);
  const runAs = effectiveRunAs(target.runAs ?? opts.runAsUser);
  const clock = opts.clock ?? systemClock;
  const logStream = logStreamName(clock.now(), target.version, opts.instanceId);
  const server = new RuntimeApiServer(functionArn(target));
  await server.listen();
  let tmpDir: string;
  try {
    tmpDir = await makeInstanceTempDir(opts.tmpRoot, `provided-${opts.instanceId}`, runAs);
  } catch (err) {
    server.close();
    throw err;
  }
  const env = functionEnvironment({
    target,
    tmpDir,
    runtimeDir: target.codeDir,
    logStreamName: logStream,
    initializationType: opts.initializationType ?? 'on-demand',
    runtimeApi: server.address,
  });
  let proc: Awaited<ReturnType<typeof spawnRuntimeProcess>>;
  try {
    proc = await spawnRuntimeProcess({
      command: bootstrap,
      args: [],
      cwd: target.codeDir,
      env,
      tmpDir,
      runAs,
      control: false,
    });
  } catch (err) {
    server.close();
    throw err;
  }
  const instance = new ProcessInstance({
    id: opts.instanceId,
    target,
    proc,
    channel: server,
    clock,
    onLog: opts.onLog,
    logStream,
  });
  server.events = instance;
  await instance.waitForInit(startedAt, opts.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS);
  return instance;
}

export { ProcessInstance };
