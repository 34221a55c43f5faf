/**
 * AWS::Events::EventBus and AWS::Events::Rule for the resources evaluator (contract in
 * src/platform/aws/resources/provisioner.ts), through the same checks as CreateEventBus,
 * PutRule and PutTargets. Names follow from the properties alone (a rule without Name gets one
 * derived from stage and logical id), so references resolve before anything exists.
 * Rules made here belong to `<service>/<stage>#resources`: the stage's `eventBridge` events
 * (owner `<service>/<stage>`) never touch them, nor they those.
 */
import type { Clock } from '../../model/clock.js';
import { AwsError } from '../../platform/aws/aws-error.js';
import {
  checkKnownProperties,
  generatedName,
  optionalString,
} from '../../platform/aws/resources/property-checks.js';
import {
  type ProvisionedResource,
  type ResourceAttributes,
  type ResourceDeclaration,
  ResourcePropertyError,
  type ResourceProvisioner,
  type ResourceScope,
} from '../../platform/aws/resources/provisioner.js';
import { busArn, busNameOf, ruleArn } from './events-arns.js';
import { checkName } from './events-input.js';
import { defaultBus, type EventsStore, type RuleSettings } from './events-store.js';
import { checkPattern, checkSchedule, checkTarget, checkTargetBuses } from './rule-checks.js';

export interface EventsProvisionerDeps {
  store: EventsStore;
  clock: Clock;
  /** Called after a rule changed, so scheduled rules are re-read (scheduled-rules.ts). */
  onRulesChanged?: () => void;
}

/** Runs a service check, reporting its refusal against the resource (`checkedAsync`: awaited). */
function checked<T>(d: ResourceDeclaration, property: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof AwsError)
      throw new ResourcePropertyError(d.logicalId, property, error.message);
    throw error;
  }
}

async function checkedAsync(
  d: ResourceDeclaration,
  property: string,
  run: () => Promise<void>,
): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (error instanceof AwsError)
      throw new ResourcePropertyError(d.logicalId, property, error.message);
    throw error;
  }
}

export function resourceRuleOwner(scope: ResourceScope): string {
  return `${scope.service}/${scope.stage}#resources`;
}

function planBus(d: ResourceDeclaration): { name: string; description?: string } {
  checkKnownProperties(d, ['Name', 'Description'], ['Tags', 'KmsKeyIdentifier']);
  const name = optionalString(d, 'Name');
  if (name === undefined)
    throw new ResourcePropertyError(d.logicalId, 'Properties.Name', 'Name is required');
  checked(d, 'Properties.Name', () => checkName('name', name));
  if (name === defaultBus || name.startsWith('aws.')) {
    throw new ResourcePropertyError(
      d.logicalId,
      'Properties.Name',
      `${name} cannot be created: it is the default bus or starts with aws.`,
    );
  }
  const description = optionalString(d, 'Description');
  return { name, ...(description === undefined ? {} : { description }) };
}

export function eventBusProvisioner(deps: EventsProvisionerDeps): ResourceProvisioner {
  const attributes = (scope: ResourceScope, d: ResourceDeclaration): ResourceAttributes => {
    const { name } = planBus(d);
    const arn = busArn(scope.region, name);
    return { ref: name, attributes: { Arn: arn, Name: name }, physicalId: name };
  };
  const remove = async (
    resource: ProvisionedResource,
  ): Promise<{ removed: true } | { removed: false; reason: string }> => {
    const rules = await deps.store.listRules(resource.physicalId);
    if (rules.length > 0) {
      return {
        removed: false,
        reason: `event bus ${resource.physicalId} still has rules (${rules.map((r) => r.name).join(', ')})`,
      };
    }
    await deps.store.deleteBus(resource.physicalId);
    return { removed: true };
  };
  return {
    type: 'AWS::Events::EventBus',
    attributes,
    async apply(scope, d, previous) {
      const plan = planBus(d);
      const result = attributes(scope, d);
      const created = await deps.store.createBus({
        name: plan.name,
        ...(plan.description === undefined ? {} : { description: plan.description }),
        createdAt: deps.clock.now(),
      });
      if (!created && previous?.physicalId !== plan.name) {
        throw new Error(`event bus ${plan.name} already exists (it was not created by this stage)`);
      }
      if (previous && previous.physicalId !== plan.name) await remove(previous);
      return { ...result, logicalId: d.logicalId, type: d.type, properties: d.properties };
    },
    remove: (_scope, resource) => remove(resource),
  };
}

const ruleProperties = [
  'Name',
  'EventBusName',
  'EventPattern',
  'ScheduleExpression',
  'State',
  'Description',
  'Targets',
];

interface RulePlan {
  bus: string;
  name: string;
  settings: RuleSettings;
  targets: ReturnType<typeof checkTarget>[];
}

function planRule(scope: ResourceScope, d: ResourceDeclaration): RulePlan {
  checkKnownProperties(d, ruleProperties, ['RoleArn']);
  const p = d.properties;
  const bus = checked(d, 'Properties.EventBusName', () =>
    busNameOf(optionalString(d, 'EventBusName')),
  );
  const name =
    optionalString(d, 'Name') ??
    generatedName(scope, d.logicalId, { maxLength: 64, allowed: /[^A-Za-z0-9_.-]/g });
  checked(d, 'Properties.Name', () => checkName('name', name));
  let pattern: string | undefined;
  if (p.EventPattern !== undefined) {
    pattern = typeof p.EventPattern === 'string' ? p.EventPattern : JSON.stringify(p.EventPattern);
    const text = pattern;
    checked(d, 'Properties.EventPattern', () => checkPattern(text));
  }
  const schedule = optionalString(d, 'ScheduleExpression');
  if (schedule !== undefined) {
    checked(d, 'Properties.ScheduleExpression', () => checkSchedule(schedule));
    if (bus !== defaultBus) {
      throw new ResourcePropertyError(
        d.logicalId,
        'Properties.ScheduleExpression',
        'ScheduleExpression is supported only on the default event bus',
      );
    }
  }
  if (pattern === undefined && schedule === undefined) {
    throw new ResourcePropertyError(
      d.logicalId,
      'Properties',
      'EventPattern or ScheduleExpression must be given',
    );
  }
  const state = optionalString(d, 'State') ?? 'ENABLED';
  if (state !== 'ENABLED' && state !== 'DISABLED') {
    throw new ResourcePropertyError(d.logicalId, 'Properties.State', 'must be ENABLED or DISABLED');
  }
  const description = optionalString(d, 'Description');
  const raw = p.Targets ?? [];
  if (!Array.isArray(raw)) {
    throw new ResourcePropertyError(d.logicalId, 'Properties.Targets', 'must be a list');
  }
  if (raw.length > 5) {
    throw new ResourcePropertyError(d.logicalId, 'Properties.Targets', 'at most 5 targets');
  }
  const targets = raw.map((t, i) => checked(d, `Properties.Targets[${i}]`, () => checkTarget(t)));
  if (new Set(targets.map((t) => t.Id)).size !== targets.length) {
    throw new ResourcePropertyError(d.logicalId, 'Properties.Targets', 'target Ids must differ');
  }
  return {
    bus,
    name,
    settings: {
      State: state,
      ...(pattern === undefined ? {} : { EventPattern: pattern }),
      ...(schedule === undefined ? {} : { ScheduleExpression: schedule }),
      ...(description === undefined ? {} : { Description: description }),
    },
    targets,
  };
}

export function eventRuleProvisioner(deps: EventsProvisionerDeps): ResourceProvisioner {
  const attributes = (scope: ResourceScope, d: ResourceDeclaration): ResourceAttributes => {
    const { bus, name } = planRule(scope, d);
    // CloudFormation's Ref of a rule: its name, `<bus>|<name>` on a custom bus.
    const ref = bus === defaultBus ? name : `${bus}|${name}`;
    return { ref, attributes: { Arn: ruleArn(scope.region, bus, name) }, physicalId: ref };
  };
  const whereIs = (physicalId: string) => {
    const [bus, name] = physicalId.includes('|') ? physicalId.split('|') : [defaultBus, physicalId];
    return { bus: bus as string, name: name as string };
  };
  return {
    type: 'AWS::Events::Rule',
    attributes,
    async apply(scope, d, previous) {
      const plan = planRule(scope, d);
      const result = attributes(scope, d);
      const owner = resourceRuleOwner(scope);
      if (!(await deps.store.findBus(plan.bus))) {
        throw new ResourcePropertyError(
          d.logicalId,
          'Properties.EventBusName',
          `event bus ${plan.bus} does not exist`,
        );
      }
      for (const [i, target] of plan.targets.entries()) {
        await checkedAsync(d, `Properties.Targets[${i}].Arn`, () =>
          checkTargetBuses(deps.store, [target]),
        );
      }
      const existing = await deps.store.findRule(plan.bus, plan.name);
      if (existing && existing.owner !== owner) {
        throw new Error(
          `rule ${plan.name} already exists on bus ${plan.bus} (it was not created by this stage)`,
        );
      }
      if (previous && previous.physicalId !== result.physicalId) {
        const old = whereIs(previous.physicalId);
        await deps.store.deleteRule(old.bus, old.name);
      }
      await deps.store.putRule({
        bus: plan.bus,
        name: plan.name,
        settings: plan.settings,
        owner,
        createdAt: existing?.createdAt ?? deps.clock.now(),
      });
      // The declared targets exactly: ones no longer listed go.
      const keep = new Set(plan.targets.map((t) => t.Id));
      const stale = (await deps.store.targets(plan.bus, plan.name))
        .map((t) => t.Id)
        .filter((id) => !keep.has(id));
      await deps.store.removeTargets(plan.bus, plan.name, stale);
      if (plan.targets.length > 0) await deps.store.putTargets(plan.bus, plan.name, plan.targets);
      deps.onRulesChanged?.();
      return { ...result, logicalId: d.logicalId, type: d.type, properties: d.properties };
    },
    async remove(_scope, resource) {
      const { bus, name } = whereIs(resource.physicalId);
      await deps.store.deleteRule(bus, name);
      deps.onRulesChanged?.();
      return { removed: true };
    },
  };
}
