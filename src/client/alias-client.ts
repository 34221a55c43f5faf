/** Reads and writes a function's aliases through the Lambda API (docs/lambda-api.md), for `nimbus alias`. */
import { isConnectionFailure, NoPlatformError } from './platform-http.js';

export interface AliasView {
  Name: string;
  FunctionVersion: string;
  Description?: string;
  RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> };
}

export class AliasApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export class AliasClient {
  readonly #endpoint: string;
  readonly #token: string | undefined;

  constructor(target: { endpoint: string; token?: string }) {
    this.#endpoint = target.endpoint.replace(/\/+$/, '');
    this.#token = target.token;
  }

  get(functionName: string, alias: string): Promise<AliasView> {
    return this.#call('GET', `${enc(functionName)}/aliases/${enc(alias)}`);
  }

  create(functionName: string, body: Record<string, unknown>): Promise<AliasView> {
    return this.#call('POST', `${enc(functionName)}/aliases`, body);
  }

  update(functionName: string, alias: string, body: Record<string, unknown>): Promise<AliasView> {
    return this.#call('PUT', `${enc(functionName)}/aliases/${enc(alias)}`, body);
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let res: Response;
    try {
      res = await fetch(`${this.#endpoint}/2015-03-31/functions/${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      if (isConnectionFailure(error)) throw new NoPlatformError(this.#endpoint);
      throw error;
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        const parsed = JSON.parse(text) as { message?: string; Message?: string };
        message = parsed.message ?? parsed.Message ?? text;
      } catch {}
      throw new AliasApiError(res.headers.get('x-amzn-errortype') ?? `HTTP ${res.status}`, message);
    }
    return JSON.parse(text) as T;
  }
}

function enc(part: string): string {
  return encodeURIComponent(part);
}
