import type { FunctionDefinition, ServiceDefinition } from './service-definition.js';

/** One immutable, numbered version of a function: code (artifact) plus configuration. */
export interface FunctionVersion {
  /** Deployed function name (`<service>-<stage>-<key>`). */
  functionName: string;
  /** Logical key under `functions:`. */
  key: string;
  version: number;
  /** sha256 (hex) of the zip in the blob store. */
  codeSha256: string;
  /** sha256 (hex) over the configuration that makes this version distinct. */
  configSha256: string;
  config: FunctionDefinition;
  createdAt: string;
}

/** A stage alias (`dev`, `prod`, ...) pointing at one version of a function. */
export interface Alias {
  functionName: string;
  name: string;
  version: number;
}

/** One deploy of a service stage, as `deploy list` shows it. */
export interface Deployment {
  id: string;
  service: string;
  stage: string;
  region: string;
  /** Epoch milliseconds; the Serverless Framework's `Timestamp:`. */
  timestamp: number;
  /** sha256 (hex) over the definition and every artifact; equal hash = nothing to deploy. */
  hash: string;
  definition: ServiceDefinition;
  /** function key -> version number this deployment made current. */
  functions: Record<string, number>;
  /** artifact sha256 per function key. */
  artifacts: Record<string, string>;
}

/** A service stage and the functions it currently serves. */
export interface ServiceStage {
  service: string;
  stage: string;
  region: string;
  createdAt: string;
  updatedAt: string;
  current?: Deployment;
  functions: FunctionSummary[];
  /** `GET - http://127.0.0.1:8642/<service>-<stage>/path` lines for every http/httpApi route. */
  endpoints: string[];
  /** Host-based base URL of the stage (`http://<service>-<stage>.localhost:8642`). */
  hostBase?: string;
}

export interface FunctionSummary {
  key: string;
  functionName: string;
  /** Version the stage alias points to. */
  version: number;
  versions: number[];
  runtime: string;
  handler: string;
  codeSha256: string;
  codeSize: number;
}
