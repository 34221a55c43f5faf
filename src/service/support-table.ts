import { isPlainObject } from './property-path.js';
import { PROVISIONED_RESOURCE_TYPES } from './resource-types.js';

/**
 * How Nimbus treats a serverless.yml key it knows:
 * - `supported`: implemented;
 * - `accepted`: nothing to implement, because the key has no effect on how the service runs on
 *   Nimbus (names, documentation, AWS deployment plumbing with no counterpart);
 * - `warned`: changes behaviour on AWS, not implemented yet, and ignoring it is harmless;
 * - `refused`: not implemented yet, and ignoring it would be unsafe (a route more public than
 *   written) or would break the function, so the load fails.
 */
export type SupportStatus = 'supported' | 'accepted' | 'warned' | 'refused';

export interface SupportRule {
  /**
   * Where the key lives: dotted keys, `*` for any map key (a function's key) and `[]` for any
   * list item. An event is `functions.*.events[].<type>`.
   */
  path: string;
  status: SupportStatus;
  /** For warned and refused keys: the message after the path. `{fn}` is the function's key. */
  reason?: string;
  /** When set, only values it accepts are warned or refused (e.g. `private: true`). */
  when?: (value: unknown) => boolean;
}

/** `lambda-proxy` is what the gateway does; any other integration would reach the handler wrong. */
const notProxyIntegration = (value: unknown) =>
  !['lambda-proxy', 'aws-proxy', 'aws_proxy'].includes(String(value).toLowerCase());

/**
 * A destination Nimbus can deliver to: a URL, a function key or name, a Lambda ARN, an SQS
 * queue, SNS topic or EventBridge bus ARN, or `{type: function|sqs|sns|eventBus, arn}`.
 */
export function isDeliverableDestination(value: unknown): boolean {
  if (isPlainObject(value)) {
    if (
      value.type !== undefined &&
      !['function', 'sqs', 'sns', 'eventBus'].includes(String(value.type))
    ) {
      return false;
    }
    return isDeliverableDestination(value.arn);
  }
  if (typeof value !== 'string') return true;
  if (!value.startsWith('arn:')) return true;
  return /^arn:aws[a-zA-Z-]*:(lambda|sqs|sns):|^arn:aws[a-zA-Z-]*:events:[^:]*:[^:]*:event-bus\//.test(
    value,
  );
}

const ROUTE_PUBLIC = 'the route would be public';
const IAM = 'IAM is not enforced by Nimbus yet; the statements are ignored';
const TAGS = 'tags are not applied by Nimbus yet (ignored)';
const WEBSOCKET =
  'Nimbus serves one WebSocket API per service stage from its websocket events (ignored)';
const REST_API = 'is not supported by the Nimbus gateway yet (ignored)';

function eventWarning(type: string): SupportRule {
  return {
    path: `functions.*.events[].${type}`,
    status: 'warned',
    reason: `${type} events are not supported yet; this event will not fire for function "{fn}"`,
  };
}

function packageRules(base: string): SupportRule[] {
  return [
    { path: `${base}.patterns`, status: 'supported' },
    { path: `${base}.individually`, status: 'supported' },
    { path: `${base}.artifact`, status: 'supported' },
    { path: `${base}.excludeDevDependencies`, status: 'supported' },
    { path: `${base}.exclude`, status: 'supported' },
    { path: `${base}.include`, status: 'supported' },
  ];
}

/**
 * Every serverless.yml key Nimbus knows, and what it does with it. Keys under a listed map that
 * are not listed here are unknown (a warning, or an error with `configValidationMode: error`).
 * When a feature lands, flip its rows to `supported`; docs/serverless-yml.md lists the same rows
 * and a test keeps the two in step.
 */
export const SUPPORT_TABLE: readonly SupportRule[] = [
  { path: 'service', status: 'supported' },
  { path: 'frameworkVersion', status: 'accepted' },
  { path: 'configValidationMode', status: 'supported' },
  { path: 'useDotenv', status: 'supported' },
  { path: 'params', status: 'supported' },
  { path: 'custom', status: 'supported' },
  { path: 'plugins', status: 'supported' },
  { path: 'package', status: 'supported' },
  ...packageRules('package'),
  { path: 'functions', status: 'supported' },
  { path: 'provider', status: 'supported' },
  { path: 'resources', status: 'supported' },
  { path: 'resources.Resources', status: 'supported' },
  { path: 'resources.Resources.*', status: 'supported' },
  {
    path: 'resources.Resources.*.Type',
    status: 'warned',
    reason:
      'this resource type is not provisioned by Nimbus (left alone; Ref or Fn::GetAtt of it fails the deploy)',
    when: (value) => typeof value === 'string' && !PROVISIONED_RESOURCE_TYPES.includes(value),
  },
  { path: 'resources.Resources.*.Properties', status: 'supported' },
  { path: 'resources.Resources.*.DependsOn', status: 'supported' },
  { path: 'resources.Resources.*.DeletionPolicy', status: 'supported' },
  { path: 'resources.Resources.*.UpdateReplacePolicy', status: 'accepted' },
  { path: 'resources.Resources.*.Metadata', status: 'accepted' },
  {
    path: 'resources.Resources.*.Condition',
    status: 'warned',
    reason: 'conditions are not evaluated by Nimbus; the resource is created unconditionally',
  },
  {
    path: 'resources.Resources.*.UpdatePolicy',
    status: 'warned',
    reason: 'update policies do not apply on Nimbus (ignored)',
  },
  {
    path: 'resources.Resources.*.CreationPolicy',
    status: 'warned',
    reason: 'creation policies do not apply on Nimbus (ignored)',
  },
  { path: 'resources.Outputs', status: 'supported' },
  { path: 'resources.Outputs.*', status: 'supported' },
  { path: 'resources.Outputs.*.Value', status: 'supported' },
  { path: 'resources.Outputs.*.Description', status: 'accepted' },
  {
    path: 'resources.Outputs.*.Export',
    status: 'warned',
    reason: 'exports are not shared between stages on Nimbus (ignored)',
  },
  {
    path: 'resources.Outputs.*.Condition',
    status: 'warned',
    reason: 'conditions are not evaluated by Nimbus; the output is always shown',
  },
  { path: 'resources.Description', status: 'accepted' },
  { path: 'resources.AWSTemplateFormatVersion', status: 'accepted' },
  {
    path: 'resources.Conditions',
    status: 'warned',
    reason: 'conditions are not evaluated by Nimbus (ignored)',
  },
  {
    path: 'resources.Parameters',
    status: 'warned',
    reason: 'template parameters are not supported by Nimbus (ignored)',
  },
  {
    path: 'resources.Mappings',
    status: 'warned',
    reason: 'mappings are not supported by Nimbus (Fn::FindInMap fails the deploy)',
  },
  {
    path: 'resources.Transform',
    status: 'warned',
    reason: 'template transforms are not supported by Nimbus (ignored)',
  },
  {
    path: 'resources.extensions',
    status: 'warned',
    reason: 'extensions of generated resources are not supported by Nimbus (ignored)',
  },
  { path: 'layers', status: 'supported' },
  { path: 'layers.*', status: 'supported' },
  { path: 'layers.*.path', status: 'supported' },
  { path: 'layers.*.name', status: 'supported' },
  { path: 'layers.*.description', status: 'supported' },
  { path: 'layers.*.compatibleRuntimes', status: 'supported' },
  { path: 'layers.*.compatibleArchitectures', status: 'supported' },
  { path: 'layers.*.licenseInfo', status: 'supported' },
  { path: 'layers.*.retain', status: 'supported' },
  // One account: every caller of the platform may use its layers already.
  { path: 'layers.*.allowedAccounts', status: 'accepted' },
  { path: 'layers.*.package', status: 'supported' },
  { path: 'layers.*.package.patterns', status: 'supported' },
  { path: 'layers.*.package.artifact', status: 'supported' },
  { path: 'layers.*.package.exclude', status: 'supported' },
  { path: 'layers.*.package.include', status: 'supported' },
  { path: 'app', status: 'accepted' },
  { path: 'org', status: 'accepted' },
  {
    path: 'console',
    status: 'warned',
    reason: 'Serverless Console integration is not available (ignored)',
  },
  {
    path: 'dashboard',
    status: 'warned',
    reason: 'Serverless Dashboard integration is not available (ignored)',
  },
  {
    path: 'outputs',
    status: 'warned',
    reason: 'Serverless Dashboard outputs are not available (ignored)',
  },
  { path: 'stages', status: 'warned', reason: 'stage-scoped settings are not supported (ignored)' },
  { path: 'variablesResolutionMode', status: 'accepted' },
  { path: 'deprecationNotificationMode', status: 'accepted' },
  { path: 'disabledDeprecations', status: 'accepted' },
  { path: 'unresolvedVariablesNotificationMode', status: 'accepted' },

  { path: 'provider.name', status: 'supported' },
  { path: 'provider.runtime', status: 'supported' },
  { path: 'provider.stage', status: 'supported' },
  { path: 'provider.region', status: 'supported' },
  { path: 'provider.memorySize', status: 'supported' },
  { path: 'provider.timeout', status: 'supported' },
  { path: 'provider.environment', status: 'supported' },
  { path: 'provider.httpApi', status: 'supported' },
  { path: 'provider.httpApi.cors', status: 'supported' },
  {
    path: 'provider.httpApi.payload',
    status: 'refused',
    reason: 'only payload "2.0" is supported yet; the handlers would receive 2.0 events',
    // YAML reads an unquoted 2.0 as the number 2.
    when: (value) => !['2.0', '2'].includes(String(value)),
  },
  { path: 'provider.httpApi.authorizers', status: 'supported' },
  { path: 'provider.httpApi.id', status: 'warned', reason: `an existing HTTP API ${REST_API}` },
  { path: 'provider.httpApi.name', status: 'accepted' },
  { path: 'provider.httpApi.shouldStartNameWithService', status: 'accepted' },
  { path: 'provider.httpApi.useProviderTags', status: 'accepted' },
  { path: 'provider.httpApi.metrics', status: 'warned', reason: `detailed metrics ${REST_API}` },
  {
    path: 'provider.httpApi.disableDefaultEndpoint',
    status: 'warned',
    reason: 'the default endpoint cannot be disabled yet; the routes stay reachable on it',
  },
  { path: 'provider.apiGateway', status: 'supported' },
  { path: 'provider.apiGateway.apiKeys', status: 'supported' },
  { path: 'provider.apiGateway.usagePlan', status: 'supported' },
  {
    path: 'provider.apiGateway.resourcePolicy',
    status: 'refused',
    reason: `resource policies are not supported yet; ${ROUTE_PUBLIC}`,
  },
  { path: 'provider.apiGateway.apiKeySourceType', status: 'supported' },
  {
    path: 'provider.apiGateway.binaryMediaTypes',
    status: 'warned',
    reason: `binary media types ${REST_API}`,
  },
  { path: 'provider.apiGateway.description', status: 'accepted' },
  {
    path: 'provider.apiGateway.disableDefaultEndpoint',
    status: 'warned',
    reason: 'the default endpoint cannot be disabled yet; the routes stay reachable on it',
  },
  { path: 'provider.apiGateway.metrics', status: 'warned', reason: `detailed metrics ${REST_API}` },
  {
    path: 'provider.apiGateway.minimumCompressionSize',
    status: 'warned',
    reason: `response compression ${REST_API}`,
  },
  {
    path: 'provider.apiGateway.request',
    status: 'warned',
    reason: `request validation ${REST_API}`,
  },
  {
    path: 'provider.apiGateway.restApiId',
    status: 'warned',
    reason: `an existing REST API ${REST_API}`,
  },
  {
    path: 'provider.apiGateway.restApiRootResourceId',
    status: 'warned',
    reason: `an existing REST API ${REST_API}`,
  },
  {
    path: 'provider.apiGateway.restApiResources',
    status: 'warned',
    reason: `an existing REST API ${REST_API}`,
  },
  { path: 'provider.apiGateway.shouldStartNameWithService', status: 'accepted' },
  { path: 'provider.apiGateway.websocketApiId', status: 'warned', reason: WEBSOCKET },
  { path: 'provider.apiKeys', status: 'supported' },
  { path: 'provider.usagePlan', status: 'supported' },
  {
    path: 'provider.resourcePolicy',
    status: 'refused',
    reason: `resource policies are not supported yet; ${ROUTE_PUBLIC}`,
  },
  {
    path: 'provider.endpointType',
    status: 'refused',
    reason: `private APIs are not supported yet; ${ROUTE_PUBLIC}`,
    when: (value) => String(value).toUpperCase() === 'PRIVATE',
  },
  {
    path: 'provider.vpcEndpointIds',
    status: 'warned',
    reason: 'private APIs are not supported yet (ignored)',
  },
  { path: 'provider.apiName', status: 'accepted' },
  { path: 'provider.layers', status: 'supported' },
  {
    path: 'provider.ecr',
    status: 'refused',
    reason: 'container images are not supported yet; use `handler` functions',
  },
  { path: 'provider.logRetentionInDays', status: 'supported' },
  { path: 'provider.tags', status: 'warned', reason: TAGS },
  { path: 'provider.nimbus', status: 'supported' },
  { path: 'provider.nimbus.concurrency', status: 'supported' },
  { path: 'provider.stackTags', status: 'warned', reason: TAGS },
  {
    path: 'provider.tracing',
    status: 'warned',
    reason: 'X-Ray tracing is not supported yet (ignored)',
  },
  {
    path: 'provider.vpc',
    status: 'warned',
    reason: 'VPC settings are not applied; functions use the network of the Nimbus host',
  },
  {
    path: 'provider.logs',
    status: 'warned',
    reason: 'API access logs and log settings are not supported yet (ignored)',
  },
  {
    path: 'provider.logDataProtectionPolicy',
    status: 'warned',
    reason: 'log data protection is not supported yet (ignored)',
  },
  { path: 'provider.iam', status: 'warned', reason: IAM },
  { path: 'provider.iamRoleStatements', status: 'warned', reason: IAM },
  { path: 'provider.iamManagedPolicies', status: 'warned', reason: IAM },
  { path: 'provider.role', status: 'warned', reason: IAM },
  { path: 'provider.rolePermissionsBoundary', status: 'warned', reason: IAM },
  { path: 'provider.cfnRole', status: 'accepted' },
  {
    path: 'provider.kmsKeyArn',
    status: 'warned',
    reason: 'KMS encryption of environment variables is not supported yet (ignored)',
  },
  {
    path: 'provider.deploymentBucket',
    status: 'warned',
    reason: 'artifacts are stored by the Nimbus platform; deployment bucket settings are ignored',
  },
  { path: 'provider.deploymentPrefix', status: 'accepted' },
  { path: 'provider.deploymentMethod', status: 'accepted' },
  { path: 'provider.stackName', status: 'accepted' },
  { path: 'provider.stackParameters', status: 'accepted' },
  { path: 'provider.stackPolicy', status: 'accepted' },
  { path: 'provider.disableRollback', status: 'accepted' },
  { path: 'provider.rollbackConfiguration', status: 'accepted' },
  {
    path: 'provider.notificationArns',
    status: 'warned',
    reason: 'deployment notifications are not sent by Nimbus (ignored)',
  },
  { path: 'provider.versionFunctions', status: 'accepted' },
  { path: 'provider.lambdaHashingVersion', status: 'accepted' },
  { path: 'provider.runtimeManagement', status: 'accepted' },
  { path: 'provider.profile', status: 'accepted' },
  { path: 'provider.credentials', status: 'accepted' },
  {
    path: 'provider.architecture',
    status: 'warned',
    reason: "functions run on the Nimbus host's architecture (ignored)",
  },
  { path: 'provider.eventBridge', status: 'accepted' },
  { path: 'provider.s3', status: 'supported' },
  {
    path: 'provider.alb',
    status: 'warned',
    reason: 'ALB settings (target group prefix, authorizers) are not applied (ignored)',
  },
  {
    path: 'provider.cloudFront',
    status: 'warned',
    reason: 'cloudFront events are not supported yet (ignored)',
  },
  { path: 'provider.websocket', status: 'warned', reason: WEBSOCKET },
  { path: 'provider.websocketsApiName', status: 'accepted' },
  { path: 'provider.websocketsApiRouteSelectionExpression', status: 'supported' },
  { path: 'provider.websocketsDescription', status: 'accepted' },

  { path: 'functions.*', status: 'supported' },
  { path: 'functions.*.handler', status: 'supported' },
  { path: 'functions.*.name', status: 'supported' },
  { path: 'functions.*.description', status: 'supported' },
  { path: 'functions.*.runtime', status: 'supported' },
  { path: 'functions.*.memorySize', status: 'supported' },
  { path: 'functions.*.timeout', status: 'supported' },
  { path: 'functions.*.environment', status: 'supported' },
  { path: 'functions.*.events', status: 'supported' },
  { path: 'functions.*.destinations', status: 'supported' },
  {
    path: 'functions.*.destinations.onSuccess',
    status: 'warned',
    reason:
      'only function, URL, SQS queue, SNS topic and EventBridge bus destinations are supported; this one is ignored',
    when: (value) => !isDeliverableDestination(value),
  },
  {
    path: 'functions.*.destinations.onFailure',
    status: 'warned',
    reason:
      'only function, URL, SQS queue, SNS topic and EventBridge bus destinations are supported; this one is ignored and failed events go to the dead letters',
    when: (value) => !isDeliverableDestination(value),
  },
  { path: 'functions.*.maximumRetryAttempts', status: 'supported' },
  { path: 'functions.*.maximumEventAge', status: 'supported' },
  { path: 'functions.*.reservedConcurrency', status: 'supported' },
  { path: 'functions.*.provisionedConcurrency', status: 'supported' },
  { path: 'functions.*.concurrency', status: 'supported' },
  { path: 'functions.*.package', status: 'supported' },
  ...packageRules('functions.*.package'),
  {
    path: 'functions.*.image',
    status: 'refused',
    reason: 'container images are not supported yet; use `handler` instead',
  },
  { path: 'functions.*.layers', status: 'supported' },
  { path: 'functions.*.url', status: 'supported' },
  { path: 'functions.*.url.authorizer', status: 'supported' },
  { path: 'functions.*.url.cors', status: 'supported' },
  { path: 'functions.*.url.invokeMode', status: 'supported' },
  {
    path: 'functions.*.fileSystemConfig',
    status: 'refused',
    reason: 'EFS mounts are not supported yet; the function would not find its files',
  },
  {
    path: 'functions.*.vpc',
    status: 'warned',
    reason: 'VPC settings are not applied; the function uses the network of the Nimbus host',
  },
  { path: 'functions.*.tags', status: 'warned', reason: TAGS },
  {
    path: 'functions.*.tracing',
    status: 'warned',
    reason: 'X-Ray tracing is not supported yet (ignored)',
  },
  { path: 'functions.*.onError', status: 'supported' },
  {
    path: 'functions.*.kmsKeyArn',
    status: 'warned',
    reason: 'KMS encryption of environment variables is not supported yet (ignored)',
  },
  { path: 'functions.*.role', status: 'warned', reason: IAM },
  { path: 'functions.*.iam', status: 'warned', reason: IAM },
  { path: 'functions.*.iamRoleStatements', status: 'warned', reason: IAM },
  { path: 'functions.*.logRetentionInDays', status: 'supported' },
  {
    path: 'functions.*.logs',
    status: 'warned',
    reason: 'log settings are not supported yet (ignored)',
  },
  {
    path: 'functions.*.disableLogs',
    status: 'warned',
    reason: 'logs cannot be disabled yet; they are still collected',
  },
  {
    path: 'functions.*.architecture',
    status: 'warned',
    reason: "functions run on the Nimbus host's architecture (ignored)",
  },
  {
    path: 'functions.*.ephemeralStorage',
    status: 'warned',
    reason: 'the size of /tmp is not limited yet (ignored)',
  },
  {
    path: 'functions.*.snapStart',
    status: 'warned',
    reason: 'SnapStart is not supported yet (ignored)',
  },
  {
    path: 'functions.*.condition',
    status: 'warned',
    reason: 'CloudFormation conditions are not evaluated; the function is always deployed',
  },
  { path: 'functions.*.dependsOn', status: 'accepted' },
  { path: 'functions.*.versionFunction', status: 'accepted' },
  { path: 'functions.*.runtimeManagement', status: 'accepted' },

  { path: 'functions.*.events[].http', status: 'supported' },
  { path: 'functions.*.events[].http.path', status: 'supported' },
  { path: 'functions.*.events[].http.method', status: 'supported' },
  { path: 'functions.*.events[].http.cors', status: 'supported' },
  { path: 'functions.*.events[].http.async', status: 'supported' },
  { path: 'functions.*.events[].http.private', status: 'supported' },
  {
    path: 'functions.*.events[].http.authorizer',
    status: 'supported',
    reason:
      'Lambda TOKEN/REQUEST, aws_iam and cognito_user_pools (a Nimbus user pool ARN) authorizers are enforced (docs/authorizers.md)',
  },
  {
    path: 'functions.*.events[].http.integration',
    status: 'refused',
    reason: 'only the lambda-proxy integration is supported yet',
    when: notProxyIntegration,
  },
  {
    path: 'functions.*.events[].http.request',
    status: 'warned',
    reason: 'request parameters, schemas and templates are not applied yet (ignored)',
  },
  {
    path: 'functions.*.events[].http.response',
    status: 'warned',
    reason: 'response templates are not applied yet (ignored)',
  },
  {
    path: 'functions.*.events[].http.caching',
    status: 'warned',
    reason: 'API Gateway caching is not supported yet (ignored)',
  },
  {
    path: 'functions.*.events[].http.connectionType',
    status: 'warned',
    reason: 'VPC links are not supported yet (ignored)',
  },
  {
    path: 'functions.*.events[].http.connectionId',
    status: 'warned',
    reason: 'VPC links are not supported yet (ignored)',
  },
  { path: 'functions.*.events[].http.operationId', status: 'accepted' },
  { path: 'functions.*.events[].http.summary', status: 'accepted' },
  { path: 'functions.*.events[].http.description', status: 'accepted' },
  { path: 'functions.*.events[].httpApi', status: 'supported' },
  { path: 'functions.*.events[].httpApi.method', status: 'supported' },
  { path: 'functions.*.events[].httpApi.path', status: 'supported' },
  { path: 'functions.*.events[].httpApi.authorizer', status: 'supported' },
  { path: 'functions.*.events[].schedule', status: 'supported' },
  { path: 'functions.*.events[].schedule.rate', status: 'supported' },
  { path: 'functions.*.events[].schedule.enabled', status: 'supported' },
  { path: 'functions.*.events[].schedule.name', status: 'supported' },
  { path: 'functions.*.events[].schedule.description', status: 'supported' },
  { path: 'functions.*.events[].schedule.input', status: 'supported' },
  { path: 'functions.*.events[].schedule.timezone', status: 'supported' },
  { path: 'functions.*.events[].schedule.method', status: 'accepted' },
  {
    path: 'functions.*.events[].schedule.inputPath',
    status: 'warned',
    reason: 'inputPath is not supported yet; the event is sent as is',
  },
  {
    path: 'functions.*.events[].schedule.inputTransformer',
    status: 'warned',
    reason: 'inputTransformer is not supported yet; the event is sent as is',
  },
  { path: 'functions.*.events[].schedule.roleArn', status: 'warned', reason: IAM },
  { path: 'functions.*.events[].s3', status: 'supported' },
  { path: 'functions.*.events[].s3.bucket', status: 'supported' },
  { path: 'functions.*.events[].s3.event', status: 'supported' },
  { path: 'functions.*.events[].s3.rules', status: 'supported' },
  { path: 'functions.*.events[].s3.existing', status: 'supported' },
  { path: 'functions.*.events[].s3.forceDeploy', status: 'accepted' },
  { path: 'functions.*.events[].sqs', status: 'supported' },
  ...[
    'arn',
    'batchSize',
    'maximumBatchingWindow',
    'functionResponseType',
    'maximumConcurrency',
    'filterPatterns',
    'enabled',
  ].map((key): SupportRule => ({ path: `functions.*.events[].sqs.${key}`, status: 'supported' })),
  { path: 'functions.*.events[].sns', status: 'supported' },
  { path: 'functions.*.events[].sns.arn', status: 'supported' },
  { path: 'functions.*.events[].sns.topicName', status: 'supported' },
  { path: 'functions.*.events[].sns.displayName', status: 'supported' },
  { path: 'functions.*.events[].sns.filterPolicy', status: 'supported' },
  { path: 'functions.*.events[].sns.filterPolicyScope', status: 'supported' },
  { path: 'functions.*.events[].sns.redrivePolicy', status: 'supported' },
  { path: 'functions.*.events[].sns.kmsMasterKeyId', status: 'accepted' },
  ...['', '.route', '.routeResponseSelectionExpression', '.authorizer'].map(
    (key): SupportRule => ({ path: `functions.*.events[].websocket${key}`, status: 'supported' }),
  ),
  ...['', '.listenerArn', '.priority', '.conditions', '.multiValueHeaders', '.targetGroupName'].map(
    (key): SupportRule => ({ path: `functions.*.events[].alb${key}`, status: 'supported' }),
  ),
  // Nimbus runs no health checks: a function target is healthy whenever it can be invoked.
  { path: 'functions.*.events[].alb.healthCheck', status: 'accepted' },
  {
    path: 'functions.*.events[].alb.authorizer',
    status: 'refused',
    reason:
      'ALB authenticate actions (cognito, oidc) are not supported yet; the rule would be served without sign-in',
  },
  { path: 'functions.*.events[].cloudwatchLog', status: 'supported' },
  { path: 'functions.*.events[].cloudwatchLog.logGroup', status: 'supported' },
  { path: 'functions.*.events[].cloudwatchLog.filter', status: 'supported' },
  { path: 'functions.*.events[].iot', status: 'supported' },
  ...['sql', 'sqlVersion', 'enabled', 'name', 'description'].map(
    (key): SupportRule => ({ path: `functions.*.events[].iot.${key}`, status: 'supported' }),
  ),
  ...[
    'eventBus',
    'pattern',
    'schedule',
    'input',
    'inputPath',
    'inputTransformer',
    'retryPolicy',
    'deadLetterQueueArn',
    'name',
    'description',
    'enabled',
  ].map(
    (key): SupportRule => ({
      path: `functions.*.events[].eventBridge.${key}`,
      status: 'supported',
    }),
  ),
  { path: 'functions.*.events[].eventBridge', status: 'supported' },
  { path: 'functions.*.events[].cloudwatchEvent', status: 'supported' },
  ...['event', 'input', 'inputPath', 'name', 'description', 'enabled'].map(
    (key): SupportRule => ({
      path: `functions.*.events[].cloudwatchEvent.${key}`,
      status: 'supported',
    }),
  ),
  { path: 'functions.*.events[].stream', status: 'supported' },
  ...[
    'arn',
    'type',
    'batchSize',
    'batchWindow',
    'maximumBatchingWindow',
    'startingPosition',
    'startingPositionTimestamp',
    'parallelizationFactor',
    'maximumRetryAttempts',
    'maximumRecordAgeInSeconds',
    'bisectBatchOnFunctionError',
    'functionResponseType',
    'filterPatterns',
    'destinations',
    'enabled',
  ].map(
    (key): SupportRule => ({ path: `functions.*.events[].stream.${key}`, status: 'supported' }),
  ),
  { path: 'functions.*.events[].cognitoUserPool', status: 'supported' },
  ...['pool', 'trigger', 'existing'].map(
    (key): SupportRule => ({
      path: `functions.*.events[].cognitoUserPool.${key}`,
      status: 'supported',
    }),
  ),
  { path: 'functions.*.events[].cognitoUserPool.forceDeploy', status: 'accepted' },
  ...['consumer', 'tumblingWindowInSeconds'].map(
    (key): SupportRule => ({
      path: `functions.*.events[].stream.${key}`,
      status: 'warned',
      reason: `${key} is not supported yet; it is ignored`,
    }),
  ),
  ...[
    'iotFleetProvisioning',
    'kafka',
    'msk',
    'activemq',
    'rabbitmq',
    'alexaSkill',
    'alexaSmartHome',
    'cloudFront',
  ].map(eventWarning),
];
