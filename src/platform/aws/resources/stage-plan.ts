/**
 * Turns a deploy request's definition into a plan: the resources it declares (in
 * `resources.Resources`, `provider.s3` and buckets named by `s3` events) in dependency order
 * with their properties resolved, the values `Ref`/`Fn::GetAtt` give for each, `resources.Outputs`,
 * and the definition with every intrinsic elsewhere (environment values, event fields) replaced
 * by a plain string. Pure: nothing is created, so a bad template refuses the deploy untouched.
 */

import { isDeadLetterArn } from '../../../model/dead-letter-target.js';
import type { FunctionDefinition, ServiceDefinition } from '../../../model/service-definition.js';
import { cognitoUserPoolLogicalId } from '../../../service/events/cognito-user-pool-event.js';
import { validateDestination } from '../../async/destination-record.js';
import { dependencyOrder } from './dependency-order.js';
import {
  type EvaluationContext,
  evaluate,
  evaluateString,
  pseudoParameters,
  referencedIds,
} from './intrinsics.js';
import { bucketLogicalId, functionLogicalId } from './logical-ids.js';
import {
  type ResourceAttributes,
  type ResourceDeclaration,
  ResourcePropertyError,
  type ResourceScope,
} from './provisioner.js';
import type { ProvisionerRegistry } from './provisioner-registry.js';
import { TemplateError } from './template-error.js';

export const BUCKET_TYPE = 'AWS::S3::Bucket';
const USER_POOL_TYPE = 'AWS::Cognito::UserPool';

/** One resource the stage declares and a provisioner owns. */
export interface PlannedResource {
  declaration: ResourceDeclaration;
  attributes: ResourceAttributes;
  /** `DeletionPolicy: Retain`: left in place when dropped or on remove. */
  retain: boolean;
}

export interface ResourcePlan {
  scope: ResourceScope;
  /** In dependency order: create in this order, remove in reverse. */
  resources: PlannedResource[];
  /** Declared resources of types Nimbus does not provision (warned at load, left alone). */
  ignored: { logicalId: string; type: string }[];
  /** `resources.Outputs.<name>.Value`, resolved. */
  outputs: Record<string, string>;
  /** The definition with every intrinsic outside `resources` resolved. */
  definition: ServiceDefinition;
}

interface RawResource {
  logicalId: string;
  path: string;
  type: string;
  properties: Record<string, unknown>;
  dependsOn: string[];
  retain: boolean;
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The scope of a stage deployed to this platform. */
export function stageScope(
  definition: Pick<ServiceDefinition, 'service' | 'stage' | 'region'>,
  platform: { accountId: string; platformUrl: string },
): ResourceScope {
  return {
    service: definition.service,
    stage: definition.stage,
    region: definition.region,
    accountId: platform.accountId,
    platformUrl: platform.platformUrl,
  };
}

export function planResources(
  definition: ServiceDefinition,
  scope: ResourceScope,
  registry: ProvisionerRegistry,
): ResourcePlan {
  const template = isMap(definition.resources) ? definition.resources : {};
  if (definition.resources !== undefined && !isMap(definition.resources)) {
    throw new TemplateError('resources', 'must be a map');
  }
  const raw = withUserPoolTriggers(
    [...declaredResources(template), ...implicitBuckets(definition, template)],
    definition,
    scope,
  );
  const byId = new Map<string, RawResource>();
  for (const r of raw) {
    if (byId.has(r.logicalId))
      throw new TemplateError(r.path, `logical id ${r.logicalId} is declared twice`);
    byId.set(r.logicalId, r);
  }
  const functionIds = new Map<string, FunctionDefinition>(
    Object.values(definition.functions).map((f) => [functionLogicalId(f.key), f]),
  );
  const computed = new Map<string, ResourceAttributes>();
  const resolver = {
    ref: (id: string, path: string) => lookup(id, path).ref,
    getAtt: (id: string, attribute: string, path: string) => {
      const found = lookup(id, path);
      const value = found.attributes[attribute];
      if (value === undefined) {
        const has = Object.keys(found.attributes).join(', ') || 'none';
        throw new TemplateError(path, `${id} has no attribute ${attribute} (it has: ${has})`);
      }
      return value;
    },
  };
  const lookup = (id: string, path: string): ResourceAttributes => {
    const fn = functionIds.get(id);
    if (fn) {
      const arn = `arn:aws:lambda:${scope.region}:${scope.accountId}:function:${fn.name}`;
      return { ref: fn.name, physicalId: fn.name, attributes: { Arn: arn } };
    }
    const found = computed.get(id);
    if (found) return found;
    const declared = byId.get(id);
    if (declared) {
      throw new TemplateError(
        path,
        `${id} is a ${declared.type}, which Nimbus does not provision, so it has no Ref or attribute values`,
      );
    }
    throw new TemplateError(
      path,
      `unknown logical id ${id} (not a resource or function of this service)`,
    );
  };
  const ctx: EvaluationContext = { pseudo: pseudoParameters(scope), resolver };

  const ids = [...byId.keys()];
  const order = dependencyOrder(
    ids,
    (id) => {
      const r = byId.get(id)!;
      for (const dep of r.dependsOn) {
        if (!byId.has(dep))
          throw new TemplateError(`${r.path}.DependsOn`, `unknown logical id ${dep}`);
      }
      const refs = [...referencedIds(r.properties)].filter((x) => byId.has(x));
      return [...new Set([...r.dependsOn, ...refs])];
    },
    (id) => byId.get(id)!.path,
  );

  const resources: PlannedResource[] = [];
  const ignored: ResourcePlan['ignored'] = [];
  for (const id of order) {
    const r = byId.get(id)!;
    const provisioner = registry.get(r.type);
    if (!provisioner) {
      ignored.push({ logicalId: id, type: r.type });
      continue;
    }
    const properties = evaluate(r.properties, `${r.path}.Properties`, ctx) as Record<
      string,
      unknown
    >;
    const declaration: ResourceDeclaration = { logicalId: id, type: r.type, properties };
    let attributes: ResourceAttributes;
    try {
      attributes = provisioner.attributes(scope, declaration);
    } catch (error) {
      if (!(error instanceof ResourcePropertyError)) throw error;
      const at = error.property ? `${r.path}.${error.property}` : r.path;
      throw new TemplateError(at, error.message);
    }
    computed.set(id, attributes);
    resources.push({ declaration, attributes, retain: r.retain });
  }
  checkPhysicalIds(resources, byId);

  return {
    scope,
    resources,
    ignored,
    outputs: resolveOutputs(template, ctx),
    definition: resolveDefinition(definition, ctx, implicitBucketNames(definition)),
  };
}

/** Two resources of one type may not be the same bucket, queue or table. */
function checkPhysicalIds(resources: PlannedResource[], byId: Map<string, RawResource>): void {
  const seen = new Map<string, string>();
  for (const r of resources) {
    const key = `${r.declaration.type} ${r.attributes.physicalId}`;
    const other = seen.get(key);
    if (other) {
      throw new TemplateError(
        byId.get(r.declaration.logicalId)!.path,
        `${r.declaration.logicalId} and ${other} both name ${r.attributes.physicalId}`,
      );
    }
    seen.set(key, r.declaration.logicalId);
  }
}

function declaredResources(template: Record<string, unknown>): RawResource[] {
  const section = template.Resources;
  if (section === undefined || section === null) return [];
  if (!isMap(section)) throw new TemplateError('resources.Resources', 'must be a map');
  return Object.entries(section).map(([logicalId, body]) => {
    const path = `resources.Resources.${logicalId}`;
    if (!/^[A-Za-z0-9]+$/.test(logicalId)) {
      throw new TemplateError(path, 'a logical id may contain only letters and digits');
    }
    if (!isMap(body)) throw new TemplateError(path, 'must be a map with Type and Properties');
    if (typeof body.Type !== 'string' || body.Type === '') {
      throw new TemplateError(`${path}.Type`, 'must be a resource type such as AWS::SQS::Queue');
    }
    const properties = body.Properties ?? {};
    if (!isMap(properties)) throw new TemplateError(`${path}.Properties`, 'must be a map');
    const dependsOn = body.DependsOn === undefined ? [] : body.DependsOn;
    const list = typeof dependsOn === 'string' ? [dependsOn] : dependsOn;
    if (!Array.isArray(list) || list.some((d) => typeof d !== 'string')) {
      throw new TemplateError(`${path}.DependsOn`, 'must be a logical id or a list of them');
    }
    return {
      logicalId,
      path,
      type: body.Type,
      properties,
      dependsOn: list as string[],
      retain: body.DeletionPolicy === 'Retain',
    };
  });
}

/** `provider.s3.<key>.name` (default: the key), by key. */
function providerBuckets(definition: ServiceDefinition): Map<string, string> {
  const out = new Map<string, string>();
  const s3 = definition.provider.s3;
  for (const [key, spec] of Object.entries(isMap(s3) ? s3 : {})) {
    const name = isMap(spec) && typeof spec.name === 'string' ? spec.name : key;
    out.set(key, name);
  }
  return out;
}

/** What an s3 event's `bucket` names once provider.s3 keys are replaced by their bucket names. */
function implicitBucketNames(definition: ServiceDefinition): (bucket: string) => string {
  const provider = providerBuckets(definition);
  return (bucket) => provider.get(bucket) ?? bucket;
}

/**
 * The Framework creates the buckets of `provider.s3` and of `s3` events (unless `existing:
 * true`, or a resource already declares a bucket of that name).
 */
function implicitBuckets(
  definition: ServiceDefinition,
  template: Record<string, unknown>,
): RawResource[] {
  const declaredNames = new Set<string>();
  for (const body of Object.values(isMap(template.Resources) ? template.Resources : {})) {
    if (isMap(body) && body.Type === BUCKET_TYPE && isMap(body.Properties)) {
      const name = body.Properties.BucketName;
      if (typeof name === 'string') declaredNames.add(name);
    }
  }
  const out = new Map<string, RawResource>();
  const add = (name: string, path: string) => {
    if (declaredNames.has(name)) return;
    const logicalId = bucketLogicalId(name);
    if (out.has(logicalId)) return;
    out.set(logicalId, {
      logicalId,
      path,
      type: BUCKET_TYPE,
      properties: { BucketName: name },
      dependsOn: [],
      retain: false,
    });
  };
  const provider = providerBuckets(definition);
  for (const [key, name] of provider) add(name, `provider.s3.${key}`);
  for (const fn of Object.values(definition.functions)) {
    fn.events.forEach((event, i) => {
      if (event.kind !== 's3' || !('config' in event)) return;
      const { bucket, existing } = event.config;
      if (typeof bucket !== 'string' || existing === true || provider.has(bucket)) return;
      add(bucket, `functions.${fn.key}.events.${i}.s3.bucket`);
    });
  }
  return [...out.values()];
}

/**
 * `cognitoUserPool` events without `existing`, as the Framework deploys them: the pool of
 * logical id `CognitoUserPool<Pool>` gets the trigger in its `LambdaConfig`, declared in
 * `resources` (extended) or not (made, named `pool`).
 */
function withUserPoolTriggers(
  raw: RawResource[],
  definition: ServiceDefinition,
  scope: ResourceScope,
): RawResource[] {
  const out = [...raw];
  for (const fn of Object.values(definition.functions)) {
    fn.events.forEach((event, i) => {
      if (event.kind !== 'cognitoUserPool' || !('config' in event)) return;
      const { pool, trigger, existing } = event.config;
      if (existing === true || typeof pool !== 'string' || typeof trigger !== 'string') return;
      const path = `functions.${fn.key}.events.${i}.cognitoUserPool`;
      const logicalId = cognitoUserPoolLogicalId(pool);
      const arn = `arn:aws:lambda:${scope.region}:${scope.accountId}:function:${fn.name}`;
      const at = out.findIndex((r) => r.logicalId === logicalId);
      const found = out[at];
      if (!found) {
        out.push({
          logicalId,
          path,
          type: USER_POOL_TYPE,
          properties: { UserPoolName: pool, LambdaConfig: { [trigger]: arn } },
          dependsOn: [],
          retain: false,
        });
        return;
      }
      if (found.type !== USER_POOL_TYPE) {
        throw new TemplateError(
          path,
          `${logicalId} (the pool this event adds its trigger to) is a ${found.type}, not a user pool`,
        );
      }
      const current = found.properties.LambdaConfig;
      out[at] = {
        ...found,
        properties: {
          ...found.properties,
          LambdaConfig: { ...(isMap(current) ? current : {}), [trigger]: arn },
        },
      };
    });
  }
  return out;
}

function resolveOutputs(
  template: Record<string, unknown>,
  ctx: EvaluationContext,
): Record<string, string> {
  const section = template.Outputs;
  if (section === undefined || section === null) return {};
  if (!isMap(section)) throw new TemplateError('resources.Outputs', 'must be a map');
  const out: Record<string, string> = {};
  for (const [name, body] of Object.entries(section)) {
    const path = `resources.Outputs.${name}`;
    if (!isMap(body) || body.Value === undefined)
      throw new TemplateError(path, 'must be a map with Value');
    out[name] = evaluateString(body.Value, `${path}.Value`, ctx);
  }
  return out;
}

const OWN_EVENT_KINDS = new Set(['http', 'httpApi', 'schedule']);

function resolveDefinition(
  definition: ServiceDefinition,
  ctx: EvaluationContext,
  bucketName: (bucket: string) => string,
): ServiceDefinition {
  const { unresolvedEnvironment, ...provider } = definition.provider;
  const environment = {
    ...provider.environment,
    ...resolveEnvironment(unresolvedEnvironment, 'provider.environment', ctx),
  };
  // After the provider's own values, so a bad one is reported where it was written (each
  // function carries a copy).
  const functions: Record<string, FunctionDefinition> = {};
  for (const [key, fn] of Object.entries(definition.functions)) {
    functions[key] = resolveFunction(fn, ctx, bucketName);
  }
  // A JWT authorizer may name its issuer and audience by intrinsic (`!GetAtt Pool.ProviderURL`,
  // `!Ref Client`).
  const httpApi = provider.httpApi;
  const authorizers = httpApi?.authorizers;
  const resolvedHttpApi =
    httpApi && isMap(authorizers)
      ? {
          ...httpApi,
          authorizers: evaluate(authorizers, 'provider.httpApi.authorizers', ctx),
        }
      : httpApi;
  return {
    ...definition,
    provider: {
      ...provider,
      environment,
      ...(resolvedHttpApi ? { httpApi: resolvedHttpApi as Record<string, unknown> } : {}),
    },
    functions,
  };
}

function resolveEnvironment(
  values: Record<string, unknown> | undefined,
  path: string,
  ctx: EvaluationContext,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(values ?? {})) {
    out[name] = evaluateString(value, `${path}.${name}`, ctx);
  }
  return out;
}

export function resolveFunction(
  fn: FunctionDefinition,
  ctx: EvaluationContext,
  bucketName: (bucket: string) => string = (b) => b,
): FunctionDefinition {
  const { unresolvedEnvironment, unresolvedDeadLetterTarget, unresolvedDestinations, ...rest } = fn;
  const environment = {
    ...fn.environment,
    ...resolveEnvironment(unresolvedEnvironment, `functions.${fn.key}.environment`, ctx),
  };
  if (unresolvedDeadLetterTarget !== undefined) {
    const path = `functions.${fn.key}.onError`;
    const arn = evaluateString(unresolvedDeadLetterTarget, path, ctx);
    if (!isDeadLetterArn(arn)) {
      throw new TemplateError(path, `${arn} is not an SNS topic or SQS queue ARN`);
    }
    rest.deadLetterTarget = arn;
  }
  for (const when of ['onSuccess', 'onFailure'] as const) {
    const raw = unresolvedDestinations?.[when];
    if (raw === undefined) continue;
    const path = `functions.${fn.key}.destinations.${when}`;
    const arn = evaluateString(raw, path, ctx);
    try {
      validateDestination(arn);
    } catch (error) {
      throw new TemplateError(path, (error as Error).message);
    }
    rest.destinations = { ...rest.destinations, [when]: arn };
  }
  const events = fn.events.map((event, i) => {
    // An http authorizer may name its user pool or function by intrinsic (`!GetAtt Pool.Arn`).
    if (event.kind === 'http' && typeof event.authorizer === 'object' && event.authorizer) {
      const path = `functions.${fn.key}.events.${i}.http.authorizer`;
      return { ...event, authorizer: evaluate(event.authorizer, path, ctx) };
    }
    if (OWN_EVENT_KINDS.has(event.kind) || !('config' in event)) return event;
    // A listener Nimbus does not provision: `{Ref: Listener}` names the listener as written.
    if (event.kind === 'alb') return event;
    const path = `functions.${fn.key}.events.${i}.${event.kind}`;
    const config = evaluate(event.config, path, ctx) as Record<string, unknown>;
    if (event.kind === 's3' && typeof config.bucket === 'string')
      config.bucket = bucketName(config.bucket);
    return { ...event, config };
  });
  return { ...rest, environment, events };
}
