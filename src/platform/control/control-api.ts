import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlobStore } from '../../blob/blob-store.js';
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import { sha256Hex } from '../../model/canonical-hash.js';
import type { FunctionDefinition } from '../../model/service-definition.js';
import { assertExtractable, type ZipLimits } from '../../packaging/zip-safety.js';
import { StoreConflictError } from '../../store/errors.js';
import type { Store } from '../../store/store.js';
import { ProvisionerRegistry } from '../aws/resources/provisioner-registry.js';
import type { ResourcePlan } from '../aws/resources/stage-plan.js';
import {
  type DeployResources,
  deployResources,
  type KeptResource,
  ResourceApplyError,
  type ResourceChange,
} from '../aws/resources/stage-resources.js';
import { HttpError } from '../http/http-error.js';
import { leaveBodyUnread, readBody, readJson } from '../http/read-body.js';
import { sendJson } from '../http/send.js';
import { removeStageLayers } from '../layers/stage-layers.js';
import { bearerMatches } from './admin-token.js';
import {
  parseDeployFunctionRequest,
  parseDeployRequest,
  parseRollbackFunctionRequest,
  parseRollbackRequest,
  resolveOrRefuse,
} from './deploy-request.js';
import type { Deployer, DeployOutcome } from './deployer.js';
import { deploymentView, functionSummary, serviceStageView, versionView } from './views.js';

export interface ControlApiDeps {
  store: Store;
  blobs: BlobStore;
  deployer: Deployer;
  adminToken: string;
  zipLimits: ZipLimits;
  /** Cap on JSON request bodies (deploy definitions). */
  maxJsonBytes: number;
  /** The platform's instance cap: no function may provision or reserve more. */
  maxInstances?: number;
  /** The platform's own base URL, for the endpoints a stage view lists. */
  publicUrl: () => string;
  /** Told after a deployment lands or a stage is removed, so caches and routes refresh. */
  onChange: (change: StageChange) => Promise<void>;
  /** Routes other areas add under /v1 (keys, logs, ...); same auth as the rest. */
  extraRoutes?: ControlRoute[];
  /**
   * `resources` and intrinsics (docs/resources.md). Absent: intrinsics still resolve, but no
   * resource type is provisioned.
   */
  resources?: DeployResources;
}

/** What a deploy or remove did to the stage's resources (docs/resources.md). */
interface ResourcesSummary {
  applied?: ResourceChange[];
  removed: ResourceChange[];
  kept: KeptResource[];
  outputs?: Record<string, string>;
}

export interface StageChange {
  kind: 'deployed' | 'removed';
  service: string;
  stage: string;
  /** Deployed names of the functions concerned (for removed: all of the stage's). */
  functionNames: string[];
}

export type Params = Record<string, string>;
export type Handler = (req: IncomingMessage, res: ServerResponse, params: Params) => Promise<void>;
/** A control-plane route: `path` uses `{name}` placeholders for one segment each. */
export interface ControlRoute {
  method: string;
  path: string;
  handler: Handler;
}
interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

/** The control-plane API under /v1 (docs/http-api.md). Every route needs the admin token. */
export function createControlApi(deps: ControlApiDeps) {
  const resources =
    deps.resources ??
    deployResources({ registry: new ProvisionerRegistry(), accountId: NIMBUS_ACCOUNT_ID });
  const routes: Route[] = [];
  const add = (method: string, path: string, handler: Handler) => {
    const names: string[] = [];
    const source = path.replace(/\{(\w+)\}/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    routes.push({ method, pattern: new RegExp(`^${source}$`), names, handler });
  };

  add('HEAD', '/v1/artifacts/{sha}', async (_req, res, p) => {
    const size = await deps.blobs.size(checkSha(p.sha!));
    res.writeHead(
      size === undefined ? 404 : 200,
      size === undefined ? {} : { 'x-nimbus-size': size },
    );
    res.end();
  });
  add('PUT', '/v1/artifacts/{sha}', async (req, res, p) => {
    const sha = checkSha(p.sha!);
    if (await deps.blobs.has(sha)) {
      leaveBodyUnread(req, res);
      return sendJson(res, 200, { sha256: sha, stored: false });
    }
    const zip = await readBody(req, deps.zipLimits.maxZippedBytes, 'artifact');
    if (sha256Hex(zip) !== sha) {
      throw new HttpError(
        400,
        'NIMBUS_ARTIFACT_HASH_MISMATCH',
        `artifact bytes do not hash to ${sha}`,
      );
    }
    // A zip that cannot be extracted is refused here, not stored to fail every request later.
    const info = await assertExtractable(zip, deps.zipLimits);
    await deps.blobs.put(sha, zip);
    sendJson(res, 201, { sha256: sha, stored: true, size: zip.length, ...info });
  });
  add('GET', '/v1/services', async (_req, res) => {
    const stages = await deps.store.listStages();
    const views = [];
    for (const stage of stages)
      views.push(await serviceStageView(deps.store, stage, deps.publicUrl()));
    sendJson(res, 200, { services: views });
  });
  add('GET', '/v1/services/{service}/stages/{stage}', async (_req, res, p) => {
    sendJson(
      res,
      200,
      await serviceStageView(deps.store, await findStage(deps.store, p), deps.publicUrl()),
    );
  });
  add('DELETE', '/v1/services/{service}/stages/{stage}', async (_req, res, p) => {
    const stage = await findStage(deps.store, p);
    const functions = await deps.store.listFunctions(stage.id);
    await deps.store.transaction(async (tx) => {
      const [current] = await tx.listDeployments(stage.id);
      await removeStageLayers(tx, current?.definition);
      await tx.deleteStage(stage.id);
    });
    await deps.onChange({
      kind: 'removed',
      service: stage.service,
      stage: stage.stage,
      functionNames: functions.map((f) => f.name),
    });
    // After the functions are gone: nothing of the stage uses its resources any more.
    const dropped = await resources.removeStage(stage, deps.publicUrl());
    sendJson(res, 200, {
      removed: {
        service: stage.service,
        stage: stage.stage,
        functions: functions.map((f) => f.name),
        resources: dropped.removed,
        kept: dropped.kept,
      },
    });
  });
  add('GET', '/v1/services/{service}/stages/{stage}/resources', async (_req, res, p) => {
    const stage = await findStage(deps.store, p);
    const list = await resources.list(stage.service, stage.stage);
    sendJson(res, 200, {
      outputs: await currentOutputs(stage.id),
      resources: list.map((r) => ({
        logicalId: r.logicalId,
        type: r.type,
        physicalId: r.physicalId,
        ref: r.ref,
        attributes: r.attributes,
      })),
    });
  });
  /**
   * `resources.Outputs` of the stage's current deployment, resolved as the deploy resolved them
   * (what `${cf:<service>-<stage>.<output>}` reads); none when it declares none.
   */
  const currentOutputs = async (stageId: number): Promise<Record<string, string>> => {
    const current = (await deps.store.listDeployments(stageId))[0];
    if (!current?.definition.resources) return {};
    return resources.plan(current.definition, deps.publicUrl()).outputs;
  };
  add('GET', '/v1/services/{service}/stages/{stage}/deployments', async (_req, res, p) => {
    const stage = await findStage(deps.store, p);
    const rows = await deps.store.listDeployments(stage.id);
    sendJson(res, 200, { deployments: rows.map((r) => deploymentView(stage, r)) });
  });
  /** Tells the reconciler the stage changed (unless skipped) and answers as a deploy does. */
  const answerDeployed = async (
    res: ServerResponse,
    p: Params,
    outcome: DeployOutcome,
    summary?: ResourcesSummary,
  ) => {
    const stage = await findStage(deps.store, p);
    if (!outcome.skipped) {
      await deps.onChange({
        kind: 'deployed',
        service: stage.service,
        stage: stage.stage,
        functionNames: [
          ...Object.values(outcome.deployment.definition.functions).map((f) => f.name),
          ...outcome.removedNames,
        ],
      });
    }
    const view = await serviceStageView(deps.store, stage, deps.publicUrl());
    const extra = summary ? { resources: summary } : {};
    if (outcome.skipped) return sendJson(res, 200, { skipped: true, service: view, ...extra });
    sendJson(res, 201, {
      skipped: false,
      deployment: deploymentView(stage, outcome.deployment),
      changes: outcome.changes,
      removed: outcome.removed,
      service: view,
      ...extra,
    });
  };
  add('POST', '/v1/services/{service}/stages/{stage}/deployments', async (req, res, p) => {
    let plan: ResourcePlan | undefined;
    const input = parseDeployRequest(
      await readJson(req, deps.maxJsonBytes),
      p.service!,
      p.stage!,
      deps.maxInstances === undefined ? undefined : { maxConcurrency: deps.maxInstances },
      (definition) => {
        plan = resources.plan(definition, deps.publicUrl());
        return plan.definition;
      },
    );
    // Resources first: a deployment whose resources fail is not recorded, the previous one stays.
    const applied = await resources.apply(plan!).catch((error: unknown) => {
      if (!(error instanceof ResourceApplyError)) throw error;
      throw new HttpError(409, 'NIMBUS_DEPLOY_RESOURCE_FAILED', error.message);
    });
    const outcome = await deps.deployer.deploy(input).catch(asConflict);
    const dropped = await resources.removeDropped(plan!);
    await answerDeployed(res, p, outcome, { applied, ...dropped, outputs: plan!.outputs });
  });
  add(
    'POST',
    '/v1/services/{service}/stages/{stage}/functions/{key}/deployments',
    async (req, res, p) => {
      const input = parseDeployFunctionRequest(await readJson(req, deps.maxJsonBytes), {
        service: p.service!,
        stage: p.stage!,
        key: p.key!,
      });
      if (input.config) input.config = await resolveFunctionConfig(input.config, p);
      await answerDeployed(res, p, await deps.deployer.deployFunction(input).catch(asConflict));
    },
  );
  /**
   * A configuration from `deploy function` resolved against the stage's deployed resources
   * (its intrinsics name them); its events stay as deployed, so only the environment, `onError`
   * and the destinations count.
   */
  const resolveFunctionConfig = async (
    config: FunctionDefinition,
    p: Params,
  ): Promise<FunctionDefinition> => {
    if (
      config.unresolvedEnvironment === undefined &&
      config.unresolvedDeadLetterTarget === undefined &&
      config.unresolvedDestinations === undefined
    )
      return config;
    const stage = await findStage(deps.store, p);
    const current = (await deps.store.listDeployments(stage.id))[0];
    if (!current) throw notFound(`service "${stage.service}" stage "${stage.stage}"`);
    const definition = {
      ...current.definition,
      functions: { ...current.definition.functions, [config.key]: { ...config, events: [] } },
    };
    const plan = resolveOrRefuse((d) => resources.plan(d, deps.publicUrl()), definition);
    const resolved = plan.definition.functions[config.key]!;
    return { ...resolved, events: config.events };
  };
  add('POST', '/v1/services/{service}/stages/{stage}/rollback', async (req, res, p) => {
    const { timestamp } = parseRollbackRequest(await readJson(req, deps.maxJsonBytes));
    const outcome = await deps.deployer.rollback(p.service!, p.stage!, timestamp).catch(asConflict);
    await answerDeployed(res, p, outcome);
  });
  add(
    'POST',
    '/v1/services/{service}/stages/{stage}/functions/{key}/rollback',
    async (req, res, p) => {
      const { version } = parseRollbackFunctionRequest(await readJson(req, deps.maxJsonBytes));
      const outcome = await deps.deployer
        .rollbackFunction(p.service!, p.stage!, p.key!, version)
        .catch(asConflict);
      await answerDeployed(res, p, outcome);
    },
  );
  add('GET', '/v1/functions/{name}', async (_req, res, p) => {
    const fn = await deps.store.findFunctionByName(p.name!);
    if (!fn) throw notFound(`function "${p.name}"`);
    const stages = await deps.store.listStages();
    const stage = stages.find((s) => s.id === fn.stageId)!;
    const versions = (await deps.store.listVersions(fn.id)).map((v) => versionView(fn, v));
    sendJson(res, 200, {
      function: await functionSummary(deps.store, stage, fn),
      service: stage.service,
      stage: stage.stage,
      aliases: await deps.store.listAliases(fn.id),
      versions,
    });
  });

  for (const route of deps.extraRoutes ?? []) add(route.method, route.path, route.handler);

  return async function handleControl(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
  ): Promise<void> {
    if (!bearerMatches(req.headers.authorization, deps.adminToken)) {
      // Not read at all: an unauthenticated upload must not cost us its size.
      leaveBodyUnread(req, res);
      throw new HttpError(
        401,
        'NIMBUS_AUTH_REQUIRED',
        'missing or wrong admin token (Authorization: Bearer <token>)',
        {
          'www-authenticate': 'Bearer',
        },
      );
    }
    let allowed = false;
    for (const route of routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      allowed = true;
      if (route.method !== req.method) continue;
      const params: Params = {};
      route.names.forEach((name, i) => {
        params[name] = decodePathParam(match[i + 1]!);
      });
      return route.handler(req, res, params);
    }
    leaveBodyUnread(req, res);
    if (allowed)
      throw new HttpError(
        405,
        'NIMBUS_HTTP_METHOD_NOT_ALLOWED',
        `${req.method} is not allowed on ${path}`,
      );
    throw new HttpError(
      404,
      'NIMBUS_HTTP_NOT_FOUND',
      `no control-plane route ${req.method} ${path}`,
    );
  };
}

/** Two deploys of one stage racing for the same version number: the loser may simply retry. */
function asConflict(error: unknown): never {
  if (error instanceof StoreConflictError) {
    throw new HttpError(
      409,
      'NIMBUS_DEPLOY_CONFLICT',
      'another deployment of this stage landed at the same time; deploy again',
    );
  }
  throw error;
}

function checkSha(sha: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha)) {
    throw new HttpError(
      400,
      'NIMBUS_ARTIFACT_BAD_HASH',
      'artifact id must be a lowercase hex sha256',
    );
  }
  return sha;
}

async function findStage(store: Store, p: Params) {
  const stage = await store.findStage(p.service!, p.stage!);
  if (!stage) throw notFound(`service "${p.service}" stage "${p.stage}"`);
  return stage;
}

function notFound(what: string): HttpError {
  return new HttpError(404, 'NIMBUS_NOT_FOUND', `${what} is not deployed`);
}

/** A path segment as sent; a malformed escape (`%ZZ`) is the client's error, not ours. */
function decodePathParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(
      400,
      'NIMBUS_HTTP_BAD_PATH',
      `malformed percent escape in path segment ${JSON.stringify(raw.slice(0, 200))}`,
    );
  }
}
