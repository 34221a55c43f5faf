import { ControlClient } from '../../client/control-client.js';
import { CliError } from '../cli-error.js';
import type { CliContext, ServiceOptions } from '../context.js';
import { resolveEndpoint } from '../endpoint.js';
import { loadForCli } from '../load-for-cli.js';
import { Output, seconds } from '../output.js';

export async function removeCommand(ctx: CliContext, opts: ServiceOptions) {
  const started = Date.now();
  const out = new Output(ctx, opts);
  const { definition } = await loadForCli(ctx, opts, out);
  const client = new ControlClient(await resolveEndpoint(definition.region, ctx.env));
  out.log(`Removing ${definition.service} from stage ${definition.stage} (${definition.region})`);
  const removed = await client.removeStage(definition.service, definition.stage);
  if (!removed) {
    throw new CliError(
      `Service "${definition.service}" is not deployed to stage "${definition.stage}"`,
    );
  }
  out.data({
    removed: true,
    service: definition.service,
    stage: definition.stage,
    functions: removed.functions,
    resources: removed.resources ?? [],
    kept: removed.kept ?? [],
  });
  for (const r of removed.resources ?? [])
    out.detail(`  REMOVED - ${r.logicalId} (${r.type} ${r.physicalId})`);
  // Buckets with objects in them stay, as on AWS: say which, and why.
  for (const r of removed.kept ?? []) {
    out.warn(`${r.logicalId} (${r.type} ${r.physicalId}) was not removed: ${r.reason}`);
  }
  out.success(
    `Service ${definition.service} has been successfully removed (${seconds(started, Date.now())})`,
  );
}
