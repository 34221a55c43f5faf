/**
 * The life of one instance, whatever its runtime family: init, then one invocation at a time
 * (Lambda's contract) or, for a Node target with `concurrency` N, up to N at once, multiplexed by
 * request id; each bounded by its deadline and the memory size, each logged START / lines / END /
 * REPORT. A timeout, a crash or a memory kill ends the process and so every invocation in it.
 * The runtime-specific part (how an invocation reaches the process and how its answer comes
 * back) is a RuntimeChannel; it reports back through the on* methods here.
 */
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../model/clock.js';
import type {
  FunctionErrorBody,
  FunctionTarget,
  InvokeOutcome,
  InvokeRequest,
  InvokeResult,
  LogEvent,
} from '../../model/invocation.js';
import { MAX_STREAMED_RESPONSE_BYTES } from '../../model/invocation.js';
import type { LogKind } from '../../runtimes/protocol.js';
import {
  exitError,
  InstanceError,
  initTimeoutError,
  MAX_RESPONSE_BYTES,
  outOfMemoryError,
  responseTooLargeError,
  timeoutError,
} from './instance-errors.js';
import { endLine, LineSplitter, LogTail, reportLine, startLine } from './instance-log.js';
import type { ExitInfo, RuntimeProcess } from './runtime-process.js';

export type InstanceState = 'starting' | 'idle' | 'busy' | 'dead';

/** How an invocation reaches a runtime process. */
export interface RuntimeChannel {
  dispatch(req: InvokeRequest): void;
  /** Release what the channel holds besides the process (a server, a socket). */
  close(): void;
}

export interface CoreOptions {
  id: string;
  target: FunctionTarget;
  proc: RuntimeProcess;
  channel: RuntimeChannel;
  clock: Clock;
  onLog: (e: LogEvent) => void;
  logStream: string;
}

/** While busy, RSS is checked this often against the memory size. */
const MEMORY_POLL_MS = 50;

interface Current {
  req: InvokeRequest;
  startedAt: number;
  tail: LogTail | undefined;
  timer: NodeJS.Timeout;
  resolve: (r: InvokeResult) => void;
  /** Bytes streamed so far (a streaming handler), against the 20 MB limit. */
  streamed?: number;
  /** Streamed bytes gathered for a caller that gave no sink (a plain Invoke). */
  gathered?: Buffer[];
}

export class ProcessInstance {
  readonly id: string;
  readonly target: FunctionTarget;
  readonly logStream: string;
  /** Resolves once the process is gone and everything it held is released. */
  readonly closed: Promise<void>;
  #state: InstanceState = 'starting';
  #initError: FunctionErrorBody | undefined;
  /** The init error has not yet been handed to an invocation. */
  #initErrorPending = false;
  /** Reported (REPORT line, initDurationMs) by the first invocation, then cleared. */
  #initDurationMs: number | undefined;
  #initDone: (() => void) | undefined;
  /** Invocations in flight, by request id: at most `capacity`. */
  readonly #inflight = new Map<string, Current>();
  /** Set while any invocation is in flight. */
  #poll: NodeJS.Timeout | undefined;
  /** Requests this instance serves at once: the target's concurrency, 1 by default. */
  readonly capacity: number;
  #idleWaiters: (() => void)[] = [];
  readonly #proc: RuntimeProcess;
  readonly #channel: RuntimeChannel;
  readonly #clock: Clock;
  readonly #onLog: (e: LogEvent) => void;
  readonly #splitters: Record<'out' | 'err' | 'pipeOut' | 'pipeErr', LineSplitter> = {
    out: new LineSplitter(),
    err: new LineSplitter(),
    pipeOut: new LineSplitter(),
    pipeErr: new LineSplitter(),
  };

  constructor(o: CoreOptions) {
    this.id = o.id;
    this.target = o.target;
    this.logStream = o.logStream;
    this.#proc = o.proc;
    this.#channel = o.channel;
    this.#clock = o.clock;
    this.#onLog = o.onLog;
    this.capacity = Math.max(1, o.target.concurrency ?? 1);
    o.proc.onOutput = (kind, text) => this.#raw(kind === 'out' ? 'pipeOut' : 'pipeErr', text);
    // exited never rejects (runtime-process.ts).
    void o.proc.exited.then((info) => this.#onExit(info));
    this.closed = o.proc.closed.then(() => this.#channel.close());
  }

  get state(): InstanceState {
    return this.#state;
  }

  /** Why init failed, when it did (the instance is then dead). */
  get initError(): FunctionErrorBody | undefined {
    return this.#initError;
  }

  /** Invocations in flight now. */
  get inflight(): number {
    return this.#inflight.size;
  }

  get pid(): number {
    return this.#proc.pid;
  }

  /** False from the moment its process is known to have exited, even while output drains. */
  get alive(): boolean {
    return this.#state !== 'dead' && !this.#proc.exitSeen;
  }

  /** Resolves when init has succeeded or failed; `startedAt` is performance.now() at its start. */
  waitForInit(startedAt: number, limitMs: number): Promise<void> {
    if (this.#state !== 'starting') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#failInit(initTimeoutError(limitMs)), limitMs);
      timer.unref();
      this.#initDone = () => {
        clearTimeout(timer);
        this.#initDurationMs = performance.now() - startedAt;
        this.#initDone = undefined;
        resolve();
      };
    });
  }

  onInited(): void {
    if (this.#state !== 'starting') return;
    this.#proc.memory.read();
    this.#state = 'idle';
    this.#initDone?.();
  }

  onInitError(error: FunctionErrorBody): void {
    this.#failInit(error);
  }

  onResult(requestId: string, payload: Buffer): void {
    const cur = this.#inflight.get(requestId);
    if (!cur) return;
    if (payload.length > MAX_RESPONSE_BYTES) {
      this.#finish(cur, { status: 'error', error: responseTooLargeError(payload.length) }, false);
      return;
    }
    this.#finish(cur, { status: 'ok', payload: payload.toString('utf8') }, false);
  }

  /**
   * A streaming handler wrote bytes: forwarded to the request's sink at once, or gathered into
   * the payload for a caller that asked for a whole response. Past Lambda's 20 MB the
   * invocation fails (its process goes on; later chunks are dropped).
   */
  onChunk(requestId: string, bytes: Buffer, contentType: string | undefined): void {
    const cur = this.#inflight.get(requestId);
    if (!cur) return;
    cur.streamed = (cur.streamed ?? 0) + bytes.length;
    const limit = cur.req.stream ? MAX_STREAMED_RESPONSE_BYTES : MAX_RESPONSE_BYTES;
    if (cur.streamed > limit) {
      const error = responseTooLargeError(cur.streamed, limit);
      this.#finish(cur, { status: 'error', error }, false);
      return;
    }
    if (cur.req.stream) {
      cur.req.stream.chunk(bytes, contentType);
    } else {
      cur.gathered ??= [];
      cur.gathered.push(bytes);
    }
  }

  /** A streaming handler finished: the payload is what it wrote (empty when a sink took it). */
  onStreamEnd(requestId: string): void {
    const cur = this.#inflight.get(requestId);
    if (!cur) return;
    const payload = cur.gathered ? Buffer.concat(cur.gathered).toString('utf8') : '';
    this.#finish(cur, { status: 'ok', payload }, false);
  }

  onError(requestId: string, error: FunctionErrorBody, fatal: boolean): void {
    const cur = this.#inflight.get(requestId);
    if (!cur) return;
    this.#finish(cur, { status: 'error', error }, fatal);
  }

  /**
   * A log frame: `line` is one formatted event; `out`/`err` raw text to cut into lines.
   * `requestId` is the invocation the bootstrap says wrote it (a concurrent instance); without
   * it the line belongs to the one invocation in flight, if any.
   */
  onRuntimeLog(kind: LogKind, text: string, ts: number, requestId?: string): void {
    const cur = requestId === undefined ? this.#sole() : this.#inflight.get(requestId);
    if (kind === 'line') this.#emit(text.endsWith('\n') ? text.slice(0, -1) : text, ts, cur);
    else this.#raw(kind, text, cur);
  }

  invoke(req: InvokeRequest): Promise<InvokeResult> {
    const hasRoom = this.#state === 'busy' && this.#inflight.size < this.capacity;
    if (this.#state !== 'idle' && !hasRoom) {
      if (this.#initErrorPending && this.#initError) {
        this.#initErrorPending = false;
        return Promise.resolve(this.#initFailureResult(req, this.#initError));
      }
      return Promise.reject(
        new InstanceError(
          'NIMBUS_INSTANCE_NOT_IDLE',
          `instance ${this.id} of ${this.target.functionName} is ${this.#state}, not idle${this.#state === 'busy' ? ` (${this.#inflight.size} of ${this.capacity} in flight)` : ''}`,
        ),
      );
    }
    this.#state = 'busy';
    return new Promise((resolve) => {
      const cur: Current = {
        req,
        startedAt: performance.now(),
        tail: req.tailLogs ? new LogTail() : undefined,
        timer: setTimeout(
          () => this.#timedOut(req.requestId),
          Math.max(0, req.deadlineMs - this.#clock.now()),
        ),
        resolve,
      };
      cur.timer.unref();
      if (!this.#poll) {
        this.#poll = setInterval(() => this.#checkMemory(), MEMORY_POLL_MS);
        this.#poll.unref();
      }
      this.#inflight.set(req.requestId, cur);
      this.#emit(startLine(req.requestId, this.target.version), this.#clock.now(), cur);
      this.#channel.dispatch(req);
    });
  }

  /** Graceful: let the invocations in flight finish, then kill. */
  async stop(): Promise<void> {
    while (this.#state === 'busy') {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    this.kill();
    await this.closed;
  }

  /** Now. An invocation in flight ends with Runtime.ExitError (signal: killed). */
  kill(): void {
    if (this.#state === 'starting') this.#failInit(exitError(null, 'SIGKILL'));
    if (this.#state === 'idle') this.#state = 'dead';
    this.#proc.kill();
  }

  #failInit(error: FunctionErrorBody): void {
    if (this.#state !== 'starting') return;
    this.#state = 'dead';
    this.#initError = error;
    this.#initErrorPending = true;
    this.#proc.memory.read();
    this.#proc.kill();
    this.#initDone?.();
  }

  /**
   * As Lambda, and as Cloud Run does for a concurrent container: a timed-out invocation ends its
   * process, so the others in flight on it end with Runtime.ExitError (docs/runtimes.md).
   */
  #timedOut(requestId: string): void {
    const cur = this.#inflight.get(requestId);
    if (!cur) return;
    const now = this.#clock.now();
    const error = timeoutError(now, requestId, this.target.timeout);
    this.#proc.memory.read();
    this.#proc.kill();
    this.#emit(error.errorMessage, now, cur);
    this.#finish(cur, { status: 'error', error }, true);
  }

  #checkMemory(): void {
    if (this.#inflight.size === 0) return;
    const { rssMb } = this.#proc.memory.read();
    if (rssMb <= this.target.memorySize) return;
    this.#proc.kill();
    this.#failAll(outOfMemoryError(rssMb, this.target.memorySize));
  }

  #onExit(info: ExitInfo): void {
    if (this.#state === 'starting') {
      this.#failInit(this.#exitErrorFor(info));
      return;
    }
    if (this.#inflight.size > 0) this.#failAll(this.#exitErrorFor(info));
    this.#state = 'dead';
  }

  /** V8 prints its heap-limit death on fd 2 before aborting: that is a memory failure too. */
  #exitErrorFor(info: ExitInfo): FunctionErrorBody {
    if (/JavaScript heap out of memory|Reached heap limit/.test(this.#proc.stderrTail)) {
      const { peakMb } = this.#proc.memory.read();
      return outOfMemoryError(peakMb, this.target.memorySize);
    }
    return exitError(info.code, info.signal);
  }

  /** A platform-detected failure: logged as Lambda logs it for each invocation it ends. */
  #failAll(error: FunctionErrorBody): void {
    for (const cur of [...this.#inflight.values()]) {
      const line = `RequestId: ${cur.req.requestId} Error: ${error.errorMessage}\n${error.errorType}`;
      this.#emit(line, this.#clock.now(), cur);
      this.#finish(cur, { status: 'error', error }, true);
    }
  }

  #finish(cur: Current, outcome: InvokeOutcome, dead: boolean): void {
    if (this.#inflight.get(cur.req.requestId) !== cur) return;
    clearTimeout(cur.timer);
    this.#inflight.delete(cur.req.requestId);
    if (this.#inflight.size === 0 && this.#poll) {
      clearInterval(this.#poll);
      this.#poll = undefined;
    }
    // With others still in flight the partial lines may be theirs: they flush when those end.
    if (this.#inflight.size === 0) {
      for (const splitter of Object.values(this.#splitters)) {
        splitter.flush((line) => this.#emit(line, this.#clock.now(), cur));
      }
    }
    const durationMs = performance.now() - cur.startedAt;
    const { peakMb } = this.#proc.memory.read();
    const initDurationMs = this.#initDurationMs;
    this.#initDurationMs = undefined;
    const id = cur.req.requestId;
    const now = this.#clock.now();
    this.#emit(endLine(id), now, cur);
    this.#emit(
      reportLine({
        requestId: id,
        durationMs,
        memorySizeMb: this.target.memorySize,
        maxMemoryUsedMb: peakMb,
        initDurationMs,
      }),
      now,
      cur,
    );
    if (dead || this.#state === 'dead') {
      this.#state = 'dead';
      this.#proc.kill();
    } else if (this.#inflight.size === 0) {
      this.#state = 'idle';
    }
    const result: InvokeResult = {
      outcome,
      executedVersion: this.target.version,
      durationMs,
      maxMemoryUsedMb: peakMb,
    };
    if (initDurationMs !== undefined) result.initDurationMs = initDurationMs;
    if (cur.tail) result.logTail = cur.tail.text();
    cur.resolve(result);
    if (this.#state !== 'busy') for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  /** The invocation that caused a failed init gets its error, with Lambda's lines around it. */
  #initFailureResult(req: InvokeRequest, error: FunctionErrorBody): InvokeResult {
    const tail = req.tailLogs ? new LogTail() : undefined;
    const emit = (line: string) => {
      tail?.add(line);
      this.#send(line, req.requestId, this.#clock.now());
    };
    const initDurationMs = this.#initDurationMs;
    this.#initDurationMs = undefined;
    const { peakMb } = this.#proc.memory.read();
    emit(startLine(req.requestId, this.target.version));
    emit(`RequestId: ${req.requestId} Error: ${error.errorMessage}\n${error.errorType}`);
    emit(endLine(req.requestId));
    emit(
      reportLine({
        requestId: req.requestId,
        durationMs: 0,
        memorySizeMb: this.target.memorySize,
        maxMemoryUsedMb: peakMb,
        initDurationMs,
      }),
    );
    const result: InvokeResult = {
      outcome: { status: 'error', error },
      executedVersion: this.target.version,
      durationMs: 0,
      maxMemoryUsedMb: peakMb,
    };
    if (initDurationMs !== undefined) result.initDurationMs = initDurationMs;
    if (tail) result.logTail = tail.text();
    return result;
  }

  #raw(kind: 'out' | 'err' | 'pipeOut' | 'pipeErr', text: string, cur = this.#sole()): void {
    this.#splitters[kind].push(text, (line) => this.#emit(line, this.#clock.now(), cur));
  }

  /** The one invocation in flight; none when idle or when several share the process. */
  #sole(): Current | undefined {
    if (this.#inflight.size !== 1) return undefined;
    return this.#inflight.values().next().value;
  }

  /** One line of invocation `cur` (or of init / idle time, with no request id). */
  #emit(message: string, ts: number = this.#clock.now(), cur?: Current): void {
    cur?.tail?.add(message);
    this.#send(message, cur?.req.requestId, ts);
  }

  #send(message: string, requestId: string | undefined, timestamp: number): void {
    try {
      this.#onLog({
        functionName: this.target.functionName,
        version: this.target.version,
        logStream: this.logStream,
        requestId,
        timestamp,
        message,
      });
    } catch {
      // A failing log sink must not take the invocation down with it.
    }
  }
}
