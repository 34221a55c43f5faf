import { ControlClient, type DeployResponse } from '../../client/control-client.js';
import { canonicalJson } from '../../model/canonical-hash.js';
import type { FunctionDefinition } from '../../model/service-definition.js';
import { CliError } from '../cli-error.js';
import type { CliContext, ServiceOptions } from '../context.js';
import { resolveEndpoint } from '../endpoint.js';
import { loadForCli } from '../load-for-cli.js';
import { Output, seconds } from '../output.js';
import { reportChanges, uploadIfMissing } from './deploy.js';
import { packageLoaded } from './package.js';

export interface DeployFunctionOptions extends ServiceOptions {
  function: string;
  updateConfig?: boolean;
  force?: boolean;
}

/**
 * `deploy function -f fn`: the function's new code (or, with --update-config, its new
 * configuration) on top of the stage's current deployment, as one new version.
 */
export async function deployFunctionCommand(ctx: CliContext, opts: DeployFunctionOptions) {
  const started = Date.now();
  const out = new Output(ctx, opts);
  const loaded = await loadForCli(ctx, opts, out);
  const { definition } = loaded;
  const key = opts.function;
  const local = definition.functions[key];
  if (!local) {
    throw new CliError(`Function "${key}" is not defined in ${definition.service}'s configuration`);
  }
  out.log(`Deploying function ${key} to stage ${definition.stage} (${definition.region})`);
  const client = new ControlClient(await resolveEndpoint(definition.region, ctx.env));
  const stage = await client.getStage(definition.service, definition.stage);
  const deployed = stage?.current?.definition.functions[key];
  if (!stage?.current || !deployed) {
    throw new CliError(
      `Function "${key}" is not deployed to stage "${definition.stage}": run 'nimbus deploy' first`,
    );
  }
  const force = opts.force ?? false;
  let res: DeployResponse;
  if (opts.updateConfig) {
    if (!force && sameConfiguration(local, deployed)) {
      out.log('Configuration did not change. Configuration update skipped.');
      out.data({ skipped: true });
      return;
    }
    res = await out.step('Updating configuration', () =>
      client.deployFunction(definition.service, definition.stage, key, { config: local }, force),
    );
  } else {
    const packaged = await packageLoaded(loaded, out);
    const sha256 = packaged.functionArtifacts[key]!;
    if (!force && stage.current.artifacts[key] === sha256) {
      out.log('Code did not change. Function deployment skipped.');
      out.data({ skipped: true });
      return;
    }
    const artifact = packaged.artifacts.find((a) => a.sha256 === sha256)!;
    await out.step('Uploading artifact', () => uploadIfMissing(client, out, artifact));
    res = await out.step('Deploying', () =>
      client.deployFunction(definition.service, definition.stage, key, { artifact: sha256 }, force),
    );
  }
  reportChanges(out, res);
  const took = seconds(started, Date.now());
  out.success(
    opts.updateConfig
      ? `Function configuration updated (${took})`
      : `Function code deployed (${took})`,
  );
  out.data(res);
  const fn = res.service.functions.find((f) => f.key === key);
  if (fn) out.result(`${key}: ${fn.functionName} (version ${fn.version})`);
}

/** Events are not function configuration: `--update-config` leaves them as deployed. */
function sameConfiguration(a: FunctionDefinition, b: FunctionDefinition): boolean {
  // layerVersions is what the platform resolved `layers` to, never in a local definition.
  const strip = (f: FunctionDefinition) => ({ ...f, events: [], layerVersions: undefined });
  return canonicalJson(strip(a)) === canonicalJson(strip(b));
}
