/**
 * Runs a stage's resource plan against the provisioners and keeps the Store's record of what
 * the stage created: apply before the deployment is recorded (a failure refuses the deploy and
 * leaves the previous one in place), remove what the new definition dropped after it landed,
 * and remove everything on `nimbus remove`.
 */
import { NimbusError } from '../../../errors/nimbus-error.js';
import type { Clock } from '../../../model/clock.js';
import type { ServiceDefinition } from '../../../model/service-definition.js';
import type { OwnerLookup } from '../../auth/resource-access.js';
import type { ProvisionedResource, ResourceScope } from './provisioner.js';
import type { ProvisionerRegistry } from './provisioner-registry.js';
import type { ResourceRecord, ResourceRecords } from './resource-records.js';
import { planResources, type ResourcePlan, stageScope } from './stage-plan.js';

/** What happened to one resource, as the deploy and remove answers list it. */
export interface ResourceChange {
  logicalId: string;
  type: string;
  physicalId: string;
}

export interface KeptResource extends ResourceChange {
  reason: string;
}

export interface RemovalReport {
  removed: ResourceChange[];
  kept: KeptResource[];
}

/** A provisioner failed: the deployment is refused; what was created before it is recorded. */
export class ResourceApplyError extends NimbusError {
  constructor(
    readonly logicalId: string,
    readonly resourceType: string,
    cause: unknown,
  ) {
    super(
      'NIMBUS_DEPLOY_RESOURCE_FAILED',
      `${logicalId} (${resourceType}) could not be created or updated: ${messageOf(cause)}`,
      { cause },
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const changeOf = (r: ProvisionedResource): ResourceChange => ({
  logicalId: r.logicalId,
  type: r.type,
  physicalId: r.physicalId,
});

export class StageResources {
  readonly #registry: ProvisionerRegistry;
  readonly #records: ResourceRecords;
  readonly #clock: Clock;
  readonly #owners: OwnerLookup | undefined;

  /**
   * `owners`: what the stage provisions becomes its own, so other stages' credentials are
   * refused it (docs/security.md); a retained resource stays the stage's.
   */
  constructor(deps: {
    registry: ProvisionerRegistry;
    records: ResourceRecords;
    clock: Clock;
    owners?: OwnerLookup;
  }) {
    this.#registry = deps.registry;
    this.#records = deps.records;
    this.#clock = deps.clock;
    this.#owners = deps.owners;
  }

  /** What the stage created, in creation order (the control API's resources view). */
  async list(service: string, stage: string): Promise<ProvisionedResource[]> {
    return (await this.#records.list(service, stage)).map((r) => r.resource);
  }

  /** Creates or updates every planned resource in order, recording each as it lands. */
  async apply(plan: ResourcePlan): Promise<ResourceChange[]> {
    const { service, stage } = plan.scope;
    const previous = new Map(
      (await this.#records.list(service, stage)).map((r) => [r.resource.logicalId, r.resource]),
    );
    const applied: ResourceChange[] = [];
    let position = 0;
    for (const planned of plan.resources) {
      const { declaration } = planned;
      const provisioner = this.#registry.get(declaration.type)!;
      const before = previous.get(declaration.logicalId);
      // A logical id that now names another type or resource is a replacement: the old one goes
      // first, as CloudFormation replaces.
      const replaced =
        before &&
        (before.type !== declaration.type || before.physicalId !== planned.attributes.physicalId);
      if (before && replaced) await this.#removeOne(plan.scope, before, false);
      let resource: ProvisionedResource;
      try {
        resource = await provisioner.apply(plan.scope, declaration, replaced ? undefined : before);
      } catch (error) {
        throw new ResourceApplyError(declaration.logicalId, declaration.type, error);
      }
      await this.#records.put(
        service,
        stage,
        { resource, position: position++, retain: planned.retain },
        this.#clock.now(),
      );
      await this.#owners?.claim(resource.type, resource.physicalId, { service, stage });
      applied.push(changeOf(resource));
    }
    return applied;
  }

  /** Removes the stage's recorded resources the plan no longer declares, dependents first. */
  async removeDropped(plan: ResourcePlan): Promise<RemovalReport> {
    const declared = new Set(plan.resources.map((r) => r.declaration.logicalId));
    const records = await this.#records.list(plan.scope.service, plan.scope.stage);
    return this.#removeAll(
      plan.scope,
      records.filter((r) => !declared.has(r.resource.logicalId)),
    );
  }

  /** `nimbus remove`: every resource the stage created, dependents first. */
  async removeStage(scope: ResourceScope): Promise<RemovalReport> {
    return this.#removeAll(scope, await this.#records.list(scope.service, scope.stage));
  }

  async #removeAll(scope: ResourceScope, records: ResourceRecord[]): Promise<RemovalReport> {
    const report: RemovalReport = { removed: [], kept: [] };
    for (const record of [...records].sort((a, b) => b.position - a.position)) {
      const { resource } = record;
      if (record.retain) {
        // DeletionPolicy: Retain: the resource stays, and is no longer the stage's.
        await this.#records.delete(scope.service, scope.stage, resource.logicalId);
        report.kept.push({ ...changeOf(resource), reason: 'DeletionPolicy is Retain' });
        continue;
      }
      const outcome = await this.#removeOne(scope, resource, true);
      if (outcome.removed) report.removed.push(changeOf(resource));
      else report.kept.push({ ...changeOf(resource), reason: outcome.reason });
    }
    return report;
  }

  async #removeOne(
    scope: ResourceScope,
    resource: ProvisionedResource,
    forget: boolean,
  ): Promise<{ removed: true } | { removed: false; reason: string }> {
    const provisioner = this.#registry.get(resource.type);
    if (!provisioner) {
      return { removed: false, reason: `no provisioner for ${resource.type} on this platform` };
    }
    let outcome: { removed: true } | { removed: false; reason: string };
    try {
      outcome = await provisioner.remove(scope, resource);
    } catch (error) {
      outcome = { removed: false, reason: messageOf(error) };
    }
    if (outcome.removed) await this.#owners?.forget(resource.type, resource.physicalId);
    // A resource that stayed is still the stage's: the next deploy or remove tries again.
    if (outcome.removed && forget) {
      await this.#records.delete(scope.service, scope.stage, resource.logicalId);
    }
    return outcome;
  }
}

/** What the control API needs from resources: plan (pure), apply, and the two removals. */
export interface DeployResources {
  /** Throws TemplateError for a definition that cannot be deployed; creates nothing. */
  plan(definition: ServiceDefinition, platformUrl: string): ResourcePlan;
  apply(plan: ResourcePlan): Promise<ResourceChange[]>;
  removeDropped(plan: ResourcePlan): Promise<RemovalReport>;
  removeStage(
    stage: { service: string; stage: string; region: string },
    platformUrl: string,
  ): Promise<RemovalReport>;
  /** The resources the stage created and still has. */
  list(service: string, stage: string): Promise<ProvisionedResource[]>;
}

/** The platform's resources: its provisioners, and the Store's record of what each stage made. */
export function deployResources(deps: {
  registry: ProvisionerRegistry;
  /** Absent: nothing is provisioned (intrinsics still resolve; tests of other areas). */
  stageResources?: StageResources;
  accountId: string;
}): DeployResources {
  const scopeOf = (d: { service: string; stage: string; region: string }, platformUrl: string) =>
    stageScope(d, { accountId: deps.accountId, platformUrl });
  return {
    plan: (definition, platformUrl) =>
      planResources(definition, scopeOf(definition, platformUrl), deps.registry),
    apply: async (plan) => (deps.stageResources ? deps.stageResources.apply(plan) : []),
    removeDropped: async (plan) =>
      deps.stageResources ? deps.stageResources.removeDropped(plan) : { removed: [], kept: [] },
    removeStage: async (stage, platformUrl) =>
      deps.stageResources
        ? deps.stageResources.removeStage(scopeOf(stage, platformUrl))
        : { removed: [], kept: [] },
    list: async (service, stage) =>
      deps.stageResources ? deps.stageResources.list(service, stage) : [],
  };
}
