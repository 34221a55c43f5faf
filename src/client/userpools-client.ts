/** `GET /v1/userpools/outbox` for `nimbus userpools outbox`. */
import { PlatformHttp } from './platform-http.js';

export interface OutboxMessageView {
  id: string;
  poolId: string;
  username: string;
  destination: string;
  kind: string;
  message: string;
  createdAt: number;
}

export class UserPoolsClient {
  readonly #http: PlatformHttp;

  constructor(opts: { endpoint: string; token?: string }) {
    this.#http = new PlatformHttp(opts);
  }

  outbox(filter: { pool?: string; limit?: number }): Promise<{ messages: OutboxMessageView[] }> {
    const query = new URLSearchParams();
    if (filter.pool) query.set('pool', filter.pool);
    if (filter.limit !== undefined) query.set('limit', String(filter.limit));
    const suffix = query.size > 0 ? `?${query}` : '';
    return this.#http.json('GET', `/v1/userpools/outbox${suffix}`);
  }
}
