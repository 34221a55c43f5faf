/**
 * HTTP client for the task-status routes of asynchronous invocations (docs/async.md): records,
 * stop, dead letters and redrive.
 */
import type { InvocationRecord } from '../platform/async/invocation-records.js';
import type { DeadJob } from '../queue/work-queue.js';
import { ApiError, NoPlatformError } from './control-client.js';

export type { DeadJob, InvocationRecord };

export class InvocationsClient {
  readonly endpoint: string;
  readonly #token: string | undefined;

  constructor(opts: { endpoint: string; token?: string }) {
    this.endpoint = opts.endpoint.replace(/\/+$/, '');
    this.#token = opts.token;
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
    return (await this.#json<{ invocations: InvocationRecord[] }>('GET', path)).invocations;
  }

  async get(id: string): Promise<InvocationRecord> {
    return this.#json<InvocationRecord>('GET', `/v1/invocations/${encodeURIComponent(id)}`);
  }

  /** The record, now Stopped; 409 (ApiError) when it is running or already over. */
  async stop(id: string): Promise<InvocationRecord> {
    return this.#json<InvocationRecord>('POST', `/v1/invocations/${encodeURIComponent(id)}/stop`);
  }

  /** Oldest first. */
  async deadLetters(functionName: string, params: { limit?: number } = {}): Promise<DeadJob[]> {
    const query = params.limit === undefined ? '' : `?limit=${params.limit}`;
    const path = `${functionPath(functionName)}/dead-letters${query}`;
    return (await this.#json<{ deadLetters: DeadJob[] }>('GET', path)).deadLetters;
  }

  /** Queues dead letters again (all, or these ids); returns how many. */
  async redrive(functionName: string, ids?: string[]): Promise<number> {
    const path = `${functionPath(functionName)}/dead-letters/redrive`;
    const body = ids === undefined ? {} : { ids };
    return (await this.#json<{ redriven: number }>('POST', path, body)).redriven;
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.endpoint}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      const code = (error as { cause?: { code?: string } })?.cause?.code ?? '';
      if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNRESET', 'EAI_AGAIN'].includes(code)) {
        throw new NoPlatformError(this.endpoint);
      }
      throw error;
    }
    const text = await res.text();
    if (res.ok) return JSON.parse(text) as T;
    let code = 'NIMBUS_HTTP_ERROR';
    let message = `${method} ${path} answered ${res.status}`;
    try {
      const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
      code = parsed.error?.code ?? code;
      message = parsed.error?.message ?? message;
    } catch {
      // Not JSON (a proxy's error page, say): keep the generic message.
    }
    throw new ApiError(res.status, code, message);
  }
}

function functionPath(functionName: string): string {
  return `/v1/functions/${encodeURIComponent(functionName)}`;
}
