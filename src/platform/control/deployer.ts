import { randomUUID } from 'node:crypto';
import type { BlobStore } from '../../blob/blob-store.js';
import type { Clock } from '../../model/clock.js';
import type { ServiceDefinition } from '../../model/service-definition.js';
import type { DeploymentRow, Store, StoreWriter } from '../../store/store.js';
import { HttpError } from '../http/http-error.js';
import { type FunctionChange, planFunction, removedFunctions } from './deploy-plan.js';

export interface DeployInput {
  definition: ServiceDefinition;
  /** function key -> artifact sha256 (already uploaded). */
  functionArtifacts: Record<string, string>;
  hash: string;
  force: boolean;
}

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
}

/**
 * Records a deployment of one service stage. Everything happens in one store transaction, so a
 * failure part-way leaves the previous deployment, versions and aliases exactly as they were.
 */
export class Deployer {
  readonly #deps: DeployerDeps;

  constructor(deps: DeployerDeps) {
    this.#deps = deps;
  }

  async deploy(input: DeployInput): Promise<DeployOutcome> {
    const { definition } = input;
    await this.#checkArtifacts(input);
    return this.#deps.store.transaction(async (tx) => {
      const now = this.#deps.clock.now();
      const existing = await tx.findStage(definition.service, definition.stage);
      const previous = existing ? (await tx.listDeployments(existing.id))[0] : undefined;
      if (previous && previous.hash === input.hash && !input.force) {
        return { skipped: true, deployment: previous };
      }
      const stage = await tx.upsertStage({
        service: definition.service,
        stage: definition.stage,
        region: definition.region,
        now: new Date(now).toISOString(),
      });
      const dropped = await this.#removeDropped(tx, stage.id, definition);
      const changes: FunctionChange[] = [];
      for (const config of Object.values(definition.functions)) {
        changes.push(await this.#applyFunction(tx, stage.id, config, input, now));
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
    });
  }

  async #checkArtifacts(input: DeployInput): Promise<void> {
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
    await tx.setAlias({ functionId: fn.id, name: input.definition.stage, version: change.version });
    return change;
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
