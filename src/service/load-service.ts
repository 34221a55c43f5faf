import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import type { ServiceDefinition } from '../model/service-definition.js';
import { ConfigError } from './config-error.js';
import type { NormalizeContext, ValidationMode } from './context.js';
import { definitionProblem, maxPlatformInstances } from './definition-rules.js';
import { loadDotenv } from './dotenv.js';
import { findConfigFile } from './find-config.js';
import { normalizeService } from './normalize-service.js';
import { type ParsedConfig, parseConfigText } from './parse-document.js';
import { isScriptConfig, loadScriptConfig } from './script-config.js';
import { VariableResolver } from './variables/resolver.js';
import { createSources, type SourceInputs } from './variables/sources.js';

export interface LoadServiceOptions {
  /** The working directory (absolute): the service directory unless configPath says otherwise. */
  cwd: string;
  /** -c/--config, relative to cwd or absolute; its directory is the service directory. */
  configPath?: string;
  /** CLI options, for ${opt:x}: stage, region, ... */
  options: Record<string, string | boolean | undefined>;
  /** --param k=v */
  params?: Record<string, string>;
  /** For ${env:X} (the CLI passes process.env). */
  env: Record<string, string | undefined>;
  /** For ${cf:<service>-<stage>.<output>}: the platform's answer (see SourceInputs). */
  stackOutputs?: SourceInputs['stackOutputs'];
}

export interface LoadedService {
  definition: ServiceDefinition;
  /** The whole config with variables resolved (for `nimbus print`). */
  resolved: Record<string, unknown>;
  /** Absolute. */
  configPath: string;
  /** Absolute. */
  serviceDir: string;
  /** Human-readable, each naming file:line:col and path where known. */
  warnings: string[];
  /** false: packaging skips `tsc --noEmit` (nimbus dev, where a save must redeploy at once). */
  typeCheck?: boolean;
  /**
   * A definition property path as a positioned config error: for refusals only the platform can
   * make (a concurrency over its own cap), reported where the user wrote the value.
   */
  locate?: (path: (string | number)[], detail: string) => ConfigError;
}

/** serverless.yml → ServiceDefinition: find, parse, resolve variables, validate. */
export async function loadService(opts: LoadServiceOptions): Promise<LoadedService> {
  const configPath = await findConfigFile(resolve(opts.cwd), opts.configPath);
  // As the Serverless Framework: handlers, package patterns and .env files are relative to the
  // directory of the config file, wherever the command was run from.
  const serviceDir = dirname(configPath);
  const file = relative(resolve(opts.cwd), configPath) || configPath;
  const parsed = isScriptConfig(configPath)
    ? await loadScriptConfig(configPath, file)
    : parseConfigText(await readConfig(configPath, file), file);
  const inputs: SourceInputs = {
    serviceDir,
    options: opts.options,
    params: opts.params ?? {},
    env: opts.env,
    ...(opts.stackOutputs ? { stackOutputs: opts.stackOutputs } : {}),
  };
  if (parsed.data.useDotenv === true || parsed.data.useDotenv === 'true') {
    inputs.env = await loadDotenv(serviceDir, await earlyStage(parsed, inputs), opts.env);
  }
  const config = structuredClone(parsed.data);
  const resolver = new VariableResolver(config, createSources(inputs), parsed.locator);
  const resolved = await resolver.resolveAll();
  const ctx: NormalizeContext = {
    locator: parsed.locator,
    warnings: [...parsed.warnings],
    serviceDir,
    validationMode: validationMode(resolved.configValidationMode),
  };
  const definition = await normalizeService(structuredClone(resolved), opts.options, ctx);
  const problem = definitionProblem(definition, { maxConcurrency: maxPlatformInstances });
  if (problem) throw parsed.locator.error('NIMBUS_CONFIG_INVALID', problem.path, problem.message);
  return {
    definition,
    resolved,
    configPath,
    serviceDir,
    warnings: ctx.warnings,
    locate: (path, detail) => parsed.locator.error('NIMBUS_CONFIG_INVALID', path, detail),
  };
}

/** An invalid value is reported by the schema later; until then it counts as the default. */
function validationMode(value: unknown): ValidationMode {
  return value === 'error' || value === 'off' ? value : 'warn';
}

async function readConfig(configPath: string, file: string): Promise<string> {
  try {
    return await readFile(configPath, 'utf8');
  } catch (error) {
    const detail = `cannot read the config file: ${(error as Error).message}`;
    throw new ConfigError({ code: 'NIMBUS_CONFIG_READ', file, detail });
  }
}

/**
 * The stage that picks `.env.<stage>`, needed before `${env:}` can be resolved; a
 * provider.stage that cannot be resolved yet (it may itself read the .env) counts as unset.
 */
async function earlyStage(parsed: ParsedConfig, inputs: SourceInputs): Promise<string> {
  if (typeof inputs.options.stage === 'string') return inputs.options.stage;
  const config = structuredClone(parsed.data);
  const resolver = new VariableResolver(config, createSources(inputs), parsed.locator);
  try {
    await resolver.resolveProperty(['provider', 'stage']);
  } catch {
    return 'dev';
  }
  const stage = (config.provider as { stage?: unknown } | undefined)?.stage;
  return typeof stage === 'string' && stage !== '' ? stage : 'dev';
}
