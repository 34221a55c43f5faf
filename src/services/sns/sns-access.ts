/**
 * Which topic (and which endpoint queue or function) each SNS operation names, for the shared
 * ownership check (platform/auth/resource-access.ts, docs/security.md): a function's session
 * credentials reach their own stage's topics and shared ones. A subscription belongs to its
 * topic; Subscribe also needs the endpoint queue or function to be the caller's to reach.
 */
import type { AccessRule, ResourceRef } from '../../platform/auth/resource-access.js';
import { AwsError } from '../../platform/aws/aws-error.js';
import { functionOfArn, sqsQueueOfArn } from './subscription-attributes.js';

export const topicKind = 'AWS::SNS::Topic';
export const queueKind = 'AWS::SQS::Queue';
export const functionKind = 'AWS::Lambda::Function';
type Input = Record<string, unknown>;

/** 403 AuthorizationError, as SNS refuses a principal its policy does not allow. */
export function snsAccessDenied(): AwsError {
  return new AwsError(
    403,
    'AuthorizationError',
    'User is not authorized to perform this action on this resource: it belongs to another service stage',
  );
}

/** The topic of a topic ARN or of a subscription ARN (`<topic ARN>:<id>`). */
function topicOfArn(value: unknown): ResourceRef[] {
  if (typeof value !== 'string') return [];
  const parts = value.split(':');
  if (parts.length < 6 || parts[0] !== 'arn' || parts[2] !== 'sns' || !parts[5]) return [];
  return [{ kind: topicKind, name: parts[5] }];
}

const byTopicArn = (input: Input) => topicOfArn(input.TopicArn);
const bySubscriptionArn = (input: Input) => topicOfArn(input.SubscriptionArn);
const byPublishTarget = (input: Input) => topicOfArn(input.TopicArn ?? input.TargetArn);
const bySubscribe = (input: Input): ResourceRef[] => {
  const refs = byTopicArn(input);
  const endpoint = typeof input.Endpoint === 'string' ? input.Endpoint : '';
  if (input.Protocol === 'sqs') {
    const queue = sqsQueueOfArn(endpoint);
    if (queue) refs.push({ kind: queueKind, name: queue });
  }
  if (input.Protocol === 'lambda') {
    const fn = functionOfArn(endpoint);
    if (fn) refs.push({ kind: functionKind, name: fn.name });
  }
  return refs;
};

const keepTopics = (output: object, reaches: (name: string) => boolean): object => {
  const out = output as { Topics?: { TopicArn: string }[] };
  return {
    ...out,
    Topics: (out.Topics ?? []).filter((t) => reaches(topicOfArn(t.TopicArn)[0]?.name ?? '')),
  };
};
const keepSubscriptions = (output: object, reaches: (name: string) => boolean): object => {
  const out = output as { Subscriptions?: { TopicArn: string }[] };
  return {
    ...out,
    Subscriptions: (out.Subscriptions ?? []).filter((s) =>
      reaches(topicOfArn(s.TopicArn)[0]?.name ?? ''),
    ),
  };
};

export function snsAccessRules(
  topicExists: (name: string) => Promise<boolean>,
): Record<string, AccessRule<Input, object>> {
  return {
    CreateTopic: {
      write: true,
      refs: (input) =>
        typeof input.Name === 'string' ? [{ kind: topicKind, name: input.Name }] : [],
      creates: { exists: topicExists },
    },
    DeleteTopic: { write: true, refs: byTopicArn, deletes: true },
    GetTopicAttributes: { write: false, refs: byTopicArn },
    SetTopicAttributes: { write: true, refs: byTopicArn },
    ListTopics: { write: false, filter: { kind: topicKind, keep: keepTopics } },
    Subscribe: { write: true, refs: bySubscribe },
    ConfirmSubscription: { write: true, refs: byTopicArn },
    Unsubscribe: { write: true, refs: bySubscriptionArn },
    ListSubscriptions: { write: false, filter: { kind: topicKind, keep: keepSubscriptions } },
    ListSubscriptionsByTopic: { write: false, refs: byTopicArn },
    GetSubscriptionAttributes: { write: false, refs: bySubscriptionArn },
    SetSubscriptionAttributes: { write: true, refs: bySubscriptionArn },
    Publish: { write: true, refs: byPublishTarget },
    PublishBatch: { write: true, refs: byTopicArn },
  };
}
