import { randomUUID } from 'node:crypto';
import type { BlobStore } from '../../blob/blob-store.js';
import { NimbusError } from '../../errors/nimbus-error.js';
import { deploymentHash } from '../../model/canonical-hash.js';
import type { Clock } from '../../model/clock.js';
import type { FunctionDefinition, ServiceDefinition } from '../../model/service-definition.js';
import { inspectZip, lambdaZipLimits } from '../../packaging/zip-safety.js';
import type { DeploymentRow, StageRow, Store, StoreWriter } from '../../store/store.js';
import { HttpError } from '../http/http-error.js';
import {
  LayerResolveError,
  publishStageLayers,
  resolveFunctionLayers,
} from '../layers/stage-layers.js';
import {
  configSha256,
  type FunctionChange,
  planFunction,
  removedFunctions,
} from './deploy-plan.js';

export interface DeployInput {
  definition: ServiceDefinition;
  /** function key -> artifact sha256 (already uploaded). */
  functionArtifacts: Record<string, string>;
  hash: string;
  force: boolean;
}

/** `deploy function`: new code, or new configuration, for one function of a deployed stage. */
export interface DeployFunctionInput {
  service: string;
  stage: string;
  key: string;
  /** New code (sha256 of an uploaded artifact); the deployed configuration is kept. */
  artifact?: string;
  /** New configuration (events excepted: they stay as deployed); the deployed code is kept. */
  config?: FunctionDefinition;
  force: boolean;
}

/**
 * Existing versions a deployment points back at (function key -> version), used when that
 * version still holds exactly the code and configuration asked for; otherwise it publishes.
 */
type Reuse = Record<string, number>;

export type DeployOutcome =
  | { skipped: true; deployment: DeploymentRow }
  | {
      skipped: false;
      deployment: DeploymentRow;
      changes: FunctionChange[];
      /** Keys of the functions the deployment dropped. */
      removed: string[];
      /** Their deployed names. */
      removedNames: string[];
    };

export interface DeployerDeps {
  store: Store;
  blobs: BlobStore;
  clock: Clock;
  /** How many deployments per stage are kept (deploy list); older ones are pruned. */
  retainDeployments: number;
  /**
   * Checks a definition the platform assembled itself (deploy function) by the rules a deploy
   * request meets; throws to refuse it. Requests are checked before they reach the Deployer.
   */
  check?: (definition: ServiceDefinition) => void;
  /**
   * Extracts an artifact for the stage that will run it (the code cache); a rejection refuses
   * the deployment before anything is recorded, so a deploy is never reported as success with
   * code that cannot run. Already-extracted artifacts cost a stat.
   */
  prepareCode?: (sha256: string, service: string, stage: string) => Promise<void>;
}

/**
 * Records a deployment of one service stage. Everything happens in one store transaction, so a
 * failure part-way leaves the previous deployment, versions and aliases exactly as they were.
 */
export class Deployer {
  readonly #deps: DeployerDeps;
  readonly #unzipped = new Map<string, number>();

  constructor(deps: DeployerDeps) {
    this.#deps = deps;
  }

  async deploy(input: DeployInput): Promise<DeployOutcome> {
    await this.#checkArtifacts(input);
    await this.#prepare(
      [...Object.values(input.functionArtifacts), ...layerArtifacts(input.definition)],
      input.definition.service,
      input.definition.stage,
    );
    return this.#deps.store.transaction((tx) => this.#record(tx, input, {}, 'resolve'));
  }

  /**
   * A new deployment that is the current one with one function's code or configuration
   * replaced, read and written in one transaction so a concurrent full deploy is never undone.
   */
  async deployFunction(input: DeployFunctionInput): Promise<DeployOutcome> {
    if (input.artifact !== undefined && !(await this.#deps.blobs.has(input.artifact))) {
      throw new HttpError(
        400,
        'NIMBUS_DEPLOY_ARTIFACT_MISSING',
        `artifact ${input.artifact} for function "${input.key}" was not uploaded`,
      );
    }
    if (input.artifact !== undefined) {
      await this.#prepare([input.artifact], input.service, input.stage);
    }
    return this.#deps.store.transaction(async (tx) => {
      const { current } = await currentDeployment(tx, input.service, input.stage);
      const deployed = deployedFunction(current, input);
      let next = deployed;
      if (input.config) {
        if (input.config.name !== deployed.name) {
          throw new HttpError(
            400,
            'NIMBUS_DEPLOY_BAD_REQUEST',
            `function "${input.key}" is deployed as "${deployed.name}", not "${input.config.name}": a renamed function needs a full deploy`,
          );
        }
        // Events are not function configuration (the Framework's --update-config keeps them).
        next = { ...input.config, events: deployed.events };
      }
      const definition = withFunction(current.definition, next);
      this.#deps.check?.(definition);
      const functionArtifacts = {
        ...current.artifacts,
        [input.key]: input.artifact ?? current.artifacts[input.key]!,
      };
      return this.#record(
        tx,
        {
          definition,
          functionArtifacts,
          hash: deploymentHash(definition, functionArtifacts),
          force: input.force,
        },
        {},
        'resolve',
      );
    });
  }

  /**
   * A deployment of a stage built from its current one (none yet: `amend` gets undefined) by
   * `amend`, read and written in one transaction so concurrent changes never undo each other:
   * how the Lambda API's CreateFunction, UpdateFunctionCode and DeleteFunction change the stage
   * that holds the functions created through it (docs/lambda-api.md). `amend` may throw to
   * refuse; nothing is recorded then. `artifact` (uploaded already) is extracted first.
   */
  async amend(input: {
    service: string;
    stage: string;
    artifact?: string;
    amend: (current: DeploymentRow | undefined) => {
      definition: ServiceDefinition;
      artifacts: Record<string, string>;
    };
  }): Promise<DeployOutcome> {
    if (input.artifact !== undefined) {
      if (!(await this.#deps.blobs.has(input.artifact))) {
        throw new HttpError(
          400,
          'NIMBUS_DEPLOY_ARTIFACT_MISSING',
          `artifact ${input.artifact} was not uploaded`,
        );
      }
      await this.#prepare([input.artifact], input.service, input.stage);
    }
    return this.#deps.store.transaction(async (tx) => {
      const stage = await tx.findStage(input.service, input.stage);
      const current = stage ? (await tx.listDeployments(stage.id))[0] : undefined;
      const { definition, artifacts } = input.amend(current);
      this.#deps.check?.(definition);
      const functionArtifacts = Object.fromEntries(
        Object.keys(definition.functions).map((key) => [key, artifacts[key]!]),
      );
      return this.#record(
        tx,
        {
          definition,
          functionArtifacts,
          hash: deploymentHash(definition, functionArtifacts),
          force: false,
        },
        {},
        'resolve',
      );
    });
  }

  /**
   * Restores a retained deployment as a new one: its definition and artifacts, with each stage
   * alias pointed back at the version it served (a version deleted since is published again).
   */
  async rollback(service: string, stageName: string, timestamp: number): Promise<DeployOutcome> {
    return this.#deps.store.transaction(async (tx) => {
      const { stage } = await currentDeployment(tx, service, stageName);
      const target = (await tx.listDeployments(stage.id)).find((d) => d.timestamp === timestamp);
      if (!target) {
        throw new HttpError(
          404,
          'NIMBUS_NOT_FOUND',
          `service "${service}" stage "${stageName}" has no retained deployment with timestamp ${timestamp}`,
        );
      }
      const input: DeployInput = {
        definition: target.definition,
        functionArtifacts: target.artifacts,
        hash: target.hash,
        force: false,
      };
      await this.#checkArtifacts(input);
      // The layer versions the old deployment ran with, as recorded: a rollback publishes none.
      return this.#record(tx, input, target.functions, 'keep');
    });
  }

  /** Points one function's stage alias back at an existing version, as a new deployment. */
  async rollbackFunction(
    service: string,
    stageName: string,
    key: string,
    version: number,
  ): Promise<DeployOutcome> {
    return this.#deps.store.transaction(async (tx) => {
      const { current } = await currentDeployment(tx, service, stageName);
      const deployed = deployedFunction(current, { service, stage: stageName, key });
      const fn = await tx.findFunctionByName(deployed.name);
      const row = fn ? await tx.getVersion(fn.id, version) : undefined;
      if (!row) {
        throw new HttpError(
          404,
          'NIMBUS_NOT_FOUND',
          `function "${key}" (${deployed.name}) has no version ${version}`,
        );
      }
      const definition = withFunction(current.definition, row.config);
      const functionArtifacts = { ...current.artifacts, [key]: row.codeSha256 };
      return this.#record(
        tx,
        {
          definition,
          functionArtifacts,
          hash: deploymentHash(definition, functionArtifacts),
          force: false,
        },
        { [key]: version },
        'keep',
      );
    });
  }

  /**
   * `layers`: `resolve` publishes the definition's layers and resolves every function's layer
   * list (a deploy, deploy function, the Lambda API); `keep` records the layer versions the
   * definition already names (a rollback).
   */
  async #record(
    tx: StoreWriter,
    asked: DeployInput,
    reuse: Reuse,
    layers: 'resolve' | 'keep',
  ): Promise<DeployOutcome> {
    const now = this.#deps.clock.now();
    const existing = await tx.findStage(asked.definition.service, asked.definition.stage);
    const previous = existing ? (await tx.listDeployments(existing.id))[0] : undefined;
    if (previous && previous.hash === asked.hash && !asked.force) {
      return { skipped: true, deployment: previous };
    }
    const input =
      layers === 'resolve'
        ? { ...asked, definition: await this.#resolveLayers(tx, asked, now, previous) }
        : asked;
    const { definition } = input;
    const stage = await tx.upsertStage({
      service: definition.service,
      stage: definition.stage,
      region: definition.region,
      now: new Date(now).toISOString(),
    });
    const dropped = await this.#removeDropped(tx, stage.id, definition);
    const changes: FunctionChange[] = [];
    for (const config of Object.values(definition.functions)) {
      changes.push(await this.#applyFunction(tx, stage.id, config, input, now, reuse));
    }
    const deployment: DeploymentRow = {
      id: randomUUID(),
      stageId: stage.id,
      // Strictly increasing per stage, even if two deploys land within one millisecond.
      timestamp: Math.max(now, (previous?.timestamp ?? 0) + 1),
      hash: input.hash,
      definition,
      functions: Object.fromEntries(changes.map((c) => [c.key, c.version])),
      artifacts: input.functionArtifacts,
    };
    await tx.insertDeployment(deployment);
    await this.#prune(tx, stage.id);
    return {
      skipped: false,
      deployment,
      changes,
      removed: dropped.map((f) => f.key),
      removedNames: dropped.map((f) => f.name),
    };
  }

  async #resolveLayers(
    tx: StoreWriter,
    input: DeployInput,
    now: number,
    previous: DeploymentRow | undefined,
  ): Promise<ServiceDefinition> {
    const deps = {
      size: (sha: string) => this.#deps.blobs.size(sha),
      unzippedSize: (sha: string) => this.#unzippedSize(sha),
      now: new Date(now).toISOString(),
    };
    try {
      const published = await publishStageLayers(tx, input.definition, deps);
      return await resolveFunctionLayers(
        tx,
        input.definition,
        published,
        deps,
        (fn) => input.functionArtifacts[fn.key],
        previous?.definition,
      );
    } catch (error) {
      if (!(error instanceof LayerResolveError)) throw error;
      throw new HttpError(
        400,
        'NIMBUS_DEPLOY_BAD_REQUEST',
        `definition.${error.path.join('.')}: ${error.detail}`,
      );
    }
  }

  /** Declared unzipped size of a stored zip, remembered (blobs never change). */
  async #unzippedSize(sha: string): Promise<number> {
    const known = this.#unzipped.get(sha);
    if (known !== undefined) return known;
    const { unzippedBytes } = await inspectZip(await this.#deps.blobs.get(sha), lambdaZipLimits);
    this.#unzipped.set(sha, unzippedBytes);
    return unzippedBytes;
  }

  async #prepare(artifacts: string[], service: string, stage: string): Promise<void> {
    const prepare = this.#deps.prepareCode;
    if (!prepare) return;
    for (const sha of new Set(artifacts)) {
      try {
        await prepare(sha, service, stage);
      } catch (error) {
        // A zip the extractor refuses keeps its own code and 400; anything else (disk full,
        // permissions) is the platform's trouble, answered 503 so the client may retry.
        if (error instanceof NimbusError) throw error;
        throw new HttpError(
          503,
          'NIMBUS_DEPLOY_CODE_UNAVAILABLE',
          `artifact ${sha} could not be extracted (${(error as Error).message}); nothing was deployed`,
        );
      }
    }
  }

  async #checkArtifacts(input: DeployInput): Promise<void> {
    for (const layer of Object.values(input.definition.layers ?? {})) {
      if (layer.artifact !== undefined && !(await this.#deps.blobs.has(layer.artifact))) {
        throw new HttpError(
          400,
          'NIMBUS_DEPLOY_ARTIFACT_MISSING',
          `artifact ${layer.artifact} for layer "${layer.key}" was not uploaded`,
        );
      }
    }
    for (const key of Object.keys(input.definition.functions)) {
      const sha = input.functionArtifacts[key];
      if (!sha) {
        throw new HttpError(
          400,
          'NIMBUS_DEPLOY_ARTIFACT_MISSING',
          `function "${key}" has no artifact`,
        );
      }
      if (!(await this.#deps.blobs.has(sha))) {
        throw new HttpError(
          400,
          'NIMBUS_DEPLOY_ARTIFACT_MISSING',
          `artifact ${sha} for function "${key}" was not uploaded`,
        );
      }
    }
  }

  async #applyFunction(
    tx: StoreWriter,
    stageId: number,
    config: ServiceDefinition['functions'][string],
    input: DeployInput,
    now: number,
    reuse: Reuse,
  ): Promise<FunctionChange> {
    const codeSha256 = input.functionArtifacts[config.key]!;
    let fn = await tx.findFunctionByName(config.name);
    if (fn && fn.stageId !== stageId) {
      throw new HttpError(
        409,
        'NIMBUS_DEPLOY_NAME_TAKEN',
        `function name "${config.name}" already belongs to another service stage`,
      );
    }
    fn ??= await tx.insertFunction({ stageId, key: config.key, name: config.name });
    const restored = await this.#reusable(tx, fn.id, config, codeSha256, reuse[config.key]);
    if (restored) {
      await pointStageAlias(tx, fn.id, input.definition.stage, restored);
      return { kind: 'restore', key: config.key, name: config.name, version: restored };
    }
    const versions = await tx.listVersions(fn.id);
    const change = planFunction(config, codeSha256, versions.at(-1));
    if (change.kind === 'publish') {
      await tx.insertVersion({
        functionId: fn.id,
        version: change.version,
        codeSha256,
        codeSize: (await this.#deps.blobs.size(codeSha256)) ?? 0,
        configSha256: change.configSha256,
        config,
        createdAt: new Date(now).toISOString(),
      });
    }
    await pointStageAlias(tx, fn.id, input.definition.stage, change.version);
    return change;
  }

  /** The version number to point back at, when it still runs exactly this code and config. */
  async #reusable(
    tx: StoreWriter,
    functionId: number,
    config: FunctionDefinition,
    codeSha256: string,
    version: number | undefined,
  ): Promise<number | undefined> {
    if (version === undefined) return undefined;
    const row = await tx.getVersion(functionId, version);
    const same = row?.codeSha256 === codeSha256 && row.configSha256 === configSha256(config);
    return same ? version : undefined;
  }

  async #removeDropped(tx: StoreWriter, stageId: number, definition: ServiceDefinition) {
    const names = new Set(Object.values(definition.functions).map((f) => f.name));
    const dropped = removedFunctions(await tx.listFunctions(stageId), names);
    for (const fn of dropped) await tx.deleteFunction(fn.id);
    return dropped;
  }

  async #prune(tx: StoreWriter, stageId: number): Promise<void> {
    const all = await tx.listDeployments(stageId);
    const stale = all.slice(this.#deps.retainDeployments).map((d) => d.id);
    if (stale.length > 0) await tx.deleteDeployments(stale);
  }
}

async function currentDeployment(
  tx: StoreWriter,
  service: string,
  stageName: string,
): Promise<{ stage: StageRow; current: DeploymentRow }> {
  const stage = await tx.findStage(service, stageName);
  const current = stage ? (await tx.listDeployments(stage.id))[0] : undefined;
  if (!stage || !current) {
    throw new HttpError(
      404,
      'NIMBUS_NOT_FOUND',
      `service "${service}" stage "${stageName}" is not deployed`,
    );
  }
  return { stage, current };
}

function deployedFunction(
  current: DeploymentRow,
  where: { service: string; stage: string; key: string },
): FunctionDefinition {
  const fn = current.definition.functions[where.key];
  if (!fn) {
    throw new HttpError(
      404,
      'NIMBUS_NOT_FOUND',
      `function "${where.key}" is not deployed in service "${where.service}" stage "${where.stage}"`,
    );
  }
  return fn;
}

/** The zips of the definition's layers (set by packaging). */
function layerArtifacts(definition: ServiceDefinition): string[] {
  return Object.values(definition.layers ?? {}).flatMap((l) =>
    l.artifact === undefined ? [] : [l.artifact],
  );
}

function withFunction(definition: ServiceDefinition, fn: FunctionDefinition): ServiceDefinition {
  return { ...definition, functions: { ...definition.functions, [fn.key]: fn } };
}

/**
 * Points the stage alias at `version`. A canary (RoutingConfig) survives a deployment that leaves
 * this function's version as it was; one that moves the alias ends it: the deployed version
 * takes all traffic (docs/lambda-api.md).
 */
async function pointStageAlias(
  tx: StoreWriter,
  functionId: number,
  stage: string,
  version: number,
): Promise<void> {
  const current = (await tx.listAliases(functionId)).find((a) => a.name === stage);
  if (current?.version === version) return;
  await tx.setAlias({
    functionId,
    name: stage,
    version,
    ...(current?.description === undefined ? {} : { description: current.description }),
  });
}
