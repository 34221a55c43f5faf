/** Subscribing, confirming, listing, configuring and removing subscriptions. */
import { randomBytes, randomUUID } from 'node:crypto';
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import { baseUrl, type SnsCall, topicArn, topicNameOfArn } from './sns-call.js';
import { snsErrors } from './sns-errors.js';
import { optionalString, requiredString, stringMap } from './sns-input.js';
import type { SubscriptionRow } from './sns-store.js';
import {
  checkSubscriptionAttributes,
  confirmedByEndpoint,
  functionOfArn,
  isEmailAddress,
  sqsQueueOfArn,
} from './subscription-attributes.js';
import { decodeToken, encodeToken, requireTopic, topicPageSize } from './topic-operations.js';

const protocols = new Set(['lambda', 'sqs', 'http', 'https', 'email', 'email-json']);

export async function subscribe(call: SnsCall): Promise<object> {
  const topic = await requireTopic(call);
  const protocol = requiredString(call.input, 'Protocol');
  const endpoint = optionalString(call.input, 'Endpoint') ?? '';
  const attributes = stringMap(call.input, 'Attributes');
  if (!protocols.has(protocol)) {
    throw snsErrors.invalidParameter(
      `Invalid protocol type: ${protocol} (Nimbus delivers to lambda, sqs, http, https, email and email-json)`,
    );
  }
  checkEndpoint(protocol, endpoint);
  if (topic.attributes.FifoTopic === 'true' && protocol !== 'sqs') {
    throw snsErrors.invalidParameter(
      `Invalid protocol type: ${protocol} Reason: a FIFO topic delivers to SQS queues only`,
    );
  }
  checkSubscriptionAttributes(attributes, protocol);
  const existing = (await call.deps.store.listSubscriptions(topic.name)).find(
    (s) => s.protocol === protocol && s.endpoint === endpoint,
  );
  if (existing) {
    const differs = Object.entries(attributes).some(([k, v]) => existing.attributes[k] !== v);
    if (differs) {
      throw snsErrors.invalidParameter(
        'Attributes Reason: Subscription already exists with different attributes',
      );
    }
    return { SubscriptionArn: shownArn(existing, call) };
  }
  const arn = `${topicArn(call.deps.region, topic.name)}:${randomUUID()}`;
  const confirmable = confirmedByEndpoint(protocol);
  const row: SubscriptionRow = {
    arn,
    topic: topic.name,
    protocol,
    endpoint,
    attributes,
    ...(confirmable ? { token: randomBytes(32).toString('hex') } : {}),
    createdAt: call.deps.clock.now(),
  };
  await call.deps.store.addSubscription(row);
  if (row.token !== undefined) {
    call.deps.deliveries.confirm({
      subscription: row,
      topicArn: topicArn(call.deps.region, topic.name),
      baseUrl: baseUrl(call.req),
      timestamp: call.deps.clock.now(),
    });
  }
  return { SubscriptionArn: shownArn(row, call) };
}

function shownArn(row: SubscriptionRow, call: SnsCall): string {
  const returnArn = optionalString(call.input, 'ReturnSubscriptionArn') === 'true';
  return row.token !== undefined && !returnArn ? 'pending confirmation' : row.arn;
}

function checkEndpoint(protocol: string, endpoint: string): void {
  const bad = () => snsErrors.invalidParameter(`Invalid parameter: Endpoint Reason: ${endpoint}`);
  if (protocol === 'lambda' && !functionOfArn(endpoint)) throw bad();
  if (protocol === 'sqs' && !sqsQueueOfArn(endpoint)) throw bad();
  if ((protocol === 'email' || protocol === 'email-json') && !isEmailAddress(endpoint)) {
    throw snsErrors.invalidParameter('Invalid parameter: Email address');
  }
  if (protocol === 'http' || protocol === 'https') {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw bad();
    }
    if (url.protocol !== `${protocol}:`) throw bad();
  }
}

export async function confirmSubscription(call: SnsCall): Promise<object> {
  const name = topicNameOfArn(requiredString(call.input, 'TopicArn'));
  const token = requiredString(call.input, 'Token');
  if (!(await call.deps.store.findTopic(name))) throw snsErrors.topicNotFound();
  const arn = await call.deps.store.confirm(name, token);
  if (arn === undefined) throw snsErrors.invalidParameter('Token');
  return { SubscriptionArn: arn };
}

export async function unsubscribe(call: SnsCall): Promise<object> {
  const arn = requiredString(call.input, 'SubscriptionArn');
  if (!(await call.deps.store.findSubscription(arn))) throw snsErrors.subscriptionNotFound();
  await call.deps.store.deleteSubscription(arn);
  return {};
}

export async function listSubscriptions(call: SnsCall): Promise<object> {
  return page(call, await call.deps.store.listSubscriptions());
}

export async function listSubscriptionsByTopic(call: SnsCall): Promise<object> {
  const topic = await requireTopic(call);
  return page(call, await call.deps.store.listSubscriptions(topic.name));
}

function page(call: SnsCall, rows: SubscriptionRow[]): object {
  const token = optionalString(call.input, 'NextToken');
  const after = token === undefined ? undefined : decodeToken(token);
  const start = after === undefined ? 0 : rows.findIndex((r) => r.arn === after) + 1;
  if (start < 0) throw snsErrors.invalidParameter('NextToken');
  const slice = rows.slice(start, start + topicPageSize);
  return {
    Subscriptions: slice.map((s) => ({
      SubscriptionArn: s.token !== undefined ? 'PendingConfirmation' : s.arn,
      Owner: NIMBUS_ACCOUNT_ID,
      Protocol: s.protocol,
      Endpoint: s.endpoint,
      TopicArn: topicArn(call.deps.region, s.topic),
    })),
    ...(start + slice.length < rows.length
      ? { NextToken: encodeToken(slice[slice.length - 1]!.arn) }
      : {}),
  };
}

async function requireSubscription(call: SnsCall): Promise<SubscriptionRow> {
  const arn = requiredString(call.input, 'SubscriptionArn');
  const row = await call.deps.store.findSubscription(arn);
  if (!row) throw snsErrors.subscriptionNotFound();
  return row;
}

export async function getSubscriptionAttributes(call: SnsCall): Promise<object> {
  const row = await requireSubscription(call);
  return {
    Attributes: {
      ...row.attributes,
      SubscriptionArn: row.arn,
      TopicArn: topicArn(call.deps.region, row.topic),
      Owner: NIMBUS_ACCOUNT_ID,
      Protocol: row.protocol,
      Endpoint: row.endpoint,
      PendingConfirmation: String(row.token !== undefined),
      ConfirmationWasAuthenticated: String(row.token === undefined),
      RawMessageDelivery: row.attributes.RawMessageDelivery ?? 'false',
      ...(row.attributes.FilterPolicy
        ? { FilterPolicyScope: row.attributes.FilterPolicyScope ?? 'MessageAttributes' }
        : {}),
    },
  };
}

export async function setSubscriptionAttributes(call: SnsCall): Promise<object> {
  const row = await requireSubscription(call);
  const name = requiredString(call.input, 'AttributeName');
  const value = optionalString(call.input, 'AttributeValue') ?? '';
  checkSubscriptionAttributes({ [name]: value }, row.protocol, row.attributes);
  const attributes = { ...row.attributes, [name]: value };
  if (value === '') delete attributes[name];
  await call.deps.store.setSubscriptionAttributes(row.arn, attributes);
  return {};
}
