/**
 * The `eventBridge` (and `cloudwatchEvent`) events of a stage's functions as rules with one
 * Lambda target each (docs/eventbridge.md): `eventBus` a name creates the bus when missing, an
 * ARN names one that must exist; each rule is owned by the stage, so a redeploy changes nothing
 * and a removed event's rule goes. Buses stay when the stage goes (other rules may use them).
 */

import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import type { Clock } from '../../model/clock.js';
import type { FunctionDefinition } from '../../model/service-definition.js';
import { busNameOf } from './events-arns.js';
import type { EventsStore, RuleRow, TargetSettings } from './events-store.js';

export interface StageRulesDeps {
  store: EventsStore;
  clock: Clock;
  region: string;
  onProblem: (fn: string, message: string) => void;
}

interface WantedRule {
  rule: RuleRow;
  target: TargetSettings;
  createBus: boolean;
}

/** One event's rule and target; throws an Error whose message names the problem. */
export function stageRule(
  state: { service: string; stage: string },
  fn: FunctionDefinition,
  index: number,
  config: Record<string, unknown>,
  region: string,
  now: number,
): WantedRule {
  const rawBus = typeof config.eventBus === 'string' ? config.eventBus : undefined;
  const bus = busNameOf(rawBus);
  if (!/^[\w.-]{1,64}$/.test(bus)) throw new Error(`eventBus ${bus} is not a valid bus name`);
  const name =
    typeof config.name === 'string' ? config.name : `${fn.name}-rule-${index + 1}`.slice(0, 64);
  const target: TargetSettings = {
    Id: `${fn.key}`.slice(0, 64),
    Arn: `arn:aws:lambda:${region}:${NIMBUS_ACCOUNT_ID}:function:${fn.name}`,
  };
  if (config.input !== undefined) {
    target.Input = typeof config.input === 'string' ? config.input : JSON.stringify(config.input);
  } else if (typeof config.inputPath === 'string') {
    target.InputPath = config.inputPath;
  } else if (config.inputTransformer !== undefined) {
    const t = config.inputTransformer as {
      inputPathsMap?: Record<string, string>;
      inputTemplate: string;
    };
    target.InputTransformer = {
      InputTemplate: t.inputTemplate,
      ...(t.inputPathsMap ? { InputPathsMap: t.inputPathsMap } : {}),
    };
  }
  const retry = config.retryPolicy as
    | { maximumRetryAttempts?: number; maximumEventAge?: number }
    | undefined;
  if (retry) {
    target.RetryPolicy = {
      ...(retry.maximumRetryAttempts !== undefined
        ? { MaximumRetryAttempts: Number(retry.maximumRetryAttempts) }
        : {}),
      ...(retry.maximumEventAge !== undefined
        ? { MaximumEventAgeInSeconds: Number(retry.maximumEventAge) }
        : {}),
    };
  }
  if (typeof config.deadLetterQueueArn === 'string') {
    target.DeadLetterConfig = { Arn: config.deadLetterQueueArn };
  }
  return {
    rule: {
      bus,
      name,
      settings: {
        EventPattern: JSON.stringify(config.pattern),
        State: config.enabled === false ? 'DISABLED' : 'ENABLED',
        ...(typeof config.description === 'string' ? { Description: config.description } : {}),
      },
      owner: `${state.service}/${state.stage}`,
      createdAt: now,
    },
    target,
    createBus: rawBus !== undefined && !rawBus.startsWith('arn:'),
  };
}

/** Brings the stage's rules in line with its functions' `eventBridge` events. */
export async function syncStageRules(
  deps: StageRulesDeps,
  state: { service: string; stage: string; functions: readonly FunctionDefinition[] },
): Promise<void> {
  const owner = `${state.service}/${state.stage}`;
  const now = deps.clock.now();
  const wanted = new Map<string, WantedRule>();
  for (const fn of state.functions) {
    for (const [index, event] of fn.events.entries()) {
      if (event.kind !== 'eventBridge') continue;
      const config = (event as { config: Record<string, unknown> }).config;
      if (config.pattern === undefined) continue; // the schedule form is a schedule
      let want: WantedRule;
      try {
        want = stageRule(state, fn, index, config, deps.region, now);
      } catch (error) {
        deps.onProblem(fn.key, `events[${index}].eventBridge: ${(error as Error).message}`);
        continue;
      }
      if (!(await deps.store.findBus(want.rule.bus))) {
        if (!want.createBus) {
          deps.onProblem(
            fn.key,
            `events[${index}].eventBridge: event bus ${want.rule.bus} does not exist`,
          );
          continue;
        }
        await deps.store.createBus({ name: want.rule.bus, createdAt: now });
      }
      const existing = await deps.store.findRule(want.rule.bus, want.rule.name);
      if (existing && existing.owner !== owner) {
        deps.onProblem(
          fn.key,
          `events[${index}].eventBridge: rule ${want.rule.name} exists and belongs to ${existing.owner ?? 'the API'}`,
        );
        continue;
      }
      wanted.set(`${want.rule.bus}\0${want.rule.name}`, want);
    }
  }
  for (const rule of await deps.store.rulesOwnedBy(owner)) {
    if (!wanted.has(`${rule.bus}\0${rule.name}`)) await deps.store.deleteRule(rule.bus, rule.name);
  }
  for (const want of wanted.values()) {
    await deps.store.putRule(want.rule);
    const ids = (await deps.store.targets(want.rule.bus, want.rule.name)).map((t) => t.Id);
    await deps.store.removeTargets(
      want.rule.bus,
      want.rule.name,
      ids.filter((id) => id !== want.target.Id),
    );
    await deps.store.putTargets(want.rule.bus, want.rule.name, [want.target]);
  }
}
