/**
 * The `sns` events of a stage's functions as topics and Lambda subscriptions (docs/sns.md):
 * `topicName` (or a plain name) creates the topic when missing, `arn` names one that must
 * exist; each event becomes a subscription owned by the stage, with a stable ARN, so a
 * redeploy changes nothing and a removed event's subscription goes. Topics stay when the
 * stage goes (they may hold other subscribers).
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../model/clock.js';
import type { FunctionDefinition } from '../../model/service-definition.js';
import { AwsError } from '../../platform/aws/aws-error.js';
import { topicArn, topicNameOfArn } from './sns-call.js';
import type { SnsStore, SubscriptionRow } from './sns-store.js';
import { checkSubscriptionAttributes } from './subscription-attributes.js';
import { checkTopicName } from './topic-attributes.js';

export interface SnsEventSubscription {
  topic: string;
  create: boolean;
  displayName?: string;
  attributes: Record<string, string>;
}

/** One `sns` event's config, checked; throws an Error whose message names the problem. */
export function snsEventSubscription(config: Record<string, unknown>): SnsEventSubscription {
  const arn = typeof config.arn === 'string' ? config.arn : undefined;
  const topic = arn
    ? service(() => topicNameOfArn(arn))
    : typeof config.topicName === 'string'
      ? config.topicName
      : undefined;
  if (topic === undefined) throw new Error('needs arn or topicName as a string');
  service(() => checkTopicName(topic, topic.endsWith('.fifo')));
  const attributes: Record<string, string> = {};
  if (config.filterPolicy !== undefined)
    attributes.FilterPolicy = JSON.stringify(config.filterPolicy);
  if (typeof config.filterPolicyScope === 'string')
    attributes.FilterPolicyScope = config.filterPolicyScope;
  if (config.redrivePolicy !== undefined) {
    const target = (config.redrivePolicy as Record<string, unknown> | null)?.deadLetterTargetArn;
    if (typeof target !== 'string') {
      throw new Error('redrivePolicy needs deadLetterTargetArn (an SQS queue ARN)');
    }
    attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: target });
  }
  service(() => checkSubscriptionAttributes(attributes, 'lambda'));
  return {
    topic,
    create: arn === undefined,
    ...(typeof config.displayName === 'string' ? { displayName: config.displayName } : {}),
    attributes,
  };
}

function service<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof AwsError)
      throw new Error(error.message.replace(/^Invalid parameter: /, ''));
    throw error;
  }
}

export interface StageSubscriptionsDeps {
  store: SnsStore;
  clock: Clock;
  region: string;
  onProblem: (fn: string, message: string) => void;
}

/** Brings the stage's subscriptions in line with its functions' `sns` events. */
export async function syncStageSubscriptions(
  deps: StageSubscriptionsDeps,
  state: { service: string; stage: string; functions: readonly FunctionDefinition[] },
): Promise<void> {
  const owner = `${state.service}/${state.stage}`;
  const wanted = new Map<string, SubscriptionRow>();
  const now = deps.clock.now();
  for (const fn of state.functions) {
    for (const [index, event] of fn.events.entries()) {
      if (event.kind !== 'sns') continue;
      let sub: SnsEventSubscription;
      try {
        sub = snsEventSubscription((event as { config: Record<string, unknown> }).config);
      } catch (error) {
        deps.onProblem(fn.key, `events[${index}].sns: ${(error as Error).message}`);
        continue;
      }
      if (!(await deps.store.findTopic(sub.topic))) {
        if (!sub.create) {
          deps.onProblem(fn.key, `events[${index}].sns: topic ${sub.topic} does not exist`);
          continue;
        }
        await deps.store.createTopic({
          name: sub.topic,
          attributes: {
            ...(sub.displayName ? { DisplayName: sub.displayName } : {}),
            ...(sub.topic.endsWith('.fifo') ? { FifoTopic: 'true' } : {}),
          },
          createdAt: now,
        });
      }
      const arnOfTopic = topicArn(deps.region, sub.topic);
      const id = createHash('sha256')
        .update(`${owner}\0${fn.key}\0${index}\0${sub.topic}`)
        .digest('hex');
      const arn = `${arnOfTopic}:${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`;
      wanted.set(arn, {
        arn,
        topic: sub.topic,
        protocol: 'lambda',
        endpoint: `arn:aws:lambda:${deps.region}:000000000000:function:${fn.name}:${state.stage}`,
        attributes: sub.attributes,
        owner,
        createdAt: now,
      });
    }
  }
  for (const existing of await deps.store.subscriptionsOwnedBy(owner)) {
    if (!wanted.has(existing.arn)) await deps.store.deleteSubscription(existing.arn);
  }
  for (const row of wanted.values()) await deps.store.putSubscription(row);
}
