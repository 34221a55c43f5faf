import { isDeadLetterArn } from '../model/dead-letter-target.js';
import { isIntrinsic, splitEnvironment } from '../model/intrinsic.js';
import type {
  FunctionDefinition,
  FunctionPackageSettings,
  FunctionUrlSettings,
  ProviderSettings,
  RuntimeFamily,
} from '../model/service-definition.js';
import type { NormalizeContext } from './context.js';
import { normalizeEvents } from './events/normalize-events.js';
import { findHandlerFile } from './handler-file.js';
import { checkLayerRefs } from './normalize-layers.js';
import { packagePatterns } from './normalize-package.js';
import type { PropertyPath } from './property-path.js';
import { checkRuntime, legacyRuntimeWarning } from './runtimes.js';
import type { FunctionInput } from './schema/function-schema.js';

const DEPLOYED_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export interface FunctionDefaults {
  service: string;
  stage: string;
  provider: ProviderSettings;
  /** Set when the whole service ships a prebuilt artifact (no handler file check). */
  serviceArtifact?: string;
  /** provider.layers, used by functions without `layers` of their own. */
  providerLayers?: unknown[];
  /** Logical ids (`<Key>LambdaLayer`) of the service's own layers. */
  layerIds?: ReadonlySet<string>;
}

export async function normalizeFunction(
  key: string,
  fn: FunctionInput,
  defaults: FunctionDefaults,
  ctx: NormalizeContext,
): Promise<FunctionDefinition> {
  const path = ['functions', key];
  const { runtime, family } = functionRuntime(fn, path, defaults, ctx);
  const name = fn.name ?? `${defaults.service}-${defaults.stage}-${key}`;
  if (!DEPLOYED_NAME.test(name)) {
    const detail = `deployed name "${name}" must be 1 to 64 letters, digits, hyphens or underscores`;
    throw ctx.locator.error(
      'NIMBUS_CONFIG_INVALID',
      fn.name ? [...path, 'name'] : path,
      detail,
      !fn.name,
    );
  }
  const pkg = functionPackage(fn, path, ctx);
  const artifact = pkg?.artifact ?? defaults.serviceArtifact;
  // Provider values first, the function's own win; intrinsics are resolved at deploy.
  const env = splitEnvironment({
    ...defaults.provider.environment,
    ...defaults.provider.unresolvedEnvironment,
    ...(fn.environment ?? {}),
  });
  const def: FunctionDefinition = {
    key,
    name,
    handler: fn.handler,
    runtime,
    runtimeFamily: family,
    memorySize: fn.memorySize ?? defaults.provider.memorySize,
    timeout: fn.timeout ?? defaults.provider.timeout,
    environment: env.environment,
    events: normalizeEvents(fn.events, [...path, 'events'], ctx),
    handlerFile: await handlerFile(fn.handler, family, artifact, [...path, 'handler'], ctx),
  };
  if (Object.keys(env.unresolved).length > 0) def.unresolvedEnvironment = env.unresolved;
  if (fn.description !== undefined) def.description = fn.description;
  for (const when of ['onSuccess', 'onFailure'] as const) {
    const target = fn.destinations?.[when];
    if (typeof target === 'string' && target !== '') {
      def.destinations = { ...def.destinations, [when]: target };
    } else if (target !== undefined && typeof target === 'object') {
      def.unresolvedDestinations = { ...def.unresolvedDestinations, [when]: target };
    }
  }
  for (const k of [
    'maximumRetryAttempts',
    'maximumEventAge',
    'reservedConcurrency',
    'provisionedConcurrency',
    'logRetentionInDays',
  ] as const) {
    if (fn[k] !== undefined) def[k] = fn[k];
  }
  if (fn.onError !== undefined) {
    if (isIntrinsic(fn.onError)) def.unresolvedDeadLetterTarget = fn.onError;
    else if (typeof fn.onError === 'string' && isDeadLetterArn(fn.onError)) {
      def.deadLetterTarget = fn.onError;
    } else {
      throw ctx.locator.error(
        'NIMBUS_CONFIG_INVALID',
        [...path, 'onError'],
        'must be an SNS topic or SQS queue ARN, or Fn::GetAtt / Ref of one',
      );
    }
  }
  const concurrency = instanceConcurrency(fn, family, path, defaults, ctx);
  if (concurrency !== undefined) def.concurrency = concurrency;
  if (pkg) def.package = pkg;
  const url = functionUrl(fn.url);
  if (url) def.url = url;
  // The function's own list replaces the provider's (the Framework does not merge them).
  const layers = fn.layers ?? defaults.providerLayers;
  if (layers && layers.length > 0) {
    const where = fn.layers ? [...path, 'layers'] : ['provider', 'layers'];
    def.layers = checkLayerRefs(layers, where, defaults.layerIds ?? new Set(), ctx);
  }
  return def;
}

function functionRuntime(
  fn: FunctionInput,
  path: PropertyPath,
  defaults: FunctionDefaults,
  ctx: NormalizeContext,
): { runtime: string; family: RuntimeFamily } {
  if (fn.runtime === undefined) {
    // The provider runtime was checked (and warned about) once, at the service level.
    const check = checkRuntime(defaults.provider.runtime);
    return { runtime: defaults.provider.runtime, family: check.ok ? check.family : 'nodejs' };
  }
  const check = checkRuntime(fn.runtime);
  if (!check.ok)
    throw ctx.locator.error('NIMBUS_CONFIG_RUNTIME', [...path, 'runtime'], check.message);
  if (check.legacy) {
    ctx.warnings.push(
      ctx.locator.warning([...path, 'runtime'], legacyRuntimeWarning(fn.runtime, check.family)),
    );
  }
  return { runtime: fn.runtime, family: check.family };
}

/** `url: true` or its object form → settings; `url: false` or absent → no URL. */
function functionUrl(raw: FunctionInput['url']): FunctionUrlSettings | undefined {
  if (raw === undefined || raw === false) return undefined;
  const o = raw === true ? {} : raw;
  const url: FunctionUrlSettings = {
    authType: o.authorizer === 'aws_iam' ? 'AWS_IAM' : 'NONE',
    invokeMode: o.invokeMode ?? 'BUFFERED',
  };
  if (o.cors !== undefined && o.cors !== false) url.cors = o.cors;
  return url;
}

function functionPackage(
  fn: FunctionInput,
  path: PropertyPath,
  ctx: NormalizeContext,
): FunctionPackageSettings | undefined {
  if (!fn.package) return undefined;
  const out: FunctionPackageSettings = {
    patterns: packagePatterns(fn.package, [...path, 'package'], ctx),
  };
  if (fn.package.artifact !== undefined) out.artifact = fn.package.artifact;
  if (fn.package.individually !== undefined) out.individually = fn.package.individually;
  return out;
}

/** Checks the handler's shape and that its file exists, unless a prebuilt artifact ships it. */
async function handlerFile(
  handler: string,
  family: RuntimeFamily,
  artifact: string | undefined,
  path: PropertyPath,
  ctx: NormalizeContext,
): Promise<string> {
  if (family !== 'provided' && !/^[^.].*\.[^./\\]+$/.test(handler)) {
    const example = family === 'nodejs' ? 'src/handler.hello' : 'handler.main';
    const detail = `"${handler}" must name a file and an export, e.g. "${example}"`;
    throw ctx.locator.error('NIMBUS_CONFIG_HANDLER', path, detail);
  }
  const base = handler.slice(0, handler.lastIndexOf('.'));
  if (artifact)
    return family === 'provided' ? 'bootstrap' : `${base}.${family === 'nodejs' ? 'js' : 'py'}`;
  const found = await findHandlerFile(ctx.serviceDir, handler, family);
  if (!found.ok) throw ctx.locator.error('NIMBUS_CONFIG_HANDLER', path, found.message);
  return found.file;
}

/**
 * `concurrency` (or provider.nimbus.concurrency): requests one instance serves at once. Only the
 * Node bootstrap multiplexes them; a Python or provided function asking for more than one is
 * refused where it says so. The provider's default applies to Node functions only, so a mixed
 * service can set it once.
 */
function instanceConcurrency(
  fn: FunctionInput,
  family: RuntimeFamily,
  path: PropertyPath,
  defaults: FunctionDefaults,
  ctx: NormalizeContext,
): number | undefined {
  if (fn.concurrency !== undefined && fn.concurrency > 1 && family !== 'nodejs') {
    throw ctx.locator.error(
      'NIMBUS_CONFIG_INVALID',
      [...path, 'concurrency'],
      `a ${family} instance serves one request at a time; only Node.js functions may set more than 1`,
    );
  }
  const wanted =
    fn.concurrency ?? (family === 'nodejs' ? defaults.provider.concurrency : undefined);
  return wanted !== undefined && wanted > 1 ? wanted : undefined;
}
