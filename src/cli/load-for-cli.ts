import { ConfigError } from '../service/config-error.js';
import { type LoadedService, loadService } from '../service/load-service.js';
import { CliError } from './cli-error.js';
import type { CliContext, ServiceOptions } from './context.js';
import type { Output } from './output.js';

/** Loads serverless.yml for a service command, printing warnings and turning config errors into one line. */
export async function loadForCli(
  ctx: CliContext,
  opts: ServiceOptions,
  out: Output,
): Promise<LoadedService> {
  const params: Record<string, string> = {};
  for (const pair of opts.param ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--param "${pair}" must look like key=value`);
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const cliOptions: Record<string, string | boolean | undefined> = {};
  for (const [key, value] of Object.entries(opts)) {
    if (typeof value === 'string' || typeof value === 'boolean') cliOptions[key] = value;
  }
  try {
    const loaded = await loadService({
      cwd: ctx.cwd,
      ...(opts.config ? { configPath: opts.config } : {}),
      options: cliOptions,
      params,
      env: ctx.env,
    });
    for (const warning of loaded.warnings) out.warn(warning);
    return loaded;
  } catch (error) {
    // Several refused keys are several errors: each gets its own `✖` line, as main prints one.
    if (error instanceof ConfigError) throw new CliError(error.problems.join('\n✖ '));
    throw error;
  }
}
