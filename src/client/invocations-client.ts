/**
 * HTTP client for the task-status routes of asynchronous invocations (docs/async.md): records,
 * stop, dead letters and redrive.
 */
import type { InvocationRecord } from '../platform/async/invocation-records.js';
import type { DeadJob } from '../queue/work-queue.js';
import { PlatformHttp } from './platform-http.js';

export type { DeadJob, InvocationRecord };

export class InvocationsClient {
  readonly #http: PlatformHttp;

  constructor(opts: { endpoint: string; token?: string }) {
    this.#http = new PlatformHttp(opts);
  }

  get endpoint(): string {
    return this.#http.endpoint;
  }

  /** Newest first; `status` is matched case-insensitively by the platform. */
  async list(
    functionName: string,
    params: { status?: string; limit?: number } = {},
  ): Promise<InvocationRecord[]> {
    const search = new URLSearchParams();
    if (params.status) search.set('status', params.status);
    if (params.limit !== undefined) search.set('limit', String(params.limit));
    const query = search.size === 0 ? '' : `?${search}`;
    const path = `${functionPath(functionName)}/invocations${query}`;
    return (await this.#http.json<{ invocations: InvocationRecord[] }>('GET', path)).invocations;
  }

  async get(id: string): Promise<InvocationRecord> {
    return this.#http.json<InvocationRecord>('GET', `/v1/invocations/${encodeURIComponent(id)}`);
  }

  /** The record, now Stopped; 409 (ApiError) when it is running or already over. */
  async stop(id: string): Promise<InvocationRecord> {
    return this.#http.json<InvocationRecord>(
      'POST',
      `/v1/invocations/${encodeURIComponent(id)}/stop`,
    );
  }

  /** Oldest first. */
  async deadLetters(functionName: string, params: { limit?: number } = {}): Promise<DeadJob[]> {
    const query = params.limit === undefined ? '' : `?limit=${params.limit}`;
    const path = `${functionPath(functionName)}/dead-letters${query}`;
    return (await this.#http.json<{ deadLetters: DeadJob[] }>('GET', path)).deadLetters;
  }

  /** Queues dead letters again (all, or these ids); returns how many. */
  async redrive(functionName: string, ids?: string[]): Promise<number> {
    const path = `${functionPath(functionName)}/dead-letters/redrive`;
    const body = ids === undefined ? {} : { ids };
    return (await this.#http.json<{ redriven: number }>('POST', path, body)).redriven;
  }
}

function functionPath(functionName: string): string {
  return `/v1/functions/${encodeURIComponent(functionName)}`;
}
