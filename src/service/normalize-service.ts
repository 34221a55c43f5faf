import { splitEnvironment } from '../model/intrinsic.js';
import type {
  FunctionDefinition,
  PackageSettings,
  ProviderSettings,
  ServiceDefinition,
} from '../model/service-definition.js';
import { combineConfigErrors } from './config-error.js';
import type { NormalizeContext } from './context.js';
import { type FunctionDefaults, normalizeFunction } from './normalize-function.js';
import { layerIds, normalizeLayers } from './normalize-layers.js';
import { packagePatterns } from './normalize-package.js';
import { checkPlugins } from './plugins.js';
import { mergeResourceBlocks } from './resource-types.js';
import { checkRuntime, DEFAULT_RUNTIME, legacyRuntimeWarning } from './runtimes.js';
import { STAGE_PATTERN } from './schema/provider-schema.js';
import { type ServiceInput, serviceSchema } from './schema/service-schema.js';
import { checkSupport } from './support-check.js';
import { validate } from './validate.js';

/** Nimbus's default platform endpoint name, matching Serverless's default AWS region. */
export const DEFAULT_REGION = 'us-east-1';
const FUNCTION_KEY = /^[a-zA-Z0-9_-]+$/;

export type CliOptions = Record<string, string | boolean | undefined>;

/** Validates the resolved config and applies Serverless's defaults. */
export async function normalizeService(
  resolved: Record<string, unknown>,
  options: CliOptions,
  ctx: NormalizeContext,
): Promise<ServiceDefinition> {
  if (Array.isArray(resolved.resources)) {
    resolved = { ...resolved, resources: mergeResourceBlocks(resolved.resources) };
  }
  const refused = checkSupport(resolved, ctx);
  if (refused.length > 0) throw combineConfigErrors(refused);
  const root = validate(serviceSchema, resolved, [], ctx.locator);
  const stage = pickStage(root, options, ctx);
  const provider = normalizeProvider(root, ctx);
  const pkg = normalizePackage(root, ctx);
  const layers = normalizeLayers(root.layers, ctx);
  const defaults: FunctionDefaults = {
    service: root.service,
    stage,
    provider,
    layerIds: layerIds(layers),
  };
  if (pkg.artifact) defaults.serviceArtifact = pkg.artifact;
  if (root.provider.layers) defaults.providerLayers = root.provider.layers;
  const functions = await normalizeFunctions(root, defaults, ctx);
  const plugins = root.plugins ?? [];
  checkPlugins(resolved.plugins, plugins, ctx);
  const def: ServiceDefinition = {
    service: root.service,
    stage,
    region: String(options.region ?? root.provider.region ?? DEFAULT_REGION),
    provider,
    functions,
    package: pkg,
    plugins,
    custom: root.custom ?? {},
  };
  if (root.frameworkVersion !== undefined) def.frameworkVersion = root.frameworkVersion;
  if (resolved.resources !== undefined) def.resources = resolved.resources;
  if (layers) def.layers = layers;
  return def;
}

function pickStage(root: ServiceInput, options: CliOptions, ctx: NormalizeContext): string {
  const fromCli = typeof options.stage === 'string';
  const stage = fromCli ? String(options.stage) : (root.provider.stage ?? 'dev');
  if (!STAGE_PATTERN.test(stage)) {
    const origin = fromCli ? ' (from --stage)' : '';
    const detail = `stage "${stage}"${origin} may contain only letters, digits, hyphens and underscores`;
    throw ctx.locator.error('NIMBUS_CONFIG_INVALID', ['provider', 'stage'], detail);
  }
  return stage;
}

function normalizeProvider(root: ServiceInput, ctx: NormalizeContext): ProviderSettings {
  const p = root.provider;
  const runtime = p.runtime ?? DEFAULT_RUNTIME;
  const check = checkRuntime(runtime);
  if (!check.ok)
    throw ctx.locator.error('NIMBUS_CONFIG_RUNTIME', ['provider', 'runtime'], check.message);
  if (check.legacy) {
    ctx.warnings.push(
      ctx.locator.warning(['provider', 'runtime'], legacyRuntimeWarning(runtime, check.family)),
    );
  }
  const env = splitEnvironment(p.environment ?? {});
  const out: ProviderSettings = {
    name: p.name,
    runtime,
    memorySize: p.memorySize ?? 1024,
    timeout: p.timeout ?? 6,
    environment: env.environment,
  };
  if (Object.keys(env.unresolved).length > 0) out.unresolvedEnvironment = env.unresolved;
  if (p.s3 !== undefined && p.s3 !== null) out.s3 = p.s3 as Record<string, unknown>;
  if (p.httpApi) out.httpApi = p.httpApi;
  if (p.apiGateway) out.apiGateway = p.apiGateway;
  // The old places still work, as in the Serverless Framework; apiGateway's own win.
  for (const key of ['apiKeys', 'usagePlan'] as const) {
    if (p[key] !== undefined && out.apiGateway?.[key] === undefined) {
      out.apiGateway = { ...out.apiGateway, [key]: p[key] };
    }
  }
  if (p.logRetentionInDays !== undefined) out.logRetentionInDays = p.logRetentionInDays;
  if (p.websocketsApiRouteSelectionExpression !== undefined) {
    out.websocketsApiRouteSelectionExpression = p.websocketsApiRouteSelectionExpression;
  }
  if (p.tags) out.tags = p.tags;
  if (p.nimbus?.concurrency !== undefined) out.concurrency = p.nimbus.concurrency;
  return out;
}

function normalizePackage(root: ServiceInput, ctx: NormalizeContext): PackageSettings {
  const pkg: PackageSettings = {
    patterns: packagePatterns(root.package, ['package'], ctx),
    individually: root.package?.individually ?? false,
    excludeDevDependencies: root.package?.excludeDevDependencies ?? true,
  };
  if (root.package?.artifact) pkg.artifact = root.package.artifact;
  return pkg;
}

async function normalizeFunctions(
  root: ServiceInput,
  defaults: FunctionDefaults,
  ctx: NormalizeContext,
): Promise<Record<string, FunctionDefinition>> {
  const functions: Record<string, FunctionDefinition> = {};
  const byName = new Map<string, string>();
  for (const [key, fn] of Object.entries(root.functions ?? {})) {
    if (!FUNCTION_KEY.test(key)) {
      const detail = `function name "${key}" may contain only letters, digits, hyphens and underscores`;
      throw ctx.locator.error('NIMBUS_CONFIG_INVALID', ['functions', key], detail, true);
    }
    const def = await normalizeFunction(key, fn, defaults, ctx);
    const clash = byName.get(def.name);
    if (clash) {
      const at = fn.name ? ['functions', key, 'name'] : ['functions', key];
      const detail = `deployed name "${def.name}" is already used by function "${clash}"`;
      throw ctx.locator.error('NIMBUS_CONFIG_DUPLICATE', at, detail, !fn.name);
    }
    byName.set(def.name, key);
    functions[key] = def;
  }
  return functions;
}
