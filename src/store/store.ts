/**
 * The Store port: every piece of platform state goes through it, on SQLite (embedded default)
 * or PostgreSQL (cluster mode). Adapters live beside this file, one per dialect; both pass
 * the contract suite in test/store/.
 *
 * Rows carry JSON payloads as already-parsed values; adapters serialize them.
 */
import type { FunctionDefinition, ServiceDefinition } from '../model/service-definition.js';

export interface StageRow {
  id: number;
  service: string;
  stage: string;
  region: string;
  /** ISO-8601. */
  createdAt: string;
  updatedAt: string;
}

export interface FunctionRow {
  id: number;
  stageId: number;
  /** Logical key under `functions:`. */
  key: string;
  /** Deployed name, unique across the platform. */
  name: string;
}

export interface VersionRow {
  functionId: number;
  version: number;
  codeSha256: string;
  codeSize: number;
  configSha256: string;
  config: FunctionDefinition;
  createdAt: string;
}

export interface AliasRow {
  functionId: number;
  name: string;
  version: number;
  /**
   * Lambda's RoutingConfig.AdditionalVersionWeights: version -> share of invocations (0..1,
   * summing below 1) sent there instead of `version`. Absent: all go to `version`.
   */
  routing?: Record<string, number>;
  description?: string;
}

export interface DeploymentRow {
  id: string;
  stageId: number;
  /** Epoch milliseconds; unique per stage and increasing. */
  timestamp: number;
  hash: string;
  definition: ServiceDefinition;
  /** function key -> version made current by this deployment. */
  functions: Record<string, number>;
  /** function key -> artifact sha256. */
  artifacts: Record<string, string>;
}

/** What a layer version says about itself besides its code (Lambda's PublishLayerVersion). */
export interface LayerVersionSettings {
  description?: string;
  compatibleRuntimes?: string[];
  compatibleArchitectures?: string[];
  licenseInfo?: string;
}

/** One published version of a layer (docs/layers.md); names are platform-wide, as Lambda's. */
export interface LayerVersionRow {
  name: string;
  version: number;
  codeSha256: string;
  codeSize: number;
  unzippedSize: number;
  settings: LayerVersionSettings;
  /** sha256 over `settings`: equal code and settings need no new version from a deploy. */
  configSha256: string;
  /** `<service>/<stage>` that published it from serverless.yml; absent: the Lambda API. */
  owner?: string;
  createdAt: string;
}

export interface StoreReader {
  findStage(service: string, stage: string): Promise<StageRow | undefined>;
  listStages(): Promise<StageRow[]>;
  /** Newest first. */
  listDeployments(stageId: number): Promise<DeploymentRow[]>;
  listFunctions(stageId: number): Promise<FunctionRow[]>;
  findFunctionByName(name: string): Promise<FunctionRow | undefined>;
  /** Oldest first. */
  listVersions(functionId: number): Promise<VersionRow[]>;
  getVersion(functionId: number, version: number): Promise<VersionRow | undefined>;
  listAliases(functionId: number): Promise<AliasRow[]>;
  /** Every layer version, by name then version. */
  listLayerVersions(name?: string): Promise<LayerVersionRow[]>;
  getLayerVersion(name: string, version: number): Promise<LayerVersionRow | undefined>;
}

export interface StoreWriter extends StoreReader {
  /** Creates the stage or refreshes its region and updatedAt. */
  upsertStage(input: {
    service: string;
    stage: string;
    region: string;
    now: string;
  }): Promise<StageRow>;
  insertFunction(input: { stageId: number; key: string; name: string }): Promise<FunctionRow>;
  insertVersion(row: VersionRow): Promise<void>;
  /** Creates or replaces the alias (routing and description included: absent clears them). */
  setAlias(row: AliasRow): Promise<void>;
  /** False when there was no such alias. */
  deleteAlias(functionId: number, name: string): Promise<boolean>;
  /**
   * False when there was no such version. Callers keep the newest version (the next one's
   * number follows it) and versions an alias points at.
   */
  deleteVersion(functionId: number, version: number): Promise<boolean>;
  insertDeployment(row: DeploymentRow): Promise<void>;
  deleteDeployments(ids: string[]): Promise<void>;
  /** Deletes a function with its versions and aliases. */
  deleteFunction(functionId: number): Promise<void>;
  /** Publishes the layer's next version (numbers are never reused) and returns it. */
  insertLayerVersion(row: Omit<LayerVersionRow, 'version'>): Promise<LayerVersionRow>;
  /** False when there was no such version. */
  deleteLayerVersion(name: string, version: number): Promise<boolean>;
  /** Deletes the stage with its functions, versions, aliases and deployments. */
  deleteStage(stageId: number): Promise<void>;
}

export interface Store extends StoreReader {
  /** Runs fn in one transaction: all of its writes land, or none do. */
  transaction<T>(fn: (tx: StoreWriter) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
