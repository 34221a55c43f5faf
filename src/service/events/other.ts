import type { EventDefinition, EventKind } from '../../model/service-definition.js';
import type { NormalizeContext } from '../context.js';
import { isPlainObject, type PropertyPath } from '../property-path.js';

type OtherKind = Exclude<EventKind, 'http' | 'httpApi' | 'schedule'>;

interface KindSpec {
  /** Wraps the string shorthand into the object form. */
  shorthand?: (value: string) => Record<string, unknown>;
  /** At least one of these keys must be present. */
  required: string[];
  known: string[];
}

/** Event kinds Nimbus stores as `{kind, config}` for later; shapes from Serverless v3. */
export const OTHER_KINDS: Record<OtherKind, KindSpec> = {
  s3: {
    shorthand: (bucket) => ({ bucket }),
    required: ['bucket'],
    known: ['bucket', 'event', 'rules', 'existing', 'forceDeploy'],
  },
  sqs: {
    shorthand: (arn) => ({ arn }),
    required: ['arn'],
    known: [
      'arn',
      'batchSize',
      'maximumBatchingWindow',
      'functionResponseType',
      'enabled',
      'filterPatterns',
      'maximumConcurrency',
    ],
  },
  stream: {
    shorthand: (arn) => ({ arn }),
    required: ['arn'],
    known: [
      'arn',
      'type',
      'batchSize',
      'startingPosition',
      'startingPositionTimestamp',
      'parallelizationFactor',
      'consumer',
      'maximumRetryAttempts',
      'maximumRecordAgeInSeconds',
      'batchWindow',
      'maximumBatchingWindow',
      'bisectBatchOnFunctionError',
      'destinations',
      'functionResponseType',
      'filterPatterns',
      'tumblingWindowInSeconds',
      'enabled',
    ],
  },
  sns: {
    shorthand: (topic) => (topic.startsWith('arn:') ? { arn: topic } : { topicName: topic }),
    required: ['arn', 'topicName'],
    known: [
      'arn',
      'topicName',
      'displayName',
      'filterPolicy',
      'filterPolicyScope',
      'redrivePolicy',
      'kmsMasterKeyId',
    ],
  },
  eventBridge: {
    required: ['schedule', 'pattern'],
    known: [
      'eventBus',
      'schedule',
      'pattern',
      'input',
      'inputPath',
      'inputTransformer',
      'retryPolicy',
      'deadLetterQueueArn',
      'enabled',
      'name',
      'description',
    ],
  },
  cloudwatchLog: {
    shorthand: (logGroup) => ({ logGroup }),
    required: ['logGroup'],
    known: ['logGroup', 'filter'],
  },
  iot: {
    required: ['sql'],
    known: ['sql', 'sqlVersion', 'name', 'description', 'enabled'],
  },
  cognitoUserPool: {
    required: ['pool'],
    known: ['pool', 'trigger', 'existing', 'forceDeploy'],
  },
  websocket: {
    shorthand: (route) => ({ route }),
    required: ['route'],
    known: ['route', 'routeResponseSelectionExpression', 'authorizer'],
  },
  // Its rules (priority, conditions, CIDRs) are checked by definition-rules.ts (alb-rule-config).
  alb: {
    required: ['listenerArn'],
    known: [
      'listenerArn',
      'priority',
      'conditions',
      'multiValueHeaders',
      'healthCheck',
      'targetGroupName',
      'authorizer',
    ],
  },
};

export function isOtherKind(kind: string): kind is OtherKind {
  return Object.hasOwn(OTHER_KINDS, kind);
}

export function normalizeOther(
  kind: OtherKind,
  value: unknown,
  path: PropertyPath,
  ctx: NormalizeContext,
): EventDefinition {
  const spec = OTHER_KINDS[kind];
  const config = typeof value === 'string' && spec.shorthand ? spec.shorthand(value) : value;
  if (!isPlainObject(config)) {
    const forms = spec.shorthand ? 'a string or a map' : 'a map';
    throw ctx.locator.error('NIMBUS_CONFIG_INVALID', path, `must be ${forms}`);
  }
  if (!spec.required.some((k) => config[k] !== undefined && config[k] !== null)) {
    const names = spec.required.map((k) => `"${k}"`).join(' or ');
    throw ctx.locator.error('NIMBUS_CONFIG_INVALID', path, `${kind} event needs ${names}`);
  }
  return { kind, config };
}
