/**
 * Node and Python instances: a Nimbus bootstrap speaking the frames of src/runtimes/protocol.ts
 * on fd 3. The process boots generic (no function, no user code) and is specialized later, so a
 * pool can keep booted processes ready and a cold start only loads the user's module.
 */
import { randomBytes } from 'node:crypto';
import { chown } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Clock, systemClock } from '../../model/clock.js';
import type {
  FunctionErrorBody,
  FunctionTarget,
  InvokeRequest,
  LogEvent,
} from '../../model/invocation.js';
import { awsSdkModulesDir, bootstrapFiles } from '../../runtimes/bootstrap-paths.js';
import {
  encodeFrame,
  type FrameHeader,
  FrameReader,
  type LogKind,
  type ToRuntimeFrame,
} from '../../runtimes/protocol.js';
import { readStatus } from '../isolation/function-uids.js';
import { ProcessInstance, type RuntimeChannel } from './instance-core.js';
import { baseEnvironment, functionArn, functionEnvironment, logGroupName } from './instance-env.js';
import { exitDescription, InstanceError } from './instance-errors.js';
import { logStreamName } from './instance-log.js';
import { nodeInterpreter, pythonInterpreter, type RunAs } from './runtime-interpreters.js';
import {
  effectiveRunAs,
  makeInstanceTempDir,
  type RuntimeProcess,
  spawnRuntimeProcess,
} from './runtime-process.js';

export type GenericFamily = 'nodejs' | 'python';

export interface GenericRuntimeOptions {
  /** The per-process writable temp dir is made under it. */
  tmpRoot: string;
  /** Used only when the platform runs as root. */
  runAsUser?: RunAs;
  /**
   * Booting as root to become a function's user at specialize (a prewarmed runtime): the
   * interpreter must be one that user can run, and this is who to check for.
   */
  interpreterUser?: RunAs;
  /**
   * Node only: caps the V8 heap (`--max-old-space-size`, 90% of it), which must be fixed at
   * boot. Instances are held to their target's memorySize by RSS polling whatever this is.
   */
  memorySize?: number;
  /** The interpreter to run; by default the first node / python3 the process's user can run. */
  interpreter?: string;
  /** How long booting may take before the process is killed. Default 10 s. */
  bootTimeoutMs?: number;
}

export interface SpecializeOptions {
  instanceId: string;
  clock?: Clock;
  onLog: (e: LogEvent) => void;
  /** AWS_LAMBDA_INITIALIZATION_TYPE; default on-demand. */
  initializationType?: 'on-demand' | 'provisioned-concurrency';
  /** Lambda's init limit; default 10 s. Init that overruns it fails with Sandbox.Timedout. */
  initTimeoutMs?: number;
  /**
   * The user the instance must run as. A runtime booted as root becomes it before loading user
   * code; one booted as a user must already be it.
   */
  runAs?: RunAs;
}

export type GenericRuntimeState = 'ready' | 'specialized' | 'dead';

/** A booted Node or Python process with no user code yet. */
export interface GenericRuntime {
  readonly family: GenericFamily;
  readonly state: GenericRuntimeState;
  readonly pid: number;
  /**
   * Turns this process into an instance of `target`: environment, working directory, user code.
   * Resolves once init has finished; a failed init gives a dead instance whose first invoke()
   * returns the init error. Throws NIMBUS_INSTANCE_NOT_READY if already specialized or dead.
   */
  specialize(target: FunctionTarget, opts: SpecializeOptions): Promise<ProcessInstance>;
  /** Kills a generic runtime; a no-op once specialized (the instance owns the process then). */
  kill(): void;
  /** Resolves once the process is gone and its temp dir removed. */
  readonly closed: Promise<void>;
}

export const DEFAULT_INIT_TIMEOUT_MS = 10_000;

/** Frames on fd 3, handed to whichever listener the current phase set. */
class FramedChannel implements RuntimeChannel {
  listener: (header: FrameHeader, body: Buffer) => void = () => {};
  readonly #socket: Socket;

  constructor(socket: Socket, onBroken: (err: unknown) => void) {
    this.#socket = socket;
    const reader = new FrameReader((header, body) => this.listener(header, body));
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        onBroken(err);
      }
    });
    // The process's exit is what the instance reacts to; a socket error only precedes it.
    socket.on('error', () => {});
  }

  send(frame: ToRuntimeFrame, body?: string): void {
    this.#socket.write(encodeFrame(frame, body));
  }

  dispatch(req: InvokeRequest): void {
    const frame: ToRuntimeFrame = { t: 'invoke', id: req.requestId, dl: req.deadlineMs };
    if (req.clientContext) frame.cc = Buffer.from(req.clientContext, 'base64').toString('utf8');
    if (req.traceHeader) frame.tr = req.traceHeader;
    this.send(frame, req.payload);
  }

  close(): void {
    this.#socket.destroy();
  }
}

export function startGenericRuntime(
  family: GenericFamily,
  opts: GenericRuntimeOptions,
): Promise<GenericRuntime> {
  return bootGenericRuntime(family, opts);
}

/** startGenericRuntime, typed so startInstance can count the boot in Init Duration. */
export async function bootGenericRuntime(
  family: GenericFamily,
  opts: GenericRuntimeOptions,
): Promise<FramedGenericRuntime> {
  if (family !== 'nodejs' && family !== 'python') {
    throw new InstanceError('NIMBUS_INSTANCE_CONFIG', `no generic runtime for family ${family}`);
  }
  const runAs = effectiveRunAs(opts.runAsUser);
  const checkFor = runAs ?? effectiveRunAs(opts.interpreterUser);
  const interpreter =
    opts.interpreter ??
    (family === 'nodejs' ? nodeInterpreter(checkFor) : pythonInterpreter(checkFor));
  const bootstrap = family === 'nodejs' ? bootstrapFiles().node : bootstrapFiles().python;
  const args =
    family === 'nodejs'
      ? [
          ...(opts.memorySize ? [`--max-old-space-size=${heapLimitMb(opts.memorySize)}`] : []),
          bootstrap,
        ]
      : ['-s', bootstrap];
  const tmpDir = await makeInstanceTempDir(
    opts.tmpRoot,
    `${family}-${randomBytes(4).toString('hex')}`,
    runAs,
  );
  const env = baseEnvironment({
    tmpDir,
    runtimeDir: dirname(bootstrap),
    pathPrefix: [dirname(interpreter)],
  });
  const sdkDir = family === 'nodejs' ? awsSdkModulesDir() : undefined;
  // Read once at boot, before init replaces the environment with the function's own.
  if (sdkDir) env.NIMBUS_AWS_SDK_DIR = sdkDir;
  const proc = await spawnRuntimeProcess({
    command: interpreter,
    args,
    cwd: tmpDir,
    env,
    tmpDir,
    runAs,
    control: true,
  });
  const channel = new FramedChannel(proc.control as Socket, () => proc.kill());
  await waitForReady(proc, channel, opts.bootTimeoutMs ?? 10_000, interpreter);
  return new FramedGenericRuntime(family, proc, channel, dirname(bootstrap), runAs);
}

/** Room for code, stacks and native buffers outside the V8 old space. */
function heapLimitMb(memorySize: number): number {
  return Math.max(16, Math.floor(memorySize * 0.9));
}

function waitForReady(
  proc: RuntimeProcess,
  channel: FramedChannel,
  limitMs: number,
  interpreter: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      proc.kill();
      const tail = proc.stderrTail.trim();
      reject(
        new InstanceError(
          'NIMBUS_INSTANCE_SPAWN_FAILED',
          `${interpreter} bootstrap ${why}${tail ? `: ${tail.slice(-1000)}` : ''}`,
        ),
      );
    };
    const timer = setTimeout(() => fail(`did not boot within ${limitMs} ms`), limitMs);
    timer.unref();
    channel.listener = (header) => {
      if (header.t !== 'ready' || settled) return;
      settled = true;
      clearTimeout(timer);
      channel.listener = () => {};
      resolve();
    };
    void proc.exited.then((info) =>
      fail(`exited while booting (${exitDescription(info.code, info.signal)})`),
    );
  });
}

export class FramedGenericRuntime implements GenericRuntime {
  readonly family: GenericFamily;
  readonly closed: Promise<void>;
  #state: GenericRuntimeState = 'ready';
  readonly #proc: RuntimeProcess;
  readonly #channel: FramedChannel;
  readonly #runtimeDir: string;
  /** The user the process was spawned as; undefined when it runs as the platform's own. */
  readonly #bootedAs: RunAs | undefined;

  constructor(
    family: GenericFamily,
    proc: RuntimeProcess,
    channel: FramedChannel,
    runtimeDir: string,
    bootedAs?: RunAs,
  ) {
    this.family = family;
    this.#proc = proc;
    this.#channel = channel;
    this.#runtimeDir = runtimeDir;
    this.#bootedAs = bootedAs;
    this.closed = proc.closed;
    void proc.exited.then(() => {
      if (this.#state === 'ready') this.#state = 'dead';
    });
  }

  get state(): GenericRuntimeState {
    return this.#state;
  }

  get pid(): number {
    return this.#proc.pid;
  }

  /** Once specialized the process belongs to its instance: kill that instead. */
  kill(): void {
    if (this.#state === 'specialized') return;
    this.#state = 'dead';
    this.#proc.kill();
  }

  specialize(target: FunctionTarget, opts: SpecializeOptions): Promise<ProcessInstance> {
    return this.specializeFrom(performance.now(), target, opts);
  }

  /** `startedAt` lets a cold start count the boot in its Init Duration, as Lambda does. */
  async specializeFrom(
    startedAt: number,
    target: FunctionTarget,
    opts: SpecializeOptions,
  ): Promise<ProcessInstance> {
    if (this.#state !== 'ready' || !this.#proc.alive) {
      throw new InstanceError(
        'NIMBUS_INSTANCE_NOT_READY',
        `generic ${this.family} runtime ${this.#proc.pid} is ${this.#state === 'ready' ? 'dead' : this.#state}`,
      );
    }
    if (target.runtimeFamily !== this.family) {
      throw new InstanceError(
        'NIMBUS_INSTANCE_CONFIG',
        `a ${this.family} runtime cannot run ${target.functionName} (${target.runtime})`,
      );
    }
    const become = this.#userToBecome(opts.runAs);
    this.#state = 'specialized';
    if (become) {
      try {
        await chown(this.#proc.tmpDir, become.uid, become.gid);
      } catch (error) {
        this.#proc.kill();
        throw new InstanceError(
          'NIMBUS_INSTANCE_CONFIG',
          `cannot give the temp dir to uid ${become.uid}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
    const clock = opts.clock ?? systemClock;
    const logStream = logStreamName(clock.now(), target.version, opts.instanceId);
    const instance = new ProcessInstance({
      id: opts.instanceId,
      target,
      proc: this.#proc,
      channel: this.#channel,
      clock,
      onLog: opts.onLog,
      logStream,
    });
    this.#channel.listener = (header, body) => route(instance, header, body);
    const env = functionEnvironment({
      target,
      tmpDir: this.#proc.tmpDir,
      runtimeDir: this.#runtimeDir,
      logStreamName: logStream,
      initializationType: opts.initializationType ?? 'on-demand',
    });
    const init = instance.waitForInit(startedAt, opts.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS);
    this.#channel.send({
      t: 'init',
      handler: target.handler,
      taskRoot: target.codeDir,
      env,
      fn: {
        name: target.functionName,
        version: target.version,
        arn: functionArn(target),
        memory: String(target.memorySize),
        logGroup: logGroupName(target.functionName),
        logStream,
      },
      ...(become ? { runAs: become } : {}),
      ...(instance.capacity > 1 ? { conc: instance.capacity } : {}),
    });
    await init;
    if (become) this.#assertRunsAs(become);
    return instance;
  }

  /** Who the process must turn into at init: only a root-booted runtime changes user. */
  #userToBecome(wanted: RunAs | undefined): RunAs | undefined {
    const runAs = effectiveRunAs(wanted);
    if (!runAs) return undefined;
    if (this.#bootedAs) {
      if (this.#bootedAs.uid === runAs.uid && this.#bootedAs.gid === runAs.gid) return undefined;
      throw new InstanceError(
        'NIMBUS_INSTANCE_CONFIG',
        `a runtime booted as uid ${this.#bootedAs.uid} cannot run as uid ${runAs.uid}`,
      );
    }
    return runAs;
  }

  /**
   * The kernel's word, not the bootstrap's: a process still holding any root id after init is
   * killed, so a bootstrap bug can never run user code as root.
   */
  #assertRunsAs(runAs: RunAs): void {
    if (!this.#proc.alive) return;
    const status = readStatus(this.#proc.pid);
    if (status?.uids.every((id) => id === runAs.uid)) return;
    this.#proc.kill();
    throw new InstanceError(
      'NIMBUS_INSTANCE_SPAWN_FAILED',
      `runtime ${this.#proc.pid} did not become uid ${runAs.uid} (ids ${status?.uids.join(' ') ?? 'unknown'})`,
    );
  }
}

function route(instance: ProcessInstance, header: FrameHeader, body: Buffer): void {
  switch (header.t) {
    case 'log':
      instance.onRuntimeLog(
        header.k as LogKind,
        body.toString('utf8'),
        header.ts as number,
        typeof header.id === 'string' ? header.id : undefined,
      );
      return;
    case 'result':
      if (header.s === 1) instance.onStreamEnd(header.id as string);
      else instance.onResult(header.id as string, body);
      return;
    case 'chunk':
      instance.onChunk(
        header.id as string,
        body,
        typeof header.ct === 'string' ? header.ct : undefined,
      );
      return;
    case 'error':
      instance.onError(
        header.id as string,
        header.error as FunctionErrorBody,
        header.fatal === true,
      );
      return;
    case 'inited':
      instance.onInited();
      return;
    case 'initError':
      instance.onInitError(header.error as FunctionErrorBody);
      return;
  }
}
