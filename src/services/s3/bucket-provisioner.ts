/**
 * AWS::S3::Bucket from serverless.yml (`resources`, `provider.s3`, `s3` events): creates the
 * bucket in the S3 service's own metadata; removes it only when empty, as CloudFormation does.
 */
import type { Clock } from '../../model/clock.js';
import {
  checkKnownProperties,
  generatedName,
  optionalString,
  platformHost,
} from '../../platform/aws/resources/property-checks.js';
import {
  type ProvisionedResource,
  type ResourceAttributes,
  type ResourceDeclaration,
  ResourcePropertyError,
  type ResourceProvisioner,
  type ResourceScope,
} from '../../platform/aws/resources/provisioner.js';
import { isValidBucketName } from './bucket-name.js';
import { CorsConfigError, type CorsRule, validateCorsRules } from './cors-config.js';
import {
  type BucketNotification,
  type DestinationKind,
  type DraftTarget,
  missingDestination,
  NotificationConfigError,
  validateNotification,
} from './notification-config.js';
import type { ObjectStorage } from './object-files.js';
import type { NotificationDestinations } from './s3-call.js';
import type { S3Metadata } from './s3-metadata.js';

/** Settings that change nothing on Nimbus (no ACLs, encryption at rest is the disk's). */
const NO_EFFECT = [
  'Tags',
  'AccessControl',
  'PublicAccessBlockConfiguration',
  'BucketEncryption',
  'OwnershipControls',
];

export class BucketProvisioner implements ResourceProvisioner {
  readonly type = 'AWS::S3::Bucket';
  readonly #meta: S3Metadata;
  readonly #files: ObjectStorage;
  readonly #clock: Clock;
  readonly #destinations: NotificationDestinations | undefined;

  constructor(deps: {
    meta: S3Metadata;
    files: ObjectStorage;
    clock: Clock;
    /** Checks that a notification's queues and topics exist. */
    destinations?: NotificationDestinations;
  }) {
    this.#meta = deps.meta;
    this.#files = deps.files;
    this.#clock = deps.clock;
    this.#destinations = deps.destinations;
  }

  attributes(scope: ResourceScope, d: ResourceDeclaration): ResourceAttributes {
    checkKnownProperties(
      d,
      ['BucketName', 'CorsConfiguration', 'NotificationConfiguration'],
      NO_EFFECT,
    );
    corsConfiguration(d);
    notificationConfiguration(d);
    const name =
      optionalString(d, 'BucketName') ??
      generatedName(scope, d.logicalId, { maxLength: 63, lowerCase: true });
    if (!isValidBucketName(name)) {
      throw new ResourcePropertyError(
        d.logicalId,
        'Properties.BucketName',
        `"${name}" is not a valid bucket name (3-63 lower-case letters, digits, dots and hyphens)`,
      );
    }
    const port = new URL(scope.platformUrl || 'http://localhost').port;
    const domain = `${name}.s3.localhost${port ? `:${port}` : ''}`;
    return {
      ref: name,
      physicalId: name,
      attributes: {
        Arn: `arn:aws:s3:::${name}`,
        DomainName: domain,
        RegionalDomainName: domain,
        DualStackDomainName: domain,
        WebsiteURL: `http://${platformHost(scope)}/${name}`,
      },
    };
  }

  async apply(
    scope: ResourceScope,
    d: ResourceDeclaration,
    previous: ProvisionedResource | undefined,
  ): Promise<ProvisionedResource> {
    const attributes = this.attributes(scope, d);
    const owner = { service: scope.service, stage: scope.stage };
    const created = await this.#meta.createBucket({
      name: attributes.physicalId,
      region: scope.region,
      createdAt: this.#clock.now(),
      owner,
    });
    // Never take over a bucket this stage did not create: `nimbus remove` would delete it.
    if (!created && previous?.physicalId !== attributes.physicalId) {
      throw new Error(
        `bucket ${attributes.physicalId} already exists (it was not created by this stage; use another BucketName, or \`existing: true\` on the s3 event)`,
      );
    }
    // A bucket this stage created before buckets had owners becomes its own.
    if (!created) await this.#meta.claimBucket(attributes.physicalId, owner);
    // Rules set through the API are left alone unless serverless.yml says (or said) otherwise.
    const cors = corsConfiguration(d);
    if (cors !== undefined || previous?.properties.CorsConfiguration !== undefined) {
      await this.#meta.setBucketCors(attributes.physicalId, cors);
    }
    const notification = notificationConfiguration(d);
    if (
      notification !== undefined ||
      previous?.properties.NotificationConfiguration !== undefined
    ) {
      await this.#checkDestinations(d, notification);
      await this.#meta.setBucketNotification(attributes.physicalId, notification);
    }
    return { logicalId: d.logicalId, type: this.type, properties: d.properties, ...attributes };
  }

  /**
   * Queues and topics are resources of the deploy, made before the bucket that names them;
   * functions are checked when a change is sent (a stage's functions may not be live yet).
   */
  async #checkDestinations(d: ResourceDeclaration, config: BucketNotification | undefined) {
    const destinations = this.#destinations;
    if (!destinations) return;
    const missing = await missingDestination(
      config,
      (kind, arn) => destinations.exists(kind, arn),
      ['function'],
    );
    if (missing) {
      throw new ResourcePropertyError(
        d.logicalId,
        'Properties.NotificationConfiguration',
        `the ${missing.kind} ${missing.arn} does not exist`,
      );
    }
  }

  async remove(
    _scope: ResourceScope,
    resource: ProvisionedResource,
  ): Promise<{ removed: true } | { removed: false; reason: string }> {
    const { outcome, blobIds } = await this.#meta.deleteBucket(resource.physicalId);
    if (outcome === 'not-empty') {
      return {
        removed: false,
        reason: 'the bucket is not empty (delete its objects, then remove again)',
      };
    }
    await Promise.all(blobIds.map((id) => this.#files.remove(id)));
    return { removed: true };
  }
}

/** `CorsConfiguration.CorsRules` in CloudFormation's names, checked as PutBucketCors checks. */
function corsConfiguration(d: ResourceDeclaration): CorsRule[] | undefined {
  const config = d.properties.CorsConfiguration;
  if (config === undefined) return undefined;
  const fail = (path: string, message: string) =>
    new ResourcePropertyError(d.logicalId, `Properties.CorsConfiguration${path}`, message);
  if (!isRecord(config) || !Array.isArray(config.CorsRules)) {
    throw fail('', 'must be an object with a CorsRules list');
  }
  const rules = config.CorsRules.map((raw, i): CorsRule => {
    const at = `.CorsRules[${i}]`;
    if (!isRecord(raw)) throw fail(at, 'must be an object');
    for (const name of Object.keys(raw)) {
      if (!ruleKeys.includes(name)) {
        throw fail(`${at}.${name}`, `is not a CORS rule property (${ruleKeys.join(', ')})`);
      }
    }
    const list = (name: string): string[] => {
      const value = raw[name];
      if (value === undefined) return [];
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
        throw fail(`${at}.${name}`, 'must be a list of strings');
      }
      return value;
    };
    const maxAge = raw.MaxAge;
    const maxAgeSeconds =
      typeof maxAge === 'string' && maxAge.trim() !== '' ? Number(maxAge) : maxAge;
    if (maxAgeSeconds !== undefined && typeof maxAgeSeconds !== 'number') {
      throw fail(`${at}.MaxAge`, 'must be a number of seconds');
    }
    if (raw.Id !== undefined && typeof raw.Id !== 'string')
      throw fail(`${at}.Id`, 'must be a string');
    return {
      ...(raw.Id === undefined ? {} : { id: raw.Id }),
      allowedMethods: list('AllowedMethods'),
      allowedOrigins: list('AllowedOrigins'),
      allowedHeaders: list('AllowedHeaders'),
      exposeHeaders: list('ExposedHeaders'),
      ...(maxAgeSeconds === undefined ? {} : { maxAgeSeconds }),
    };
  });
  try {
    return validateCorsRules(rules);
  } catch (error) {
    if (!(error instanceof CorsConfigError)) throw error;
    const message =
      error.awsCode === 'MalformedXML'
        ? `must have 1 to 100 rules, each with AllowedMethods and AllowedOrigins (Id up to 255 characters, MaxAge a whole number of seconds)`
        : error.message;
    throw fail('.CorsRules', message);
  }
}

const notificationLists: Record<string, { kind: DestinationKind; arn: string }> = {
  QueueConfigurations: { kind: 'queue', arn: 'Queue' },
  TopicConfigurations: { kind: 'topic', arn: 'Topic' },
  LambdaConfigurations: { kind: 'function', arn: 'Function' },
};

/** `NotificationConfiguration` in CloudFormation's names, checked as the S3 API checks it. */
function notificationConfiguration(d: ResourceDeclaration): BucketNotification | undefined {
  const config = d.properties.NotificationConfiguration;
  if (config === undefined) return undefined;
  const fail = (path: string, message: string) =>
    new ResourcePropertyError(d.logicalId, `Properties.NotificationConfiguration${path}`, message);
  if (!isRecord(config)) throw fail('', 'must be an object');
  const drafts: DraftTarget[] = [];
  for (const name of Object.keys(config)) {
    if (name === 'EventBridgeConfiguration') continue;
    const list = notificationLists[name];
    if (!list) {
      throw fail(
        `.${name}`,
        `is not a notification property (${[...Object.keys(notificationLists), 'EventBridgeConfiguration'].join(', ')})`,
      );
    }
    const entries = config[name];
    if (!Array.isArray(entries)) throw fail(`.${name}`, 'must be a list');
    entries.forEach((raw, i) => {
      const at = `.${name}[${i}]`;
      if (!isRecord(raw)) throw fail(at, 'must be an object');
      for (const key of Object.keys(raw)) {
        if (!['Event', list.arn, 'Filter'].includes(key)) {
          throw fail(`${at}.${key}`, `is not a property here (Event, ${list.arn}, Filter)`);
        }
      }
      if (typeof raw.Event !== 'string') throw fail(`${at}.Event`, 'must be an event type');
      const arn = raw[list.arn];
      if (typeof arn !== 'string') throw fail(`${at}.${list.arn}`, 'must be an ARN');
      drafts.push({
        // Stable across deploys, so records name the same configuration every time.
        id: `${d.logicalId}-${list.arn}-${i + 1}`,
        kind: list.kind,
        arn,
        events: [raw.Event],
        rules: filterRules(raw.Filter, (path, message) => fail(`${at}.Filter${path}`, message)),
      });
    });
  }
  const eventBridge = config.EventBridgeConfiguration;
  let enabled = false;
  if (eventBridge !== undefined) {
    const flag = isRecord(eventBridge) ? eventBridge.EventBridgeEnabled : undefined;
    if (flag !== undefined && typeof flag !== 'boolean' && flag !== 'true' && flag !== 'false') {
      throw fail('.EventBridgeConfiguration.EventBridgeEnabled', 'must be true or false');
    }
    if (!isRecord(eventBridge)) throw fail('.EventBridgeConfiguration', 'must be an object');
    // CloudFormation's default is true: the configuration's presence turns it on.
    enabled = flag === undefined || flag === true || flag === 'true';
  }
  try {
    return validateNotification(drafts, enabled);
  } catch (error) {
    if (!(error instanceof NotificationConfigError)) throw error;
    const what = error.argument ? ` (${error.argument.name}: ${error.argument.value})` : '';
    throw fail('', `${error.message}${what}`);
  }
}

function filterRules(
  filter: unknown,
  fail: (path: string, message: string) => Error,
): { name: string; value: string }[] {
  if (filter === undefined) return [];
  const rules = isRecord(filter) && isRecord(filter.S3Key) ? filter.S3Key.Rules : undefined;
  if (!Array.isArray(rules)) throw fail('', 'must be {S3Key: {Rules: [{Name, Value}]}}');
  return rules.map((rule, i) => {
    if (!isRecord(rule) || typeof rule.Name !== 'string' || typeof rule.Value !== 'string') {
      throw fail(`.S3Key.Rules[${i}]`, 'must be {Name: prefix or suffix, Value}');
    }
    return { name: rule.Name, value: rule.Value };
  });
}

const ruleKeys = [
  'AllowedHeaders',
  'AllowedMethods',
  'AllowedOrigins',
  'ExposedHeaders',
  'Id',
  'MaxAge',
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
