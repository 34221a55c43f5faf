import { ControlClient } from '../../client/control-client.js';
import { CliError } from '../cli-error.js';
import type { CliContext, ServiceOptions } from '../context.js';
import { resolveEndpoint } from '../endpoint.js';
import { loadForCli } from '../load-for-cli.js';
import { Output } from '../output.js';

/** `deploy list`: the retained deployments, oldest first, in the Serverless Framework's layout. */
export async function deployListCommand(ctx: CliContext, opts: ServiceOptions) {
  const out = new Output(ctx, opts);
  const { definition } = await loadForCli(ctx, opts, out);
  const client = new ControlClient(await resolveEndpoint(definition.region, ctx.env));
  const deployments = await client.listDeployments(definition.service, definition.stage);
  if (!deployments || deployments.length === 0) {
    throw new CliError(
      `No deployments found for service "${definition.service}" stage "${definition.stage}"`,
    );
  }
  const oldestFirst = [...deployments].reverse();
  out.data({
    deployments: oldestFirst.map(({ definition: _d, ...rest }) => rest),
  });
  out.log('Listing deployments:');
  for (const d of oldestFirst) {
    out.result('-------------');
    out.result(`${new Date(d.timestamp).toISOString().replace('T', ' ').slice(0, 19)} UTC`);
    out.result(`Timestamp: ${d.timestamp}`);
    out.result('Functions:');
    for (const [key, version] of Object.entries(d.functions).sort()) {
      out.result(`  - ${key}: version ${version} (code ${d.artifacts[key]?.slice(0, 12) ?? '?'})`);
    }
  }
}

/** `deploy list functions`: every function with its versions. */
export async function deployListFunctionsCommand(ctx: CliContext, opts: ServiceOptions) {
  const out = new Output(ctx, opts);
  const { definition } = await loadForCli(ctx, opts, out);
  const client = new ControlClient(await resolveEndpoint(definition.region, ctx.env));
  const stage = await client.getStage(definition.service, definition.stage);
  if (!stage) {
    throw new CliError(
      `Service "${definition.service}" is not deployed to stage "${definition.stage}"`,
    );
  }
  out.data({
    functions: stage.functions.map((f) => ({
      key: f.key,
      name: f.functionName,
      versions: f.versions,
    })),
  });
  out.log('Listing functions and their last 5 versions:');
  for (const fn of stage.functions) {
    const label = fn.versions.length > 5 ? 'Last 5 versions' : 'All versions';
    out.result(`${fn.key}: ${label}: ${fn.versions.slice(-5).join(', ')}`);
  }
}
