/** Typed HTTP client for the control-plane API (docs/http-api.md); the CLI's only way in. */
import type { Deployment, FunctionVersion, ServiceStage } from '../model/deployment.js';
import type { FunctionDefinition, ServiceDefinition } from '../model/service-definition.js';
import { PlatformHttp } from './platform-http.js';

export { ApiError, NoPlatformError } from './platform-http.js';

export interface DeployResponse {
  skipped: boolean;
  deployment?: Deployment;
  changes?: {
    kind: 'unchanged' | 'publish' | 'restore';
    key: string;
    name: string;
    version: number;
  }[];
  removed?: string[];
  service: ServiceStage;
  /** What happened to the stage's `resources` (docs/resources.md). */
  resources?: ResourcesSummary;
}

export interface ResourceChange {
  logicalId: string;
  type: string;
  physicalId: string;
}

export interface ResourcesSummary {
  applied?: ResourceChange[];
  removed: ResourceChange[];
  /** Resources that stayed, and why (a bucket that is not empty). */
  kept: (ResourceChange & { reason: string })[];
  outputs?: Record<string, string>;
}

export interface RemovedStage {
  functions: string[];
  resources?: ResourceChange[];
  kept?: ResourcesSummary['kept'];
}

export interface FunctionDetails {
  function: ServiceStage['functions'][number];
  service: string;
  stage: string;
  aliases: { name: string; version: number }[];
  versions: FunctionVersion[];
}

export class ControlClient {
  readonly #http: PlatformHttp;

  constructor(opts: { endpoint: string; token?: string }) {
    this.#http = new PlatformHttp(opts);
  }

  get endpoint(): string {
    return this.#http.endpoint;
  }

  async health(): Promise<void> {
    await this.#http.request('GET', '/health');
  }

  async getStage(service: string, stage: string): Promise<ServiceStage | undefined> {
    return this.#http.maybeJson<ServiceStage>('GET', stagePath(service, stage));
  }

  /** The stage's API keys with their values (`info`'s `api keys:`); [] when it has none. */
  async getApiKeys(
    service: string,
    stage: string,
  ): Promise<{ name: string; value: string; description?: string }[]> {
    const found = await this.#http.maybeJson<{
      apiKeys: { name: string; value: string; description?: string }[];
    }>('GET', `${stagePath(service, stage)}/api-keys`);
    return found?.apiKeys ?? [];
  }

  /** The stage's resolved `resources.Outputs`; undefined when no such stage is deployed. */
  async getOutputs(service: string, stage: string): Promise<Record<string, string> | undefined> {
    const found = await this.#http.maybeJson<{ outputs?: Record<string, string> }>(
      'GET',
      `${stagePath(service, stage)}/resources`,
    );
    return found ? (found.outputs ?? {}) : undefined;
  }

  async listServices(): Promise<ServiceStage[]> {
    return (await this.#http.json<{ services: ServiceStage[] }>('GET', '/v1/services')).services;
  }

  async hasArtifact(sha256: string): Promise<boolean> {
    const res = await this.#http.buffered('HEAD', `/v1/artifacts/${sha256}`, { accept: [404] });
    return res.status === 200;
  }

  async uploadArtifact(sha256: string, zip: Buffer): Promise<void> {
    await this.#http.buffered('PUT', `/v1/artifacts/${sha256}`, {
      body: zip,
      contentType: 'application/zip',
    });
  }

  async deploy(
    definition: ServiceDefinition,
    functionArtifacts: Record<string, string>,
    force: boolean,
  ): Promise<DeployResponse> {
    return this.#http.json<DeployResponse>(
      'POST',
      `${stagePath(definition.service, definition.stage)}/deployments`,
      { definition, functionArtifacts, force },
    );
  }

  /** New code (`artifact`) or new configuration (`config`) for one deployed function. */
  async deployFunction(
    service: string,
    stage: string,
    key: string,
    change: { artifact: string } | { config: FunctionDefinition },
    force: boolean,
  ): Promise<DeployResponse> {
    return this.#http.json<DeployResponse>(
      'POST',
      `${stagePath(service, stage)}/functions/${encodeURIComponent(key)}/deployments`,
      { ...change, force },
    );
  }

  async rollback(service: string, stage: string, timestamp: number): Promise<DeployResponse> {
    return this.#http.json<DeployResponse>('POST', `${stagePath(service, stage)}/rollback`, {
      timestamp,
    });
  }

  async rollbackFunction(
    service: string,
    stage: string,
    key: string,
    version: number,
  ): Promise<DeployResponse> {
    return this.#http.json<DeployResponse>(
      'POST',
      `${stagePath(service, stage)}/functions/${encodeURIComponent(key)}/rollback`,
      { version },
    );
  }

  async listDeployments(service: string, stage: string): Promise<Deployment[] | undefined> {
    const res = await this.#http.maybeJson<{ deployments: Deployment[] }>(
      'GET',
      `${stagePath(service, stage)}/deployments`,
    );
    return res?.deployments;
  }

  async getFunction(name: string): Promise<FunctionDetails | undefined> {
    return this.#http.maybeJson<FunctionDetails>(
      'GET',
      `/v1/functions/${encodeURIComponent(name)}`,
    );
  }

  async removeStage(service: string, stage: string): Promise<RemovedStage | undefined> {
    const res = await this.#http.maybeJson<{ removed: RemovedStage }>(
      'DELETE',
      stagePath(service, stage),
    );
    return res?.removed;
  }
}

function stagePath(service: string, stage: string): string {
  return `/v1/services/${encodeURIComponent(service)}/stages/${encodeURIComponent(stage)}`;
}
