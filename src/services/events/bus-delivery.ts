/**
 * An event on a bus: matched against every enabled pattern rule of the bus, and handed to each
 * target of each matching rule. Functions are invoked through the AsyncInvoker (durable before
 * PutEvents answers) with the target's RetryPolicy, its DeadLetterConfig as the failure
 * destination; queues and topics are written through the SQS and SNS parts before PutEvents
 * answers. A target that cannot take the event (its function, queue or topic is gone) sends it
 * to the target's dead-letter queue, with the attributes EventBridge sets there.
 */
import { matches, type Pattern, parsePattern } from '../../platform/aws/patterns/event-pattern.js';
import type { MessageAttributeValue } from '../sqs/sqs-store.js';
import { ruleArn } from './events-arns.js';
import type { EventsStore, RuleRow, TargetSettings } from './events-store.js';
import { targetInput } from './target-input.js';

export interface TargetDeliveries {
  invokeFunction(
    name: string,
    qualifier: string | undefined,
    event: string,
    policy: { maxRetryAttempts?: number; maxEventAgeSeconds?: number; onFailure?: string },
  ): Promise<void>;
  sendToQueue(
    queue: string,
    body: string,
    attributes?: Record<string, MessageAttributeValue>,
  ): Promise<void>;
  publish(topicArn: string, message: string): Promise<void>;
  /** A delivery that failed with nowhere left to go (no dead-letter queue, or it failed too). */
  onError(error: unknown, target: string): void;
}

export type TargetKind =
  | { type: 'lambda'; name: string; qualifier?: string }
  | { type: 'sqs'; queue: string }
  | { type: 'sns'; arn: string };

/** What a target ARN names, or undefined for a kind Nimbus does not deliver to. */
export function targetKind(arn: string): TargetKind | undefined {
  const fn = /^arn:aws[a-zA-Z-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::([^:]+))?$/.exec(arn);
  if (fn) return { type: 'lambda', name: fn[1]!, ...(fn[2] ? { qualifier: fn[2] } : {}) };
  const queue = /^arn:aws[a-zA-Z-]*:sqs:[^:]*:[^:]*:([^:]+)$/.exec(arn);
  if (queue) return { type: 'sqs', queue: queue[1]! };
  if (/^arn:aws[a-zA-Z-]*:sns:[^:]*:[^:]*:[^:]+$/.test(arn)) return { type: 'sns', arn };
  return undefined;
}

export interface BusDeliveryDeps {
  store: EventsStore;
  region: string;
  targets: TargetDeliveries;
}

/** The rules of a bus an event matches (enabled pattern rules only; schedules match nothing). */
export async function matchingRules(
  store: EventsStore,
  bus: string,
  event: Record<string, unknown>,
): Promise<RuleRow[]> {
  const rules = await store.listRules(bus);
  return rules.filter((rule) => {
    const text = rule.settings.EventPattern;
    if (rule.settings.State !== 'ENABLED' || text === undefined) return false;
    let pattern: Pattern;
    try {
      pattern = parsePattern(text);
    } catch {
      return false; // refused when it was put; never reached
    }
    return matches(pattern, event);
  });
}

/** Delivers an event (the envelope) to the targets of every rule of `bus` it matches. */
export async function deliverEvent(
  deps: BusDeliveryDeps,
  bus: string,
  event: Record<string, unknown>,
  ingestionTime: string,
): Promise<void> {
  for (const rule of await matchingRules(deps.store, bus, event)) {
    await deliverToRule(deps, rule, event, ingestionTime);
  }
}

export async function deliverToRule(
  deps: BusDeliveryDeps,
  rule: RuleRow,
  event: Record<string, unknown>,
  ingestionTime: string,
): Promise<void> {
  const arn = ruleArn(deps.region, rule.bus, rule.name);
  const context = { ruleArn: arn, ruleName: rule.name, ingestionTime };
  for (const target of await deps.store.targets(rule.bus, rule.name)) {
    const input = targetInput(target, event, context);
    try {
      await deliverToTarget(deps.targets, target, input);
    } catch (error) {
      await deadLetter(deps.targets, target, arn, input, error);
    }
  }
}

async function deliverToTarget(
  targets: TargetDeliveries,
  target: TargetSettings,
  input: string,
): Promise<void> {
  const kind = targetKind(target.Arn);
  if (!kind) throw new Error(`${target.Arn} is not a target Nimbus delivers to`);
  if (kind.type === 'lambda') {
    const policy = target.RetryPolicy ?? {};
    await targets.invokeFunction(kind.name, kind.qualifier, input, {
      ...(policy.MaximumRetryAttempts === undefined
        ? {}
        : { maxRetryAttempts: policy.MaximumRetryAttempts }),
      ...(policy.MaximumEventAgeInSeconds === undefined
        ? {}
        : { maxEventAgeSeconds: policy.MaximumEventAgeInSeconds }),
      ...(target.DeadLetterConfig?.Arn ? { onFailure: target.DeadLetterConfig.Arn } : {}),
    });
  } else if (kind.type === 'sqs') {
    await targets.sendToQueue(kind.queue, input);
  } else {
    await targets.publish(kind.arn, input);
  }
}

/** The event, with EventBridge's dead-letter attributes, into the target's dead-letter queue. */
async function deadLetter(
  targets: TargetDeliveries,
  target: TargetSettings,
  rule: string,
  input: string,
  error: unknown,
): Promise<void> {
  const dlq = target.DeadLetterConfig?.Arn;
  const queue = dlq ? targetKind(dlq) : undefined;
  if (queue?.type !== 'sqs') {
    targets.onError(error, target.Arn);
    return;
  }
  const text = (s: string): MessageAttributeValue => ({ DataType: 'String', StringValue: s });
  try {
    await targets.sendToQueue(queue.queue, input, {
      RULE_ARN: text(rule),
      TARGET_ARN: text(target.Arn),
      ERROR_CODE: text('SDK_CLIENT_ERROR'),
      ERROR_MESSAGE: text(error instanceof Error ? error.message : String(error)),
    });
  } catch (dlqError) {
    targets.onError(dlqError, target.Arn);
  }
}
