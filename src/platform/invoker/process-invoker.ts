import { randomUUID } from 'node:crypto';
import type { Clock } from '../../model/clock.js';
import type { FunctionTarget, InvokeResult } from '../../model/invocation.js';
import type { ConcurrencySlots } from '../cluster/concurrency-slots.js';
import { type Metrics, noMetrics } from '../observe/metrics/metrics-port.js';
import { toXRay } from '../observe/tracing/trace-context.js';
import { idOnlyTracing, type Tracing } from '../observe/tracing/tracing.js';
import type { InstancePool } from '../pool/instance-pool.js';
import { TooManyRequestsError } from '../pool/pool-errors.js';
import type { RunAs } from '../pool/runtime-interpreters.js';
import type { CodeCache } from './code-cache.js';
import type { FunctionResolver } from './function-resolver.js';
import type {
  InvocationResponse,
  InvokeOptions,
  Invoker,
  ResolvedFunction,
} from './invoker-port.js';

/**
 * The synchronous invoke path: resolve the version, make sure its code is extracted, and run the
 * request on an instance from the pool.
 */
export class ProcessInvoker implements Invoker {
  readonly #deps: ProcessInvokerDeps;
  readonly #targets = new Map<string, FunctionTarget>();
  readonly #metrics: Metrics;

  readonly #tracing: Tracing;

  constructor(deps: ProcessInvokerDeps) {
    this.#deps = deps;
    this.#metrics = deps.metrics ?? noMetrics;
    this.#tracing = deps.tracing ?? idOnlyTracing();
  }

  resolve(functionRef: string, qualifier: string | undefined): Promise<ResolvedFunction> {
    return this.#deps.resolver.resolve(functionRef, qualifier);
  }

  async invoke(
    functionRef: string,
    qualifier: string | undefined,
    opts: InvokeOptions,
  ): Promise<InvocationResponse> {
    const resolved = await this.#deps.resolver.resolve(functionRef, qualifier);
    const target = await this.#target(resolved);
    const requestId = opts.requestId ?? randomUUID();
    const result = await this.#run(resolved, target, opts, requestId);
    return { requestId, functionName: resolved.functionName, result };
  }

  /** The pool's run, counted: every caller (gateway, Invoke API, async) passes through here. */
  async #run(
    resolved: ResolvedFunction,
    target: FunctionTarget,
    opts: InvokeOptions,
    requestId: string,
  ): Promise<InvokeResult> {
    let result: InvokeResult;
    const span = this.#tracing.start(`invoke ${resolved.functionName}`, opts.trace, {
      attributes: { 'faas.name': resolved.functionName, 'faas.version': resolved.version },
    });
    try {
      result = await this.#invokePool(resolved, target, opts, requestId, toXRay(span.context));
    } catch (error) {
      if (error instanceof TooManyRequestsError) {
        this.#metrics.throttled(resolved.functionName, error.reason);
      }
      span.end({ 'faas.invocation_id': requestId }, (error as Error).name);
      throw error;
    }
    if (result.initDurationMs !== undefined) {
      // The cold start, as a child of the run: it began when the run did.
      const started = this.#deps.clock.now() - result.durationMs - result.initDurationMs;
      this.#tracing
        .start('cold start', span.context, { startMs: started })
        .end(undefined, undefined, started + result.initDurationMs);
    }
    span.end(
      {
        'faas.invocation_id': requestId,
        'faas.coldstart': result.initDurationMs !== undefined,
        ...(result.initDurationMs !== undefined ? { 'nimbus.init_ms': result.initDurationMs } : {}),
      },
      result.outcome.status === 'error' ? result.outcome.error.errorType : undefined,
    );
    this.#metrics.invoked(target, {
      durationMs: result.durationMs,
      initDurationMs: result.initDurationMs,
      errorType: result.outcome.status === 'error' ? result.outcome.error.errorType : undefined,
    });
    return result;
  }

  async #invokePool(
    resolved: ResolvedFunction,
    target: FunctionTarget,
    opts: InvokeOptions,
    requestId: string,
    traceHeader: string,
  ): Promise<InvokeResult> {
    const reserved = resolved.config.reservedConcurrency;
    // In a cluster the reserved concurrency holds across nodes: a slot first (docs/cluster.md).
    const slot =
      reserved !== undefined && this.#deps.slots
        ? await this.#deps.slots.acquire(resolved.functionName, reserved)
        : undefined;
    if (reserved !== undefined && this.#deps.slots && !slot) {
      throw new TooManyRequestsError('ReservedFunctionConcurrentInvocationLimitExceeded');
    }
    try {
      return await this.#poolRun(resolved, target, opts, requestId, traceHeader);
    } finally {
      await slot?.release().catch(() => undefined); // Unreleased, it lapses after its TTL.
    }
  }

  #poolRun(
    resolved: ResolvedFunction,
    target: FunctionTarget,
    opts: InvokeOptions,
    requestId: string,
    traceHeader: string,
  ): Promise<InvokeResult> {
    return this.#deps.pool.invoke(
      target,
      {
        requestId,
        payload: opts.payload,
        deadlineMs: this.#deps.clock.now() + target.timeout * 1000,
        ...(opts.clientContext ? { clientContext: opts.clientContext } : {}),
        ...(opts.tailLogs ? { tailLogs: true } : {}),
        traceHeader,
        ...(opts.stream ? { stream: opts.stream } : {}),
      },
      resolved.config.reservedConcurrency === undefined
        ? {}
        : { reservedConcurrency: resolved.config.reservedConcurrency },
    );
  }

  /**
   * Keeps the function's provisionedConcurrency instances of the qualified version initialized
   * (none when it has no such setting). Called when a deployment lands.
   */
  async provision(functionRef: string, qualifier: string | undefined): Promise<void> {
    const resolved = await this.#deps.resolver.resolve(functionRef, qualifier);
    const count = resolved.config.provisionedConcurrency ?? 0;
    if (count > 0) await this.#deps.pool.provision(await this.#target(resolved), count);
  }

  /** Extracts the qualified version's code now (at deploy), so its first request does not wait for it. */
  async prepare(functionRef: string, qualifier: string | undefined): Promise<void> {
    await this.#target(await this.#deps.resolver.resolve(functionRef, qualifier));
  }

  /** Targets are immutable per version, so they are built once. */
  async #target(resolved: ResolvedFunction): Promise<FunctionTarget> {
    const key = `${resolved.functionName}\u0000${resolved.version}`;
    const cached = this.#targets.get(key);
    if (cached) return cached;
    const runAs = await this.#deps.runAsOf?.(resolved.service, resolved.stage);
    const codeDir = await this.#deps.codeCache.dir(resolved.codeSha256, runAs);
    const target = targetOf(resolved, codeDir);
    const layers = resolved.config.layerVersions ?? [];
    if (layers.length > 0) {
      target.layersDir = await this.#deps.codeCache.layersDir(
        layers.map((l) => l.codeSha256),
        runAs,
      );
    }
    target.owner = { service: resolved.service, stage: resolved.stage };
    if (runAs) target.runAs = runAs;
    this.#targets.set(key, target);
    return target;
  }
}

export interface ProcessInvokerDeps {
  resolver: FunctionResolver;
  codeCache: CodeCache;
  pool: InstancePool;
  clock: Clock;
  /** The service stage's own user (docs/security.md); absent when the platform is not root. */
  runAsOf?: (service: string, stage: string) => Promise<RunAs>;
  /** Where invocations and throttles are counted; none by default. */
  metrics?: Metrics;
  /** Spans of function runs; ids only by default. */
  tracing?: Tracing;
  /** Cluster-wide reserved concurrency (PostgreSQL); without it each node counts its own. */
  slots?: Pick<ConcurrencySlots, 'acquire'>;
}

export function targetOf(resolved: ResolvedFunction, codeDir: string): FunctionTarget {
  const c = resolved.config;
  return {
    functionName: resolved.functionName,
    version: resolved.version,
    runtime: c.runtime,
    runtimeFamily: c.runtimeFamily,
    handler: c.handler,
    memorySize: c.memorySize,
    timeout: c.timeout,
    environment: c.environment,
    region: resolved.region,
    codeDir,
    // Only the Node bootstrap multiplexes; a stored config from elsewhere cannot make more.
    ...(c.concurrency !== undefined && c.concurrency > 1 && c.runtimeFamily === 'nodejs'
      ? { concurrency: c.concurrency }
      : {}),
  };
}
