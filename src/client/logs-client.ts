/** HTTP client for the log endpoints (docs/logs.md): pages of stored lines and the live tail. */
import { PlatformHttp } from './platform-http.js';

/** One log line as the API sends it; `id` is absent on a line the tail sent before storing it. */
export interface LogLine {
  id?: number;
  functionName: string;
  version: string;
  logStream: string;
  requestId?: string;
  timestamp: number;
  message: string;
}

export interface LogPage {
  events: LogLine[];
  /** Pass as `after` for the next page; null when this page was the last. */
  next: number | null;
}

export interface LogQueryParams {
  startTime?: number;
  endTime?: number;
  filter?: string;
  limit?: number;
  after?: number;
}

export class LogsClient {
  readonly #http: PlatformHttp;

  constructor(opts: { endpoint: string; token?: string }) {
    this.#http = new PlatformHttp(opts);
  }

  get endpoint(): string {
    return this.#http.endpoint;
  }

  /** One page of stored lines, oldest first. */
  async query(functionName: string, params: LogQueryParams = {}): Promise<LogPage> {
    const res = await this.#get(logsPath(functionName, '', params));
    return (await res.json()) as LogPage;
  }

  /**
   * Stored lines from `startTime` / `after`, then each new line as it is written, until the
   * server ends the stream or `signal` aborts (then it returns quietly).
   */
  async *tail(
    functionName: string,
    params: { startTime?: number; filter?: string; after?: number },
    signal: AbortSignal,
  ): AsyncGenerator<LogLine> {
    let res: Response;
    try {
      res = await this.#get(logsPath(functionName, '/tail', params), signal);
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    if (!res.body) return;
    const decoder = new TextDecoder();
    let partial = '';
    try {
      for await (const chunk of res.body) {
        partial += decoder.decode(chunk as Uint8Array, { stream: true });
        let nl = partial.indexOf('\n');
        while (nl !== -1) {
          const line = partial.slice(0, nl);
          partial = partial.slice(nl + 1);
          // Blank lines are the server's keep-alive.
          if (line.trim() !== '') yield JSON.parse(line) as LogLine;
          nl = partial.indexOf('\n');
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
  }

  #get(path: string, signal?: AbortSignal): Promise<Response> {
    return this.#http.request('GET', path, signal ? { signal } : {});
  }
}

function logsPath(functionName: string, suffix: string, params: LogQueryParams): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  const query = text === '' ? '' : `?${text}`;
  return `/v1/functions/${encodeURIComponent(functionName)}/logs${suffix}${query}`;
}
