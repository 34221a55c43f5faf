import { readFile } from 'node:fs/promises';
import { ControlClient, type DeployResponse } from '../../client/control-client.js';
import { ApiError } from '../../client/platform-http.js';
import { deploymentHash } from '../../model/canonical-hash.js';
import type { ServiceStage } from '../../model/deployment.js';
import type { LoadedService } from '../../service/load-service.js';
import { CliError } from '../cli-error.js';
import type { CliContext, ServiceOptions } from '../context.js';
import { resolveEndpoint } from '../endpoint.js';
import { loadForCli } from '../load-for-cli.js';
import { Output, seconds } from '../output.js';
import { printFunctions } from './info.js';
import { packageLoaded } from './package.js';

export async function deployCommand(ctx: CliContext, opts: ServiceOptions & { force?: boolean }) {
  const started = Date.now();
  const out = new Output(ctx, opts);
  const loaded = await loadForCli(ctx, opts, out);
  const { definition } = loaded;
  out.log(`Deploying ${definition.service} to stage ${definition.stage} (${definition.region})`);
  const target = await resolveEndpoint(definition.region, ctx.env);
  out.detail(`Platform: ${target.endpoint} (${target.source})`);
  const client = new ControlClient(target);

  const result = await deployLoaded(loaded, client, out, { force: opts.force ?? false });
  if (result.skipped) {
    out.log('No changes to deploy. Deployment skipped.');
    out.data({ skipped: true, hash: result.hash, service: result.current });
    return;
  }
  const res = result.response;
  report(out, res, `${definition.service}-${definition.stage}`, seconds(started, Date.now()));
}

export type DeployOutcome =
  /** The stage's current deployment already has this hash: nothing was uploaded. */
  | { skipped: true; hash: string; current: ServiceStage }
  | { skipped: false; hash: string; response: DeployResponse };

/**
 * The deploy steps after loading (shared by `deploy` and `dev`): package, stop when the stage
 * already runs this exact hash, upload the artifacts the platform lacks, deploy. Prints only
 * progress (spinners, --verbose details); the caller reports the outcome.
 */
export async function deployLoaded(
  loaded: LoadedService,
  client: ControlClient,
  out: Output,
  opts: { force: boolean; outDir?: string },
): Promise<DeployOutcome> {
  const { definition } = loaded;
  const packaged = await packageLoaded(loaded, out, opts.outDir);
  const hash = deploymentHash(definition, packaged.functionArtifacts);
  const current = await client.getStage(definition.service, definition.stage);
  if (current?.current?.hash === hash && !opts.force) {
    return { skipped: true, hash, current };
  }
  await out.step('Uploading artifacts', async () => {
    for (const artifact of packaged.artifacts) {
      if (await client.hasArtifact(artifact.sha256)) {
        out.detail(`  ${artifact.file}: already on the platform`);
        continue;
      }
      await client.uploadArtifact(artifact.sha256, await readFile(artifact.path));
      out.detail(`  ${artifact.file}: uploaded`);
    }
  });
  const response = await out.step('Deploying', () =>
    client.deploy(definition, packaged.functionArtifacts, opts.force).catch((error: unknown) => {
      throw atSource(loaded, error);
    }),
  );
  return { skipped: false, hash, response };
}

function report(out: Output, res: DeployResponse, stack: string, took: string): void {
  if (res.skipped) {
    out.log('No changes to deploy. Deployment skipped.');
  } else {
    for (const change of res.changes ?? []) {
      const what = change.kind === 'publish' ? 'PUBLISHED' : 'UNCHANGED';
      out.detail(`  ${what} - ${change.name} - version ${change.version}`);
    }
    for (const key of res.removed ?? []) out.detail(`  REMOVED - ${key}`);
    out.success(`Service deployed to ${stack} (${took})`);
  }
  out.data(res);
  printFunctions(out, res.service);
}

/**
 * The platform refuses a definition field (its own limits: a concurrency over its instance cap):
 * say so at the serverless.yml line the value came from, as a load-time error would.
 */
function atSource(loaded: LoadedService, error: unknown): unknown {
  if (!(error instanceof ApiError) || error.code !== 'NIMBUS_DEPLOY_BAD_REQUEST' || !loaded.locate)
    return error;
  const match = /^definition\.(\S+): (.*)$/s.exec(error.message);
  if (!match) return error;
  const path = match[1]!.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  return new CliError(loaded.locate(path, `${match[2]!} (refused by the platform)`).message);
}
