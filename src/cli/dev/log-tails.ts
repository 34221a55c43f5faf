import { ApiError } from '../../client/control-client.js';
import { type LogLine, LogsClient } from '../../client/logs-client.js';
import { followLogStream } from '../log-stream-follow.js';

export interface TailedFunction {
  key: string;
  functionName: string;
}

export interface LogTailsOptions {
  endpoint: string;
  token?: string;
  /** Lines from this time on (epoch ms); earlier ones belong to an earlier session. */
  startTime: number;
  /** One line, already prefixed with the function key. */
  print: (key: string, line: LogLine) => void;
  /** After a lost stream, how long to wait before reconnecting. */
  retryMs?: number;
}

interface Tail {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * One live log stream per function of the service (the platform's tail endpoint), kept in step
 * with the deployed functions: new functions get a stream, removed ones lose theirs.
 */
export class LogTails {
  readonly #client: LogsClient;
  readonly #opts: LogTailsOptions;
  readonly #tails = new Map<string, Tail>();

  constructor(opts: LogTailsOptions) {
    this.#opts = opts;
    this.#client = new LogsClient({
      endpoint: opts.endpoint,
      ...(opts.token ? { token: opts.token } : {}),
    });
  }

  /** Follows exactly these functions from now on. */
  sync(functions: TailedFunction[]): void {
    const wanted = new Map(functions.map((f) => [`${f.key}\u0000${f.functionName}`, f]));
    for (const [id, tail] of this.#tails) {
      if (!wanted.has(id)) {
        tail.controller.abort();
        this.#tails.delete(id);
      }
    }
    for (const [id, fn] of wanted) {
      if (this.#tails.has(id)) continue;
      const controller = new AbortController();
      this.#tails.set(id, { controller, done: this.#follow(fn, controller.signal) });
    }
  }

  /** Ends every stream; resolves once all have closed. */
  async close(): Promise<void> {
    const tails = [...this.#tails.values()];
    this.#tails.clear();
    for (const tail of tails) tail.controller.abort();
    await Promise.all(tails.map((t) => t.done));
  }

  #follow(fn: TailedFunction, signal: AbortSignal): Promise<void> {
    return followLogStream(
      this.#client,
      fn.functionName,
      {
        startTime: this.#opts.startTime,
        retryMs: this.#opts.retryMs ?? 1000,
        onLine: (line) => this.#opts.print(fn.key, line),
        // A refusal will not change by retrying; a function removed under us (404) reaches
        // sync() with the deploy that removed it. Anything else (the platform restarted, say):
        // pick the stream up again from the last line.
        onLost: (error) => (error instanceof ApiError ? 'stop' : undefined),
      },
      signal,
    );
  }
}
