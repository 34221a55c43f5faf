/**
 * AWS::SNS::Topic and AWS::SNS::Subscription for the resources evaluator (contract in
 * src/platform/aws/resources/provisioner.ts). Names and ARNs follow from the properties alone:
 * a topic without TopicName is `<service>-<stage>-<logicalId>`, a subscription's ARN ends in a
 * UUID derived from its stage and logical id, so references resolve before anything exists.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../model/clock.js';
import { AwsError } from '../../platform/aws/aws-error.js';
import {
  type ProvisionedResource,
  type ResourceAttributes,
  type ResourceDeclaration,
  ResourcePropertyError,
  type ResourceProvisioner,
  type ResourceScope,
} from '../../platform/aws/resources/provisioner.js';
import type { Deliveries } from './fan-out.js';
import { topicNameOfArn } from './sns-call.js';
import type { SnsStore, SubscriptionRow } from './sns-store.js';
import {
  checkSubscriptionAttributes,
  confirmedByEndpoint,
  functionOfArn,
  isEmailAddress,
  sqsQueueOfArn,
} from './subscription-attributes.js';
import { checkTopicAttributes, checkTopicName } from './topic-attributes.js';

const topicProperties = new Set([
  'TopicName',
  'DisplayName',
  'FifoTopic',
  'ContentBasedDeduplication',
  'KmsMasterKeyId',
  'Subscription',
  'TracingConfig',
  'SignatureVersion',
  'ArchivePolicy',
  'FifoThroughputScope',
]);

const subscriptionProperties = new Set([
  'TopicArn',
  'Protocol',
  'Endpoint',
  'FilterPolicy',
  'FilterPolicyScope',
  'RawMessageDelivery',
  'RedrivePolicy',
  'DeliveryPolicy',
  'Region',
]);

function arnOf(scope: ResourceScope, name: string): string {
  return `arn:aws:sns:${scope.region}:${scope.accountId}:${name}`;
}

/** The attribute strings SNS keeps for CloudFormation's typed properties. */
function asString(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function unknownProperties(d: ResourceDeclaration, known: Set<string>): void {
  for (const name of Object.keys(d.properties)) {
    if (!known.has(name)) {
      throw new ResourcePropertyError(
        d.logicalId,
        `Properties.${name}`,
        `${d.type} property ${name} is not supported`,
      );
    }
  }
}

/** Runs a service check, reporting its refusal against the resource. */
function checked<T>(d: ResourceDeclaration, property: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof AwsError)
      throw new ResourcePropertyError(d.logicalId, property, error.message);
    throw error;
  }
}

interface TopicPlan {
  name: string;
  attributes: Record<string, string>;
  subscriptions: { Protocol: string; Endpoint: string }[];
}

function planTopic(scope: ResourceScope, d: ResourceDeclaration): TopicPlan {
  unknownProperties(d, topicProperties);
  const p = d.properties;
  const fifo = p.FifoTopic === true || p.FifoTopic === 'true';
  const name =
    typeof p.TopicName === 'string'
      ? p.TopicName
      : `${scope.service}-${scope.stage}-${d.logicalId}${fifo ? '.fifo' : ''}`;
  checked(d, 'Properties.TopicName', () => checkTopicName(name, fifo));
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) {
    if (k === 'TopicName' || k === 'Subscription' || v === undefined) continue;
    attributes[k] = asString(v);
  }
  checked(d, 'Properties', () => checkTopicAttributes(attributes, true));
  const raw = p.Subscription ?? [];
  if (!Array.isArray(raw)) {
    throw new ResourcePropertyError(d.logicalId, 'Properties.Subscription', 'must be a list');
  }
  const subscriptions = raw.map((s, i) => {
    const sub = s as Record<string, unknown>;
    if (typeof sub.Protocol !== 'string' || typeof sub.Endpoint !== 'string') {
      throw new ResourcePropertyError(
        d.logicalId,
        `Properties.Subscription[${i}]`,
        'needs Protocol and Endpoint',
      );
    }
    checkEndpoint(d, `Properties.Subscription[${i}]`, sub.Protocol, sub.Endpoint);
    return { Protocol: sub.Protocol, Endpoint: sub.Endpoint };
  });
  return { name, attributes, subscriptions };
}

/**
 * Resources subscribe functions, queues, email addresses and http(s) URLs; the last two confirm
 * through the link they are sent, as with the API.
 */
function checkEndpoint(
  d: ResourceDeclaration,
  property: string,
  protocol: string,
  endpoint: string,
): void {
  const ok =
    (protocol === 'lambda' && functionOfArn(endpoint)) ||
    (protocol === 'sqs' && sqsQueueOfArn(endpoint)) ||
    ((protocol === 'email' || protocol === 'email-json') && isEmailAddress(endpoint)) ||
    ((protocol === 'http' || protocol === 'https') && isUrlOf(protocol, endpoint));
  if (!ok) {
    throw new ResourcePropertyError(
      d.logicalId,
      property,
      `protocol ${protocol} with endpoint ${endpoint} is not supported here: resources subscribe lambda function ARNs, sqs queue ARNs, email and email-json addresses, and http/https URLs`,
    );
  }
}

function isUrlOf(protocol: string, endpoint: string): boolean {
  try {
    return new URL(endpoint).protocol === `${protocol}:`;
  } catch {
    return false;
  }
}

interface SubscriptionDeps {
  store: SnsStore;
  clock: Clock;
  /** Sends a pending subscription its confirmation (the topic's deliveries). */
  confirm?: Deliveries['confirm'];
}

/**
 * Stores a declared subscription. One whose endpoint must confirm starts pending and is sent
 * its confirmation, once: a redeploy keeps it as it is (confirmed stays confirmed) unless its
 * protocol or endpoint changed, which makes it a new, pending one.
 */
async function putDeclaredSubscription(
  deps: SubscriptionDeps,
  scope: ResourceScope,
  row: SubscriptionRow,
  topicArn: string,
): Promise<void> {
  if (!confirmedByEndpoint(row.protocol)) return deps.store.putSubscription(row);
  const existing = await deps.store.findSubscription(row.arn);
  if (existing && existing.protocol === row.protocol && existing.endpoint === row.endpoint) {
    return deps.store.putSubscription(row);
  }
  if (existing) await deps.store.deleteSubscription(row.arn);
  const pending = { ...row, token: randomBytes(32).toString('hex') };
  await deps.store.putSubscription(pending);
  deps.confirm?.({
    subscription: pending,
    topicArn,
    baseUrl: scope.platformUrl,
    timestamp: deps.clock.now(),
  });
}

/** A UUID-shaped id derived from a stage and a logical id (stable across deployments). */
function stableId(scope: ResourceScope, logicalId: string, extra = ''): string {
  const h = createHash('sha256')
    .update(`${scope.service}\0${scope.stage}\0${logicalId}\0${extra}`)
    .digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function snsTopicProvisioner(deps: SubscriptionDeps): ResourceProvisioner {
  const attributes = (scope: ResourceScope, d: ResourceDeclaration): ResourceAttributes => {
    const { name } = planTopic(scope, d);
    const arn = arnOf(scope, name);
    return { ref: arn, attributes: { TopicArn: arn, TopicName: name }, physicalId: name };
  };
  return {
    type: 'AWS::SNS::Topic',
    attributes,
    async apply(scope, d, previous) {
      const plan = planTopic(scope, d);
      const result = attributes(scope, d);
      if (previous && previous.physicalId !== plan.name)
        await deps.store.deleteTopic(previous.physicalId);
      const now = deps.clock.now();
      if (
        !(await deps.store.createTopic({
          name: plan.name,
          attributes: plan.attributes,
          createdAt: now,
        }))
      ) {
        await deps.store.setTopicAttributes(plan.name, plan.attributes);
      }
      const inlineArn = (s: { Protocol: string; Endpoint: string }) =>
        `${result.ref}:${stableId(scope, d.logicalId, `${s.Protocol}\0${s.Endpoint}`)}`;
      const keep = new Set(plan.subscriptions.map(inlineArn));
      for (const s of plan.subscriptions) {
        await putDeclaredSubscription(
          deps,
          scope,
          {
            arn: inlineArn(s),
            topic: plan.name,
            protocol: s.Protocol,
            endpoint: s.Endpoint,
            attributes: {},
            createdAt: now,
          },
          result.ref,
        );
      }
      // Inline subscriptions the declaration no longer lists go (API-made ones stay).
      const before = (previous?.properties.Subscription ?? []) as {
        Protocol: string;
        Endpoint: string;
      }[];
      for (const arn of before.map(inlineArn)) {
        if (!keep.has(arn)) await deps.store.deleteSubscription(arn);
      }
      return { ...result, logicalId: d.logicalId, type: d.type, properties: d.properties };
    },
    async remove(_scope, resource) {
      await deps.store.deleteTopic(resource.physicalId);
      return { removed: true };
    },
  };
}

function planSubscription(scope: ResourceScope, d: ResourceDeclaration) {
  unknownProperties(d, subscriptionProperties);
  const p = d.properties;
  for (const name of ['TopicArn', 'Protocol', 'Endpoint']) {
    if (typeof p[name] !== 'string' || p[name] === '') {
      throw new ResourcePropertyError(d.logicalId, `Properties.${name}`, `${name} is required`);
    }
  }
  const topicArn = p.TopicArn as string;
  const topic = checked(d, 'Properties.TopicArn', () => topicNameOfArn(topicArn));
  const protocol = p.Protocol as string;
  const endpoint = p.Endpoint as string;
  checkEndpoint(d, 'Properties.Endpoint', protocol, endpoint);
  const attributes: Record<string, string> = {};
  for (const name of [
    'FilterPolicy',
    'FilterPolicyScope',
    'RawMessageDelivery',
    'RedrivePolicy',
    'DeliveryPolicy',
  ]) {
    if (p[name] !== undefined) attributes[name] = asString(p[name]);
  }
  checked(d, 'Properties', () => checkSubscriptionAttributes(attributes, protocol));
  const arn = `${topicArn}:${stableId(scope, d.logicalId)}`;
  return { arn, topic, topicArn, protocol, endpoint, attributes };
}

export function snsSubscriptionProvisioner(deps: SubscriptionDeps): ResourceProvisioner {
  return {
    type: 'AWS::SNS::Subscription',
    attributes(scope, d) {
      const { arn } = planSubscription(scope, d);
      return { ref: arn, attributes: {}, physicalId: arn };
    },
    async apply(scope, d, previous) {
      const plan = planSubscription(scope, d);
      if (!(await deps.store.findTopic(plan.topic))) {
        throw new ResourcePropertyError(
          d.logicalId,
          'Properties.TopicArn',
          `topic ${plan.topic} does not exist`,
        );
      }
      if (previous && previous.physicalId !== plan.arn)
        await deps.store.deleteSubscription(previous.physicalId);
      const { topicArn, ...row } = plan;
      await putDeclaredSubscription(deps, scope, { ...row, createdAt: deps.clock.now() }, topicArn);
      return {
        ref: plan.arn,
        attributes: {},
        physicalId: plan.arn,
        logicalId: d.logicalId,
        type: d.type,
        properties: d.properties,
      } satisfies ProvisionedResource;
    },
    async remove(_scope, resource) {
      await deps.store.deleteSubscription(resource.physicalId);
      return { removed: true };
    },
  };
}
