import { ControlClient } from '../client/control-client.js';
import { ConfigError } from '../service/config-error.js';
import { type LoadedService, loadService } from '../service/load-service.js';
import { CliError } from './cli-error.js';
import type { CliContext, ServiceOptions } from './context.js';
import { resolveEndpoint } from './endpoint.js';
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
      stackOutputs: (stack, region) => stackOutputs(stack, region, ctx.env),
    });
    for (const warning of loaded.warnings) out.warn(warning);
    return loaded;
  } catch (error) {
    // Several refused keys are several errors: each gets its own `✖` line, as main prints one.
    if (error instanceof ConfigError) throw new CliError(error.problems.join('\n✖ '));
    throw error;
  }
}

/**
 * `${cf:<stack>.<output>}`: the stack is a deployed stage's `<service>-<stage>` (the Framework's
 * CloudFormation stack name); both may hold dashes, so it is matched against the stages there are.
 */
async function stackOutputs(
  stack: string,
  region: string,
  env: Record<string, string | undefined>,
): Promise<Record<string, string> | undefined> {
  const client = new ControlClient(await resolveEndpoint(region, env));
  const stage = (await client.listServices()).find((s) => `${s.service}-${s.stage}` === stack);
  return stage ? client.getOutputs(stage.service, stage.stage) : undefined;
}
