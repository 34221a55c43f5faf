/**
 * An event on a bus: matched against every enabled pattern rule of the bus, and handed to each
 * target of each matching rule. Functions are invoked through the AsyncInvoker (durable before
 * PutEvents answers) with the target's RetryPolicy, its DeadLetterConfig as the failure
 * destination; queues and topics are written through the platform's one message delivery
 * (server.ts `deliverMessage`) before PutEvents answers; another event bus gets the event as a
 * new event of its own (events-operations.ts `forwardToBus`), matched by that bus's rules, at
 * most `maxBusHops` bus targets away from where it was put. A target that cannot take the event
 * (its function, queue or topic is gone) is retried later under its RetryPolicy through a
 * durable job (target-jobs.ts), then sent to the target's dead-letter queue with the attributes
 * EventBridge sets there.
 */

import { AwsError } from '../../platform/aws/aws-error.js';
import { matches, type Pattern, parsePattern } from '../../platform/aws/patterns/event-pattern.js';
import type { MessageAttributeValue } from '../sqs/sqs-store.js';
import { ruleArn } from './events-arns.js';
import { eventsErrors, hopDetectedCode } from './events-errors.js';
import type { EventsStore, RuleRow, TargetSettings } from './events-store.js';
import { targetInput } from './target-input.js';

export interface TargetDeliveries {
  invokeFunction(
    name: string,
    qualifier: string | undefined,
    event: string,
    policy: { maxRetryAttempts?: number; maxEventAgeSeconds?: number; onFailure?: string },
  ): Promise<void>;
  /** Writes to a queue or topic by ARN: the platform's one way (destinations use it too). */
  deliver(
    via: 'sqs' | 'sns',
    arn: string,
    body: string,
    attributes?: Record<string, MessageAttributeValue>,
  ): Promise<void>;
  /**
   * Puts an event (the envelope, as the rule's target input) on the event bus `busArn` as a new
   * event that has crossed `hops` bus targets, and delivers it to that bus's rules' targets.
   */
  putOnBus(busArn: string, event: string, hops: number): Promise<void>;
  /** A delivery that failed with nowhere left to go (no dead-letter queue, or it failed too). */
  onError(error: unknown, target: string): void;
  /**
   * Takes a failed delivery to retry later, durably, under the target's RetryPolicy
   * (target-jobs.ts). Without it a failed delivery goes to the dead-letter queue at once.
   */
  retryLater?(job: TargetJob, error: unknown): Promise<void>;
}

/** One event on its way to one target of one rule, as a retry job keeps it. */
export interface TargetJob {
  ruleArn: string;
  target: TargetSettings;
  /** The target's input, transformed already. */
  input: string;
  /** When the event was taken (PutEvents, a schedule's slot): MaximumEventAgeInSeconds counts from it. */
  acceptedAt: number;
  /** Deliveries tried before this job was queued. */
  attempts: number;
  /** Event bus targets the event had crossed when the rule matched it (absent: none). */
  hops?: number;
}

/**
 * How many event bus targets an event may cross: one, as on EventBridge, which does not route an
 * event received from another bus on to a third (nor back: A → B → A). Past it the delivery fails
 * at once with `THIRD_ACCOUNT_HOP_DETECTED` (to the target's dead-letter queue, or logged), so a
 * bus that targets itself, or two that target each other, deliver each event once per hop.
 */
export const maxBusHops = 1;

/**
 * A failure no retry can mend (the queue, topic or function does not exist, the input is too
 * large): EventBridge sends such events to the dead-letter queue at once. Throttles (429) and
 * everything else (the store unreachable, a part not started) are retried.
 */
export function isPermanent(error: unknown): boolean {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 429;
}

/** EventBridge's defaults: 185 retries over 24 hours. */
export function retryLimits(target: TargetSettings): { retries: number; maxAgeMs: number } {
  return {
    retries: target.RetryPolicy?.MaximumRetryAttempts ?? 185,
    maxAgeMs: (target.RetryPolicy?.MaximumEventAgeInSeconds ?? 86_400) * 1000,
  };
}

export type TargetKind =
  | { type: 'lambda'; name: string; qualifier?: string }
  | { type: 'sqs'; queue: string; arn: string }
  | { type: 'sns'; arn: string }
  | { type: 'bus'; arn: string };

/** What a target ARN names, or undefined for a kind Nimbus does not deliver to. */
export function targetKind(arn: string): TargetKind | undefined {
  const fn = /^arn:aws[a-zA-Z-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::([^:]+))?$/.exec(arn);
  if (fn) return { type: 'lambda', name: fn[1]!, ...(fn[2] ? { qualifier: fn[2] } : {}) };
  const queue = /^arn:aws[a-zA-Z-]*:sqs:[^:]*:[^:]*:([^:]+)$/.exec(arn);
  if (queue) return { type: 'sqs', queue: queue[1]!, arn };
  if (/^arn:aws[a-zA-Z-]*:sns:[^:]*:[^:]*:[^:]+$/.test(arn)) return { type: 'sns', arn };
  if (/^arn:aws[a-zA-Z-]*:events:[^:]*:[^:]*:event-bus\/[^:]+$/.test(arn)) {
    return { type: 'bus', arn };
  }
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

/**
 * Delivers an event (the envelope) to the targets of every rule of `bus` it matches; `hops` is
 * how many event bus targets it crossed to get there (0: put on this bus).
 */
export async function deliverEvent(
  deps: BusDeliveryDeps,
  bus: string,
  event: Record<string, unknown>,
  ingestionTime: string,
  hops = 0,
): Promise<void> {
  for (const rule of await matchingRules(deps.store, bus, event)) {
    await deliverToRule(deps, rule, event, ingestionTime, hops);
  }
}

export async function deliverToRule(
  deps: BusDeliveryDeps,
  rule: RuleRow,
  event: Record<string, unknown>,
  ingestionTime: string,
  hops = 0,
): Promise<void> {
  const arn = ruleArn(deps.region, rule.bus, rule.name);
  const context = { ruleArn: arn, ruleName: rule.name, ingestionTime };
  for (const target of await deps.store.targets(rule.bus, rule.name)) {
    const input = targetInput(target, event, context);
    try {
      await deliverToTarget(deps.targets, target, input, hops);
    } catch (error) {
      if (deps.targets.retryLater && retryLimits(target).retries > 0 && !isPermanent(error)) {
        await deps.targets.retryLater(
          {
            ruleArn: arn,
            target,
            input,
            acceptedAt: Date.parse(ingestionTime),
            attempts: 1,
            ...(hops > 0 ? { hops } : {}),
          },
          error,
        );
      } else {
        await deadLetter(deps.targets, target, arn, input, error);
      }
    }
  }
}

/** One delivery of `input` to `target`, for an event that had crossed `hops` bus targets. */
export async function deliverToTarget(
  targets: TargetDeliveries,
  target: TargetSettings,
  input: string,
  hops = 0,
): Promise<void> {
  const kind = targetKind(target.Arn);
  if (!kind) throw new Error(`${target.Arn} is not a target Nimbus delivers to`);
  if (kind.type === 'bus') {
    if (hops >= maxBusHops) throw eventsErrors.hopDetected(eventIdOf(input));
    await targets.putOnBus(kind.arn, input, hops + 1);
  } else if (kind.type === 'lambda') {
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
  } else {
    await targets.deliver(kind.type, target.Arn, input);
  }
}

/** The event, with EventBridge's dead-letter attributes, into the target's dead-letter queue. */
export async function deadLetter(
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
    await targets.deliver('sqs', queue.arn, input, {
      RULE_ARN: text(rule),
      TARGET_ARN: text(target.Arn),
      ERROR_CODE: text(
        error instanceof AwsError && error.awsCode === hopDetectedCode
          ? hopDetectedCode
          : 'SDK_CLIENT_ERROR',
      ),
      ERROR_MESSAGE: text(error instanceof Error ? error.message : String(error)),
    });
  } catch (dlqError) {
    targets.onError(dlqError, target.Arn);
  }
}

/** The id of an event given as its envelope's text (for messages; `?` when it has none). */
function eventIdOf(input: string): string {
  try {
    const id = (JSON.parse(input) as { id?: unknown } | null)?.id;
    return typeof id === 'string' ? id : '?';
  } catch {
    return '?';
  }
}
