/** Creating, listing, configuring and removing topics. */
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import { type SnsCall, topicArn, topicNameOfArn } from './sns-call.js';
import { snsErrors } from './sns-errors.js';
import { optionalString, requiredString, stringMap } from './sns-input.js';
import type { TopicRow } from './sns-store.js';
import { checkTopicAttributes, checkTopicName } from './topic-attributes.js';

/** ListTopics and ListSubscriptions pages, as on SNS. */
export const topicPageSize = 100;

export async function createTopic(call: SnsCall): Promise<object> {
  const name = requiredString(call.input, 'Name');
  const given = stringMap(call.input, 'Attributes');
  const fifo = given.FifoTopic === 'true';
  checkTopicName(name, fifo);
  checkTopicAttributes(given, true);
  const created = await call.deps.store.createTopic({
    name,
    attributes: given,
    createdAt: call.deps.clock.now(),
  });
  if (!created) {
    // Creating an existing topic again answers its ARN when the attributes asked for agree.
    const existing = await call.deps.store.findTopic(name);
    const differs = Object.entries(given).some(([k, v]) => (existing?.attributes[k] ?? '') !== v);
    if (differs) {
      throw snsErrors.invalidParameter(
        'Attributes Reason: Topic already exists with different attributes',
      );
    }
  }
  return { TopicArn: topicArn(call.deps.region, name) };
}

export async function requireTopic(call: SnsCall, field = 'TopicArn'): Promise<TopicRow> {
  const name = topicNameOfArn(requiredString(call.input, field));
  const topic = await call.deps.store.findTopic(name);
  if (!topic) throw snsErrors.topicNotFound();
  return topic;
}

export async function listTopics(call: SnsCall): Promise<object> {
  const token = optionalString(call.input, 'NextToken');
  const names = (await call.deps.store.listTopics()).map((t) => t.name);
  const after = token === undefined ? undefined : decodeToken(token);
  const rest = after === undefined ? names : names.filter((n) => n > after);
  const page = rest.slice(0, topicPageSize);
  return {
    Topics: page.map((n) => ({ TopicArn: topicArn(call.deps.region, n) })),
    ...(rest.length > page.length ? { NextToken: encodeToken(page[page.length - 1]!) } : {}),
  };
}

export function encodeToken(last: string): string {
  return Buffer.from(last, 'utf8').toString('base64url');
}

export function decodeToken(token: string): string {
  const last = Buffer.from(token, 'base64url').toString('utf8');
  if (last === '') throw snsErrors.invalidParameter('NextToken');
  return last;
}

export async function deleteTopic(call: SnsCall): Promise<object> {
  // Deleting a topic that does not exist succeeds, as on SNS.
  const name = topicNameOfArn(requiredString(call.input, 'TopicArn'));
  await call.deps.store.deleteTopic(name);
  return {};
}

export async function getTopicAttributes(call: SnsCall): Promise<object> {
  const topic = await requireTopic(call);
  const subscriptions = await call.deps.store.listSubscriptions(topic.name);
  const pending = subscriptions.filter((s) => s.token !== undefined).length;
  const arn = topicArn(call.deps.region, topic.name);
  return {
    Attributes: {
      ...topic.attributes,
      TopicArn: arn,
      Owner: NIMBUS_ACCOUNT_ID,
      SubscriptionsConfirmed: String(subscriptions.length - pending),
      SubscriptionsPending: String(pending),
      SubscriptionsDeleted: '0',
      DisplayName: topic.attributes.DisplayName ?? '',
      Policy: topic.attributes.Policy ?? defaultPolicy(arn),
      EffectiveDeliveryPolicy: topic.attributes.DeliveryPolicy ?? defaultDeliveryPolicy,
      ...(topic.attributes.FifoTopic === 'true'
        ? { ContentBasedDeduplication: topic.attributes.ContentBasedDeduplication ?? 'false' }
        : {}),
    },
  };
}

export async function setTopicAttributes(call: SnsCall): Promise<object> {
  const topic = await requireTopic(call);
  const name = requiredString(call.input, 'AttributeName');
  const value = optionalString(call.input, 'AttributeValue') ?? '';
  checkTopicAttributes({ [name]: value }, false);
  if (name === 'ContentBasedDeduplication' && topic.attributes.FifoTopic !== 'true') {
    throw snsErrors.invalidParameter(
      'AttributeName Reason: ContentBasedDeduplication is for FIFO topics only',
    );
  }
  const attributes = { ...topic.attributes, [name]: value };
  if (value === '') delete attributes[name];
  await call.deps.store.setTopicAttributes(topic.name, attributes);
  return {};
}

const defaultDeliveryPolicy = JSON.stringify({
  http: {
    defaultHealthyRetryPolicy: {
      minDelayTarget: 20,
      maxDelayTarget: 20,
      numRetries: 3,
      numMaxDelayRetries: 0,
      numNoDelayRetries: 0,
      numMinDelayRetries: 0,
      backoffFunction: 'linear',
    },
    disableSubscriptionOverrides: false,
  },
});

function defaultPolicy(arn: string): string {
  return JSON.stringify({
    Version: '2008-10-17',
    Id: '__default_policy_ID',
    Statement: [
      {
        Sid: '__default_statement_ID',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['SNS:Publish', 'SNS:Subscribe', 'SNS:GetTopicAttributes'],
        Resource: arn,
        Condition: { StringEquals: { 'AWS:SourceOwner': NIMBUS_ACCOUNT_ID } },
      },
    ],
  });
}
