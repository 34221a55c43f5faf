/** `GET /v1/cluster/nodes` for `nimbus cluster status`. */
import { PlatformHttp } from './platform-http.js';

export interface ClusterNodeView {
  name: string;
  url: string;
  version: string;
  startedAt: number;
  heartbeatAt: number;
  health: 'up' | 'down' | 'stopped';
  load: { instances: number; busy: number; asyncRuns: number };
}

export interface ClusterView {
  mode: 'single' | 'cluster';
  /** The node that answered. */
  self: string;
  nodes: ClusterNodeView[];
}

export class ClusterClient {
  readonly #http: PlatformHttp;

  constructor(opts: { endpoint: string; token?: string }) {
    this.#http = new PlatformHttp(opts);
  }

  get endpoint(): string {
    return this.#http.endpoint;
  }

  status(): Promise<ClusterView> {
    return this.#http.json<ClusterView>('GET', '/v1/cluster/nodes');
  }
}
