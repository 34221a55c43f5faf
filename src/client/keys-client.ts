/** Typed HTTP client for the access-key routes of the control plane (`/v1/keys`). */
import type {
  AccessKey,
  AccessKeyScope,
  CreatedAccessKey,
} from '../platform/auth/access-key-store.js';
import { ApiError, PlatformHttp } from './platform-http.js';

export type { AccessKey, AccessKeyScope, CreatedAccessKey };

export class KeysClient {
  readonly #http: PlatformHttp;

  constructor(opts: { endpoint: string; token?: string }) {
    this.#http = new PlatformHttp(opts);
  }

  get endpoint(): string {
    return this.#http.endpoint;
  }

  /** The answer is the only time the secret is ever shown. */
  async create(description?: string, scope?: AccessKeyScope): Promise<CreatedAccessKey> {
    const body = {
      ...(description === undefined ? {} : { description }),
      ...(scope === undefined ? {} : { scope }),
    };
    return (await this.#http.json<{ key: CreatedAccessKey }>('POST', '/v1/keys', body)).key;
  }

  async list(): Promise<AccessKey[]> {
    return (await this.#http.json<{ keys: AccessKey[] }>('GET', '/v1/keys')).keys;
  }

  /** False when the platform has no such key. */
  async delete(id: string): Promise<boolean> {
    try {
      await this.#http.json('DELETE', `/v1/keys/${encodeURIComponent(id)}`);
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && error.code === 'NIMBUS_NOT_FOUND') {
        return false;
      }
      throw error;
    }
  }
}
