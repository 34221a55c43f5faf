import type {
  Deployment,
  FunctionSummary,
  FunctionVersion,
  ServiceStage,
} from '../../model/deployment.js';
import type {
  DeploymentRow,
  FunctionRow,
  StageRow,
  StoreReader,
  VersionRow,
} from '../../store/store.js';
import { endpointsOf, hostBaseOf } from '../gateway/route-loader.js';

/** Read-side shapes the control API returns; documented in docs/http-api.md. */
export function deploymentView(stage: StageRow, row: DeploymentRow): Deployment {
  return {
    id: row.id,
    service: stage.service,
    stage: stage.stage,
    region: stage.region,
    timestamp: row.timestamp,
    hash: row.hash,
    definition: row.definition,
    functions: row.functions,
    artifacts: row.artifacts,
  };
}

export async function functionSummary(
  store: StoreReader,
  stage: StageRow,
  fn: FunctionRow,
): Promise<FunctionSummary | undefined> {
  const versions = await store.listVersions(fn.id);
  const alias = (await store.listAliases(fn.id)).find((a) => a.name === stage.stage);
  const current = versions.find((v) => v.version === alias?.version) ?? versions.at(-1);
  if (!current) return undefined;
  return {
    key: fn.key,
    functionName: fn.name,
    version: current.version,
    versions: versions.map((v) => v.version),
    runtime: current.config.runtime,
    handler: current.config.handler,
    codeSha256: current.codeSha256,
    codeSize: current.codeSize,
  };
}

export async function serviceStageView(
  store: StoreReader,
  stage: StageRow,
  platformUrl?: string,
): Promise<ServiceStage> {
  const [latest] = await store.listDeployments(stage.id);
  const functions: FunctionSummary[] = [];
  for (const fn of await store.listFunctions(stage.id)) {
    const summary = await functionSummary(store, stage, fn);
    if (summary) functions.push(summary);
  }
  functions.sort((a, b) => a.key.localeCompare(b.key));
  return {
    service: stage.service,
    stage: stage.stage,
    region: stage.region,
    createdAt: stage.createdAt,
    updatedAt: stage.updatedAt,
    ...(latest ? { current: deploymentView(stage, latest) } : {}),
    functions,
    endpoints: latest && platformUrl ? endpointsOf(latest.definition, platformUrl) : [],
    ...(latest && platformUrl ? { hostBase: hostBaseOf(latest.definition, platformUrl) } : {}),
  };
}

export function versionView(fn: FunctionRow, row: VersionRow): FunctionVersion {
  return {
    functionName: fn.name,
    key: fn.key,
    version: row.version,
    codeSha256: row.codeSha256,
    configSha256: row.configSha256,
    config: row.config,
    createdAt: row.createdAt,
  };
}
