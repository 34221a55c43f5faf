/** Typed HTTP client for the control-plane API (docs/http-api.md); the CLI's only way in. */
import type { Deployment, FunctionVersion, ServiceStage } from '../model/deployment.js';
import type { ServiceDefinition } from '../model/service-definition.js';

export class NoPlatformError extends Error {
  readonly code = 'NIMBUS_CLI_NO_PLATFORM';
  constructor(readonly endpoint: string) {
    super(`No Nimbus platform at ${endpoint}: start one with 'nimbus server'`);
  }
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface DeployResponse {
  skipped: boolean;
  deployment?: Deployment;
  changes?: { kind: 'unchanged' | 'publish'; key: string; name: string; version: number }[];
  removed?: string[];
  service: ServiceStage;
}

export interface FunctionDetails {
  function: ServiceStage['functions'][number];
  service: string;
  stage: string;
  aliases: { name: string; version: number }[];
  versions: FunctionVersion[];
}

export class ControlClient {
  readonly endpoint: string;
  readonly #token: string | undefined;

  constructor(opts: { endpoint: string; token?: string }) {
    this.endpoint = opts.endpoint.replace(/\/+$/, '');
    this.#token = opts.token;
  }

  async health(): Promise<void> {
    await this.#request('GET', '/health');
  }

  async getStage(service: string, stage: string): Promise<ServiceStage | undefined> {
    return this.#maybe(() => this.#json<ServiceStage>('GET', stagePath(service, stage)));
  }

  async listServices(): Promise<ServiceStage[]> {
    return (await this.#json<{ services: ServiceStage[] }>('GET', '/v1/services')).services;
  }

  async hasArtifact(sha256: string): Promise<boolean> {
    const res = await this.#request('HEAD', `/v1/artifacts/${sha256}`, undefined, [404]);
    return res.status === 200;
  }

  async uploadArtifact(sha256: string, zip: Buffer): Promise<void> {
    await this.#request('PUT', `/v1/artifacts/${sha256}`, {
      body: zip,
      contentType: 'application/zip',
    });
  }

  async deploy(
    definition: ServiceDefinition,
    functionArtifacts: Record<string, string>,
    force: boolean,
  ): Promise<DeployResponse> {
    return this.#json<DeployResponse>(
      'POST',
      `${stagePath(definition.service, definition.stage)}/deployments`,
      { definition, functionArtifacts, force },
    );
  }

  async listDeployments(service: string, stage: string): Promise<Deployment[] | undefined> {
    const res = await this.#maybe(() =>
      this.#json<{ deployments: Deployment[] }>('GET', `${stagePath(service, stage)}/deployments`),
    );
    return res?.deployments;
  }

  async getFunction(name: string): Promise<FunctionDetails | undefined> {
    return this.#maybe(() =>
      this.#json<FunctionDetails>('GET', `/v1/functions/${encodeURIComponent(name)}`),
    );
  }

  async removeStage(service: string, stage: string): Promise<{ functions: string[] } | undefined> {
    const res = await this.#maybe(() =>
      this.#json<{ removed: { functions: string[] } }>('DELETE', stagePath(service, stage)),
    );
    return res?.removed;
  }

  async #maybe<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && error.code === 'NIMBUS_NOT_FOUND') {
        return undefined;
      }
      throw error;
    }
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.#request(
      method,
      path,
      body === undefined
        ? undefined
        : { body: JSON.stringify(body), contentType: 'application/json' },
    );
    return (await res.json()) as T;
  }

  async #request(
    method: string,
    path: string,
    payload?: { body: string | Buffer; contentType: string },
    okStatuses: number[] = [],
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (payload) headers['content-type'] = payload.contentType;
    let res: Response;
    try {
      res = await fetch(`${this.endpoint}${path}`, { method, headers, body: payload?.body });
    } catch (error) {
      if (isConnectionFailure(error)) throw new NoPlatformError(this.endpoint);
      throw error;
    }
    if (res.ok || okStatuses.includes(res.status)) return res;
    const text = await res.text();
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

function stagePath(service: string, stage: string): string {
  return `/v1/services/${encodeURIComponent(service)}/stages/${encodeURIComponent(stage)}`;
}

function isConnectionFailure(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } })?.cause;
  return ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNRESET', 'EAI_AGAIN'].includes(
    cause?.code ?? '',
  );
}
