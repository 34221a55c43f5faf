import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { ControlClient, type DeployResponse } from '../../client/control-client.js';
import { ApiError } from '../../client/platform-http.js';
import { deploymentHash } from '../../model/canonical-hash.js';
import type { ServiceStage } from '../../model/deployment.js';
import { withLayerArtifacts } from '../../model/layer-artifacts.js';
import type { ServiceDefinition } from '../../model/service-definition.js';
import type { LoadedService } from '../../service/load-service.js';
import { CliError } from '../cli-error.js';
import type { CliContext, ServiceOptions } from '../context.js';
import { resolveEndpoint } from '../endpoint.js';
import { loadForCli } from '../load-for-cli.js';
import { Output, seconds } from '../output.js';
import { type PackagedService, readPackage } from '../read-package.js';
import { printFunctions } from './info.js';
import { packageLoaded } from './package.js';

export async function deployCommand(
  ctx: CliContext,
  opts: ServiceOptions & { force?: boolean; package?: string },
) {
  const started = Date.now();
  const out = new Output(ctx, opts);
  let definition: ServiceDefinition;
  let packaged: PackagedService | undefined;
  let loaded: LoadedService | undefined;
  if (opts.package) {
    packaged = await readPackage(
      isAbsolute(opts.package) ? opts.package : resolve(ctx.cwd, opts.package),
    );
    definition = packaged.definition;
    await checkPackageTarget(ctx, opts, out, definition);
  } else {
    loaded = await loadForCli(ctx, opts, out);
    definition = loaded.definition;
  }
  out.log(`Deploying ${definition.service} to stage ${definition.stage} (${definition.region})`);
  const target = await resolveEndpoint(definition.region, ctx.env);
  out.detail(`Platform: ${target.endpoint} (${target.source})`);
  const client = new ControlClient(target);

  const force = opts.force ?? false;
  const result = packaged
    ? await deployPackaged(definition, packaged, client, out, { force })
    : await deployLoaded(loaded!, client, out, { force });
  if (result.skipped) {
    out.log('No changes to deploy. Deployment skipped.');
    out.data({ skipped: true, hash: result.hash, service: result.current });
    return;
  }
  const res = result.response;
  report(out, res, `${definition.service}-${definition.stage}`, seconds(started, Date.now()));
}

/**
 * A package is deployed only where it was made for: the service of the serverless.yml beside
 * it (when there is one) and the stage asked for (`--stage`, else that config's stage).
 */
async function checkPackageTarget(
  ctx: CliContext,
  opts: ServiceOptions,
  out: Output,
  packaged: ServiceDefinition,
): Promise<void> {
  const { findConfigFile } = await import('../../service/find-config.js');
  const hasConfig = await findConfigFile(ctx.cwd, opts.config).then(
    () => true,
    () => false,
  );
  const expected = hasConfig
    ? (await loadForCli(ctx, opts, out)).definition
    : { service: packaged.service, stage: opts.stage ?? packaged.stage };
  if (expected.service !== packaged.service || expected.stage !== packaged.stage) {
    throw new CliError(
      `The package was made for service "${packaged.service}" stage "${packaged.stage}", ` +
        `not service "${expected.service}" stage "${expected.stage}": package it for that stage, ` +
        `or pass --stage ${packaged.stage}`,
    );
  }
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
  const packaged = await packageLoaded(loaded, out, opts.outDir);
  return deployPackaged(loaded.definition, packaged, client, out, {
    ...opts,
    ...(loaded.locate ? { locate: loaded.locate } : {}),
  });
}

/** Skip check, uploads and deploy for artifacts already on disk. */
export async function deployPackaged(
  definition: ServiceDefinition,
  packaged: Pick<PackagedService, 'artifacts' | 'functionArtifacts'> & {
    layerArtifacts?: Record<string, string>;
  },
  client: ControlClient,
  out: Output,
  /** `locate`: turns a field the platform refused into a serverless.yml position. */
  opts: { force: boolean; locate?: LoadedService['locate'] },
): Promise<DeployOutcome> {
  // A layer's zip hash is part of the definition: a changed layer is a changed deployment.
  definition = withLayerArtifacts(definition, packaged.layerArtifacts ?? {});
  const hash = deploymentHash(definition, packaged.functionArtifacts);
  const current = await client.getStage(definition.service, definition.stage);
  if (current?.current?.hash === hash && !opts.force) {
    return { skipped: true, hash, current };
  }
  await out.step('Uploading artifacts', async () => {
    for (const artifact of packaged.artifacts) {
      await uploadIfMissing(client, out, artifact);
    }
  });
  const response = await out.step('Deploying', () =>
    client.deploy(definition, packaged.functionArtifacts, opts.force).catch((error: unknown) => {
      throw atSource(opts.locate, error);
    }),
  );
  return { skipped: false, hash, response };
}

export async function uploadIfMissing(
  client: ControlClient,
  out: Output,
  artifact: { file: string; path: string; sha256: string },
): Promise<void> {
  if (await client.hasArtifact(artifact.sha256)) {
    out.detail(`  ${artifact.file}: already on the platform`);
    return;
  }
  await client.uploadArtifact(artifact.sha256, await readFile(artifact.path));
  out.detail(`  ${artifact.file}: uploaded`);
}

export function reportChanges(out: Output, res: DeployResponse): void {
  const labels = { publish: 'PUBLISHED', unchanged: 'UNCHANGED', restore: 'RESTORED' };
  for (const change of res.changes ?? []) {
    out.detail(`  ${labels[change.kind]} - ${change.name} - version ${change.version}`);
  }
  for (const key of res.removed ?? []) out.detail(`  REMOVED - ${key}`);
  for (const r of res.resources?.removed ?? []) {
    out.detail(`  REMOVED - ${r.logicalId} (${r.type} ${r.physicalId})`);
  }
  for (const r of res.resources?.kept ?? []) {
    out.warn(`${r.logicalId} (${r.type} ${r.physicalId}) was not removed: ${r.reason}`);
  }
}

function report(out: Output, res: DeployResponse, stack: string, took: string): void {
  if (res.skipped) {
    out.log('No changes to deploy. Deployment skipped.');
  } else {
    reportChanges(out, res);
    out.success(`Service deployed to ${stack} (${took})`);
  }
  out.data(res);
  printFunctions(out, res.service);
  const outputs = Object.entries(res.resources?.outputs ?? {});
  if (outputs.length > 0) {
    out.result('outputs:');
    for (const [name, value] of outputs) out.result(`  ${name}: ${value}`);
  }
}

/**
 * The platform refuses a definition field (its own limits: a concurrency over its instance cap):
 * say so at the serverless.yml line the value came from, as a load-time error would.
 */
function atSource(locate: LoadedService['locate'], error: unknown): unknown {
  if (!(error instanceof ApiError) || error.code !== 'NIMBUS_DEPLOY_BAD_REQUEST' || !locate)
    return error;
  const match = /^definition\.(\S+): (.*)$/s.exec(error.message);
  if (!match) return error;
  const path = match[1]!.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  return new CliError(locate(path, `${match[2]!} (refused by the platform)`).message);
}
