/**
 * The one way the CLI's clients speak HTTP to a platform: bearer token, JSON bodies, a clear
 * "no platform" error when nothing listens, and the platform's `{"error":{code,message}}`
 * answers turned into ApiError. Every control-plane client is a thin layer over it.
 */

import { type BufferedAnswer, bufferedRequest } from './buffered-request.js';

export class NoPlatformError extends Error {
  readonly code = 'NIMBUS_CLI_NO_PLATFORM';
  constructor(readonly endpoint: string) {
    super(
      `No Nimbus platform at ${endpoint}: start one with 'nimbus server', or point the CLI at ` +
        `a running one with 'nimbus login --endpoint <url>' (or NIMBUS_ENDPOINT)`,
    );
  }
}

const apiErrorBrand = Symbol.for('nimbus.ApiError');

export class ApiError extends Error {
  readonly [apiErrorBrand] = true;

  /** Recognised across copies of this module (the bundled CLI and dist/src). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return (value as { [apiErrorBrand]?: unknown } | null)?.[apiErrorBrand] === true;
  }

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The platform that answered, for hints such as where its admin token is. */
    readonly endpoint?: string,
  ) {
    super(message);
  }
}

/** fetch failed before any answer: nothing listens there (or the name does not resolve). */
export function isConnectionFailure(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } })?.cause;
  return ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNRESET', 'EAI_AGAIN'].includes(
    cause?.code ?? '',
  );
}

export interface RequestOptions {
  body?: string | Buffer;
  contentType?: string;
  /** Statuses answered as they are instead of thrown as ApiError. */
  accept?: number[];
  signal?: AbortSignal;
}

export class PlatformHttp {
  readonly endpoint: string;
  readonly #token: string | undefined;

  constructor(opts: { endpoint: string; token?: string }) {
    this.endpoint = opts.endpoint.replace(/\/+$/, '');
    this.#token = opts.token;
  }

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (opts.contentType) headers['content-type'] = opts.contentType;
    let res: Response;
    try {
      res = await fetch(`${this.endpoint}${path}`, {
        method,
        headers,
        body: opts.body,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (error) {
      if (isConnectionFailure(error)) throw new NoPlatformError(this.endpoint);
      throw error;
    }
    if (res.ok || opts.accept?.includes(res.status)) return res;
    throw await apiErrorOf(res, `${method} ${path}`, this.endpoint);
  }

  /**
   * As request(), with both bodies buffered, over node:http: what the deploy path's artifact
   * calls use, so `deploy function` never loads undici (fetch) either.
   */
  async buffered(
    method: string,
    path: string,
    opts: Omit<RequestOptions, 'signal'> = {},
  ): Promise<BufferedAnswer> {
    const headers: Record<string, string> = {};
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (opts.contentType) headers['content-type'] = opts.contentType;
    let res: BufferedAnswer;
    try {
      res = await bufferedRequest(`${this.endpoint}${path}`, {
        method,
        headers,
        ...(opts.body === undefined ? {} : { body: opts.body }),
      });
    } catch (error) {
      if (isConnectionFailure({ cause: error })) throw new NoPlatformError(this.endpoint);
      throw error;
    }
    if ((res.status >= 200 && res.status <= 299) || opts.accept?.includes(res.status)) return res;
    throw apiErrorFrom(res.status, res.body.toString('utf8'), `${method} ${path}`, this.endpoint);
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: BufferedAnswer;
    try {
      res = await bufferedRequest(`${this.endpoint}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      if (isConnectionFailure({ cause: error })) throw new NoPlatformError(this.endpoint);
      throw error;
    }
    const text = res.body.toString('utf8');
    if (res.status < 200 || res.status > 299) {
      throw apiErrorFrom(res.status, text, `${method} ${path}`, this.endpoint);
    }
    return JSON.parse(text) as T;
  }

  /** As json(), but a 404 NIMBUS_NOT_FOUND is undefined instead of an error. */
  async maybeJson<T>(method: string, path: string, body?: unknown): Promise<T | undefined> {
    try {
      return await this.json<T>(method, path, body);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && error.code === 'NIMBUS_NOT_FOUND') {
        return undefined;
      }
      throw error;
    }
  }
}

async function apiErrorOf(res: Response, what: string, endpoint: string): Promise<ApiError> {
  return apiErrorFrom(res.status, await res.text(), what, endpoint);
}

function apiErrorFrom(status: number, text: string, what: string, endpoint: string): ApiError {
  let code = 'NIMBUS_HTTP_ERROR';
  let message = `${what} answered ${status}`;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
    code = parsed.error?.code ?? code;
    message = parsed.error?.message ?? message;
  } catch {
    // Not JSON (a proxy's error page, say): keep the generic message.
  }
  return new ApiError(status, code, message, endpoint);
}
