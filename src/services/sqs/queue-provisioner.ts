/**
 * AWS::SQS::Queue from serverless.yml `resources`: creates or updates the queue with the SQS
 * service's own name and attribute checks; `Ref` is the queue URL on this platform.
 */
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import type { Clock } from '../../model/clock.js';
import { AwsError } from '../../platform/aws/aws-error.js';
import {
  checkKnownProperties,
  generatedName,
  optionalBoolean,
  optionalInteger,
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
import {
  checkAttributes,
  checkQueueName,
  defaultAttributes,
  queueArn,
} from './queue-attributes.js';
import type { SqsStore } from './sqs-store.js';

const INTEGER_PROPERTIES: Record<string, [number, number]> = {
  VisibilityTimeout: [0, 43_200],
  MessageRetentionPeriod: [60, 1_209_600],
  DelaySeconds: [0, 900],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  MaximumMessageSize: [1024, 262_144],
};

const HONOURED = [
  'QueueName',
  'FifoQueue',
  'ContentBasedDeduplication',
  'RedrivePolicy',
  ...Object.keys(INTEGER_PROPERTIES),
];
/** Kept as queue attributes SQS reports, with no effect on delivery here. */
const NO_EFFECT = [
  'Tags',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
];

export class QueueProvisioner implements ResourceProvisioner {
  readonly type = 'AWS::SQS::Queue';
  readonly #store: SqsStore;
  readonly #clock: Clock;

  constructor(deps: { store: SqsStore; clock: Clock }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
  }

  attributes(scope: ResourceScope, d: ResourceDeclaration): ResourceAttributes {
    const { name } = this.#settings(scope, d);
    const url = `${scope.platformUrl.replace(/\/+$/, '')}/${NIMBUS_ACCOUNT_ID}/${name}`;
    return {
      ref: url,
      physicalId: name,
      attributes: { Arn: queueArn(scope.region, name), QueueName: name, QueueUrl: url },
    };
  }

  /** The queue name and the SQS attributes the properties ask for, checked as SQS checks them. */
  #settings(scope: ResourceScope, d: ResourceDeclaration) {
    checkKnownProperties(d, HONOURED, NO_EFFECT);
    const fifo = optionalBoolean(d, 'FifoQueue') ?? false;
    const given = optionalString(d, 'QueueName');
    const name =
      given ??
      `${generatedName(scope, d.logicalId, { maxLength: fifo ? 75 : 80, allowed: /[^A-Za-z0-9_-]/g })}${fifo ? '.fifo' : ''}`;
    const attributes: Record<string, string> = {};
    for (const [prop, [min, max]] of Object.entries(INTEGER_PROPERTIES)) {
      const n = optionalInteger(d, prop, min, max);
      if (n !== undefined) attributes[prop] = String(n);
    }
    const dedup = optionalBoolean(d, 'ContentBasedDeduplication');
    if (dedup !== undefined) attributes.ContentBasedDeduplication = String(dedup);
    const redrive = d.properties.RedrivePolicy;
    if (redrive !== undefined) {
      if (typeof redrive !== 'string' && (typeof redrive !== 'object' || redrive === null)) {
        throw new ResourcePropertyError(d.logicalId, 'Properties.RedrivePolicy', 'must be a map');
      }
      attributes.RedrivePolicy = typeof redrive === 'string' ? redrive : JSON.stringify(redrive);
    }
    try {
      checkQueueName(name, fifo);
      checkAttributes(attributes, fifo, false);
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      const property =
        given !== undefined && /name/i.test(error.message) ? 'Properties.QueueName' : 'Properties';
      throw new ResourcePropertyError(d.logicalId, property, error.message);
    }
    return { name, fifo, attributes };
  }

  async apply(
    scope: ResourceScope,
    d: ResourceDeclaration,
    previous: ProvisionedResource | undefined,
  ): Promise<ProvisionedResource> {
    const attributes = this.attributes(scope, d);
    const settings = this.#settings(scope, d);
    const wanted = { ...defaultAttributes(settings.fifo), ...settings.attributes };
    const now = this.#clock.now();
    const created = await this.#store.createQueue({
      name: settings.name,
      attributes: wanted,
      createdAt: now,
      modifiedAt: now,
    });
    if (!created) {
      if (previous?.physicalId !== settings.name) {
        throw new Error(`queue ${settings.name} already exists (it was not created by this stage)`);
      }
      const existing = await this.#store.findQueue(settings.name);
      const current = existing?.attributes ?? {};
      // Attributes the declaration no longer sets go back to their defaults, as on CloudFormation.
      const changed = Object.keys({ ...current, ...wanted }).some((k) => current[k] !== wanted[k]);
      if (changed) await this.#store.setAttributes(settings.name, wanted, now);
    }
    return { logicalId: d.logicalId, type: this.type, properties: d.properties, ...attributes };
  }

  async remove(
    _scope: ResourceScope,
    resource: ProvisionedResource,
  ): Promise<{ removed: true } | { removed: false; reason: string }> {
    await this.#store.deleteQueue(resource.physicalId);
    return { removed: true };
  }
}
