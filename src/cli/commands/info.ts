import { ControlClient } from '../../client/control-client.js';
import type { ServiceStage } from '../../model/deployment.js';
import { CliError } from '../cli-error.js';
import type { CliContext, ServiceOptions } from '../context.js';
import { resolveEndpoint } from '../endpoint.js';
import { loadForCli } from '../load-for-cli.js';
import { Output } from '../output.js';

export async function infoCommand(ctx: CliContext, opts: ServiceOptions) {
  const out = new Output(ctx, opts);
  const { definition } = await loadForCli(ctx, opts, out);
  const client = new ControlClient(await resolveEndpoint(definition.region, ctx.env));
  const stage = await client.getStage(definition.service, definition.stage);
  if (!stage) {
    throw new CliError(
      `Service "${definition.service}" is not deployed to stage "${definition.stage}"`,
    );
  }
  const apiKeys = await client.getApiKeys(definition.service, definition.stage);
  out.data({
    service: stage.service,
    stage: stage.stage,
    region: stage.region,
    apiKeys,
    endpoints: stage.endpoints,
    functions: stage.functions,
  });
  out.result(`service: ${stage.service}`);
  out.result(`stage: ${stage.stage}`);
  out.result(`region: ${stage.region}`);
  // As the Serverless Framework prints them: `name: value - description`.
  if (apiKeys.length > 0) {
    out.result('api keys:');
    for (const key of apiKeys) {
      out.result(`  ${key.name}: ${key.value}${key.description ? ` - ${key.description}` : ''}`);
    }
  }
  printFunctions(out, stage);
}

/** The `endpoints:` and `functions:` sections shared by deploy and info. */
export function printFunctions(out: Output, stage: ServiceStage): void {
  // As the Serverless Framework: `endpoint:` for one, `endpoints:` for several, nothing for none.
  if (stage.endpoints.length === 1) out.result(`endpoint: ${stage.endpoints[0]}`);
  else if (stage.endpoints.length > 1) {
    out.result('endpoints:');
    for (const line of stage.endpoints) out.result(`  ${line}`);
  }
  out.result('functions:');
  for (const fn of stage.functions) {
    out.result(`  ${fn.key}: ${fn.functionName} (version ${fn.version})`);
  }
}
