/** Typed HTTP client for the access-key routes of the control plane (`/v1/keys`). */
import type { AccessKey, CreatedAccessKey } from '../platform/auth/access-key-store.js';
import { ApiError, NoPlatformError } from './control-client.js';

export type { AccessKey, CreatedAccessKey };

export class KeysClient {
  readonly endpoint: string;
  readonly #token: string | undefined;

  constructor(opts: { endpoint: string; token?: string }) {
    this.endpoint = opts.endpoint.replace(/\/+$/, '');
    this.#token = opts.token;
  }

  /** The answer is the only time the secret is ever shown. */
  async create(description?: string): Promise<CreatedAccessKey> {
    const body = description === undefined ? {} : { description };
    return (await this.#json<{ key: CreatedAccessKey }>('POST', '/v1/keys', body)).key;
  }

  async list(): Promise<AccessKey[]> {
    return (await this.#json<{ keys: AccessKey[] }>('GET', '/v1/keys')).keys;
  }

  /** False when the platform has no such key. */
  async delete(id: string): Promise<boolean> {
    try {
      await this.#json('DELETE', `/v1/keys/${encodeURIComponent(id)}`);
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && error.code === 'NIMBUS_NOT_FOUND') {
        return false;
      }
      throw error;
    }
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
