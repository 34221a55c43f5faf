/**
 * The frames a Nimbus bootstrap (Node, Python) and the platform exchange over the child's fd 3,
 * a socketpair. A frame is one line of JSON (the header, which always carries `n`) followed by
 * `n` raw bytes (the body). Events and results cross as the JSON text they already are, never
 * escaped into another JSON string, so a 6 MB payload costs one copy, not an encode and a decode.
 *
 * src/runtimes/python/bootstrap.py speaks the same frames; change both together.
 */
import type { FunctionErrorBody } from '../model/invocation.js';

/** What the bootstrap needs to build `context` and log lines; sent once, in `init`. */
export interface FunctionInfo {
  name: string;
  version: string;
  arn: string;
  /** A string, as Lambda's context.memoryLimitInMB is. */
  memory: string;
  logGroup: string;
  logStream: string;
}

/** Platform → runtime. */
export type ToRuntimeFrame =
  /**
   * Load the user's code. The bootstrap replaces its whole environment with `env`. With `runAs`
   * (a runtime prewarmed as root) it first becomes that user for good, and exits if it cannot.
   */
  | {
      t: 'init';
      handler: string;
      taskRoot: string;
      env: Record<string, string>;
      fn: FunctionInfo;
      runAs?: { uid: number; gid: number };
      /**
       * Invocations the platform may send before earlier ones are answered (the function's
       * `concurrency`); absent means one at a time, Lambda's contract.
       */
      conc?: number;
    }
  /**
   * Body: the event's JSON text. `dl` is the deadline (epoch ms), `cc` the decoded client
   * context, `tr` the invocation's `_X_AMZN_TRACE_ID`.
   */
  | { t: 'invoke'; id: string; dl: number; cc?: string; tr?: string };

/** Where a log frame's text came from: a formatted log call, or raw writes to stdout/stderr. */
export type LogKind = 'line' | 'out' | 'err';

/** Runtime → platform. */
export type FromRuntimeFrame =
  /** Booted, no user code loaded yet (a prewarmed generic runtime). */
  | { t: 'ready' }
  | { t: 'inited' }
  | { t: 'initError'; error: FunctionErrorBody }
  /**
   * Body: the result's JSON text. `s`: the handler streamed its response (chunk frames came
   * first), so there is no body.
   */
  | { t: 'result'; id: string; s?: 1 }
  /**
   * Body: bytes a streaming handler wrote (awslambda.streamifyResponse), sent as written. `ct`,
   * on an invocation's first chunk only: the stream's content type.
   */
  | { t: 'chunk'; id: string; ct?: string }
  /** `fatal`: the process is about to exit (uncaught exception), do not reuse it. */
  | { t: 'error'; id: string; error: FunctionErrorBody; fatal?: boolean }
  /**
   * Body: the text. `line` is one complete, formatted log event; `out`/`err` are raw writes.
   * `id`: on a concurrent instance, the invocation whose code wrote it (none: init or a timer
   * outside any invocation).
   */
  | { t: 'log'; k: LogKind; ts: number; id?: string };

export type FrameHeader = { t: string; n?: number } & Record<string, unknown>;

const EMPTY = Buffer.alloc(0);
const NEWLINE = 10;

export function encodeFrame(header: object, body?: string | Buffer): Buffer {
  const bytes = body === undefined ? EMPTY : typeof body === 'string' ? Buffer.from(body) : body;
  const head = Buffer.from(`${JSON.stringify({ ...header, n: bytes.length })}\n`);
  return bytes.length === 0 ? head : Buffer.concat([head, bytes], head.length + bytes.length);
}

/**
 * Cuts a byte stream into frames. Bodies are gathered as a list of slices and joined once, so a
 * large body arriving in many chunks is copied once rather than once per chunk.
 */
export class FrameReader {
  readonly #onFrame: (header: FrameHeader, body: Buffer) => void;
  /** Bytes of a header line not yet ended by a newline. */
  #partialHeader: Buffer = EMPTY;
  #header: FrameHeader | undefined;
  #need = 0;
  #have = 0;
  #parts: Buffer[] = [];

  constructor(onFrame: (header: FrameHeader, body: Buffer) => void) {
    this.#onFrame = onFrame;
  }

  /** Throws on a header that is not a JSON object with a string `t`: the stream is unusable. */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#header) {
        const take = Math.min(this.#need - this.#have, chunk.length - at);
        this.#parts.push(chunk.subarray(at, at + take));
        this.#have += take;
        at += take;
        if (this.#have === this.#need) this.#emit();
        continue;
      }
      const nl = chunk.indexOf(NEWLINE, at);
      if (nl === -1) {
        this.#partialHeader = Buffer.concat([this.#partialHeader, chunk.subarray(at)]);
        return;
      }
      const line =
        this.#partialHeader.length === 0
          ? chunk.subarray(at, nl)
          : Buffer.concat([this.#partialHeader, chunk.subarray(at, nl)]);
      this.#partialHeader = EMPTY;
      at = nl + 1;
      const header = JSON.parse(line.toString('utf8')) as FrameHeader;
      if (header === null || typeof header !== 'object' || typeof header.t !== 'string') {
        throw new Error(`malformed frame header: ${line.toString('utf8').slice(0, 200)}`);
      }
      this.#header = header;
      this.#need = typeof header.n === 'number' && header.n > 0 ? header.n : 0;
      this.#have = 0;
      if (this.#need === 0) this.#emit();
    }
  }

  #emit(): void {
    const header = this.#header as FrameHeader;
    const parts = this.#parts;
    const body =
      parts.length === 0 ? EMPTY : parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    this.#header = undefined;
    this.#parts = [];
    this.#need = 0;
    this.#have = 0;
    this.#onFrame(header, body);
  }
}
