import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { withLayerArtifacts } from '../model/layer-artifacts.js';
import type { ServiceDefinition } from '../model/service-definition.js';
import { type ArtifactPlan, planArtifacts } from './artifact-plan.js';
import { bundleOutputPath, bundleTypeScript } from './bundle-typescript.js';
import { type CandidateFiles, collectCandidates } from './candidate-files.js';
import { writeDeterministicZip, type ZipSource } from './deterministic-zip.js';
import { PackagingError } from './errors.js';
import { layerZipName, writeLayerZip } from './layer-artifacts.js';
import { applyPatterns } from './select-files.js';
import { writeStateFile } from './state-file.js';
import { inspectZip, lambdaZipLimits, ZipRejectedError } from './zip-safety.js';

export interface PackageOptions {
  /** Absolute. */
  serviceDir: string;
  /** Absolute; always excluded from the zip. */
  configPath: string;
  definition: ServiceDefinition;
  /** Absolute, e.g. `<serviceDir>/.serverless`. */
  outDir: string;
}

export interface ArtifactInfo {
  /** Name inside outDir, e.g. `my-svc.zip` or `hello.zip`. */
  file: string;
  path: string;
  /** Hex. */
  sha256: string;
  size: number;
}

export interface PackageResult {
  /** Sorted by file. */
  artifacts: ArtifactInfo[];
  /** Function key -> sha256 of the artifact it runs from. */
  functionArtifacts: Record<string, string>;
  /** Layer key -> sha256 of its zip. */
  layerArtifacts: Record<string, string>;
  /** The definition with each layer's `artifact` set: what is hashed and deployed. */
  definition: ServiceDefinition;
  /** Absolute path of serverless-state.json. */
  stateFile: string;
}

/**
 * Builds every artifact of a service into outDir and records them in serverless-state.json.
 * See docs/packaging.md for what goes into a zip and why.
 */
export async function packageService(opts: PackageOptions): Promise<PackageResult> {
  const { definition, outDir } = opts;
  const plans = planArtifacts(definition, opts.serviceDir);

  // Prebuilt artifacts are read and checked before outDir is cleaned: one may live in outDir.
  const prebuilt = new Map<string, Buffer>();
  for (const plan of plans) {
    if (plan.kind === 'prebuilt') prebuilt.set(plan.file, await readPrebuilt(plan));
  }

  const layerPrebuilt = new Map<string, Buffer>();
  for (const layer of Object.values(definition.layers ?? {})) {
    const artifact = layer.package?.artifact;
    if (artifact === undefined) continue;
    const label = `layers.${layer.key}.package.artifact ${artifact}`;
    const bytes = await readPrebuiltFile(resolve(opts.serviceDir, artifact), label);
    await checkLimits(bytes, label);
    layerPrebuilt.set(layer.key, bytes);
  }

  await mkdir(outDir, { recursive: true });
  await removeStaleZips(outDir);

  let candidates: CandidateFiles | undefined;
  const artifacts: ArtifactInfo[] = [];
  const functionArtifacts: Record<string, string> = {};
  const functionFiles: Record<string, string> = {};
  for (const plan of plans) {
    const path = join(outDir, plan.file);
    let written: { sha256: string; size: number };
    if (plan.kind === 'prebuilt') {
      const bytes = prebuilt.get(plan.file)!;
      await writeFile(path, bytes);
      written = { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
    } else {
      candidates ??= await collectCandidates({
        serviceDir: opts.serviceDir,
        configPath: opts.configPath,
        outDir,
        excludeDevDependencies: definition.package.excludeDevDependencies,
      });
      written = await writeDeterministicZip(
        await zipEntries(opts.serviceDir, plan, candidates),
        path,
      );
      // A zip the platform would refuse should fail here, not at deploy time.
      await checkLimits(await readFile(path), `${plan.file} (built)`);
    }
    artifacts.push({ file: plan.file, path, ...written });
    for (const key of plan.functions) {
      functionArtifacts[key] = written.sha256;
      functionFiles[key] = plan.file;
    }
  }

  const layerArtifacts: Record<string, string> = {};
  const layerFiles: Record<string, string> = {};
  for (const layer of Object.values(definition.layers ?? {})) {
    const file = layerZipName(layer);
    if (artifacts.some((a) => a.file === file)) {
      throw new PackagingError(
        'NIMBUS_PACKAGING_ARTIFACT_CONFLICT',
        `layer "${layer.key}" and a function artifact would both be written as ${file}; rename one`,
      );
    }
    const path = join(outDir, file);
    // Prebuilt layer zips were read before outDir was cleaned: one may live there.
    const written = await writeLayerZip(
      opts.serviceDir,
      layer,
      path,
      async () => layerPrebuilt.get(layer.key)!,
    );
    if (written.bytes) await writeFile(path, written.bytes);
    else await checkLimits(await readFile(path), `${file} (layer ${layer.key}, built)`);
    artifacts.push({ file, path, sha256: written.sha256, size: written.size });
    layerArtifacts[layer.key] = written.sha256;
    layerFiles[layer.key] = file;
  }
  artifacts.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const packaged = withLayerArtifacts(definition, layerArtifacts);

  const stateFile = await writeStateFile(outDir, {
    service: definition.service,
    stage: definition.stage,
    region: definition.region,
    individually: definition.package.individually,
    artifacts,
    functions: functionFiles,
    layers: layerFiles,
    definition: packaged,
  });
  return { artifacts, functionArtifacts, layerArtifacts, definition: packaged, stateFile };
}

async function zipEntries(
  serviceDir: string,
  plan: Extract<ArtifactPlan, { kind: 'zip' }>,
  candidates: CandidateFiles,
): Promise<ZipSource[]> {
  const bundles: ZipSource[] = [];
  for (const bundle of plan.bundles) {
    const content = await bundleTypeScript(serviceDir, bundle.handlerFile, bundle.functionKeys);
    bundles.push({ path: bundleOutputPath(bundle.handlerFile), content, executable: false });
  }
  // A bundle replaces a same-named file (say an old compiled src/handler.mjs).
  const bundled = new Set(bundles.map((b) => b.path));
  const byPath = new Map(candidates.files.map((f) => [f.path, f]));
  const selected = applyPatterns([...byPath.keys()], plan.patterns)
    .map((path) => byPath.get(path)!)
    .filter((f) => !candidates.isDevOnly(f) && !bundled.has(f.path));
  return [...selected, ...bundles];
}

async function readPrebuiltFile(source: string, label: string): Promise<Buffer> {
  try {
    return await readFile(source);
  } catch (err) {
    throw new PackagingError(
      'NIMBUS_PACKAGING_ARTIFACT_MISSING',
      `${label} cannot be read at ${source}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      { cause: err },
    );
  }
}

async function readPrebuilt(plan: Extract<ArtifactPlan, { kind: 'prebuilt' }>): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(plan.source);
  } catch (err) {
    throw new PackagingError(
      'NIMBUS_PACKAGING_ARTIFACT_MISSING',
      `package.artifact ${plan.configured} (for ${plan.functions.join(', ')}) cannot be read at ${plan.source}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      { cause: err },
    );
  }
  await checkLimits(bytes, `package.artifact ${plan.configured}`);
  return bytes;
}

/** inspectZip with the artifact named in the message, keeping the refusal's code. */
async function checkLimits(bytes: Buffer, label: string): Promise<void> {
  try {
    await inspectZip(bytes, lambdaZipLimits);
  } catch (err) {
    if (!(err instanceof ZipRejectedError)) throw err;
    throw new ZipRejectedError(err.code, `${label}: ${err.message}`, err.entry, { cause: err });
  }
}

/** Zips left by an earlier run would be mistaken for this run's artifacts. */
async function removeStaleZips(outDir: string): Promise<void> {
  for (const name of await readdir(outDir)) {
    if (name.endsWith('.zip')) await rm(join(outDir, name), { force: true });
  }
}
