/**
 * A deployment's layers (docs/layers.md): publishes each `layers:` entry whose zip or settings
 * changed as the layer's next version, then resolves every function's `layers` list (`{Ref:
 * <Key>LambdaLayer}` or layer version ARNs) into the versions it runs with (`layerVersions`),
 * inside the deployment's transaction. Because `layerVersions` is part of a function version's
 * configuration, a new layer version publishes a new version of exactly the functions using it.
 */

import { NimbusError } from '../../errors/nimbus-error.js';
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import { canonicalJson, sha256Hex } from '../../model/canonical-hash.js';
import {
  layerLogicalId,
  layerRefName,
  layerVersionArn,
  maxLayersPerFunction,
  parseLayerVersionArn,
} from '../../model/layer-arn.js';
import type {
  FunctionDefinition,
  LayerDefinition,
  ResolvedLayer,
  ServiceDefinition,
} from '../../model/service-definition.js';
import type { LayerVersionRow, LayerVersionSettings, StoreWriter } from '../../store/store.js';

/** Lambda's cap on a function's code and all its layers, unzipped: 250 MB. */
export const maxUnzippedWithLayers = 262_144_000;

/** A reference the platform cannot resolve; `path` is the definition field (for file:line). */
export class LayerResolveError extends NimbusError {
  constructor(
    readonly path: (string | number)[],
    readonly detail: string,
  ) {
    super('NIMBUS_DEPLOY_BAD_REQUEST', `${path.join('.')}: ${detail}`);
  }
}

export interface StageLayerDeps {
  /** Zipped size of a blob (undefined: not stored). */
  size: (sha256: string) => Promise<number | undefined>;
  /** Unzipped size of a stored zip (declared sizes, checked at upload and at extraction). */
  unzippedSize: (sha256: string) => Promise<number>;
  now: string;
}

export function layerSettings(layer: LayerDefinition): LayerVersionSettings {
  const s: LayerVersionSettings = {};
  if (layer.description !== undefined) s.description = layer.description;
  if (layer.compatibleRuntimes) s.compatibleRuntimes = layer.compatibleRuntimes;
  if (layer.compatibleArchitectures) s.compatibleArchitectures = layer.compatibleArchitectures;
  if (layer.licenseInfo !== undefined) s.licenseInfo = layer.licenseInfo;
  return s;
}

export function layerSettingsSha(settings: LayerVersionSettings): string {
  return sha256Hex(canonicalJson(settings));
}

/**
 * Publishes the stage's layers where needed and returns each layer key's current version. A
 * layer whose newest version holds the same zip and settings is not published again; with
 * `retain: false` (the default, as in the Framework) the stage's older versions of it are
 * deleted once a new one is published. Functions keep running deleted versions (as on Lambda):
 * their versions carry the zip's hash.
 */
export async function publishStageLayers(
  tx: StoreWriter,
  definition: ServiceDefinition,
  deps: StageLayerDeps,
): Promise<Map<string, LayerVersionRow>> {
  const out = new Map<string, LayerVersionRow>();
  const owner = `${definition.service}/${definition.stage}`;
  for (const layer of Object.values(definition.layers ?? {})) {
    const sha = layer.artifact;
    if (sha === undefined) {
      throw new LayerResolveError(['layers', layer.key, 'artifact'], 'the layer was not packaged');
    }
    const codeSize = await deps.size(sha);
    if (codeSize === undefined) {
      throw new LayerResolveError(
        ['layers', layer.key, 'artifact'],
        `artifact ${sha} of layer "${layer.key}" was not uploaded`,
      );
    }
    const settings = layerSettings(layer);
    const configSha256 = layerSettingsSha(settings);
    const versions = await tx.listLayerVersions(layer.name);
    const newest = versions.at(-1);
    if (newest && newest.codeSha256 === sha && newest.configSha256 === configSha256) {
      out.set(layer.key, newest);
      continue;
    }
    const row = await tx.insertLayerVersion({
      name: layer.name,
      codeSha256: sha,
      codeSize,
      unzippedSize: await deps.unzippedSize(sha),
      settings,
      configSha256,
      owner,
      createdAt: deps.now,
    });
    if (!layer.retain) {
      for (const old of versions) {
        if (old.owner === owner) await tx.deleteLayerVersion(old.name, old.version);
      }
    }
    out.set(layer.key, row);
  }
  return out;
}

/**
 * Every function with `layers` gets `layerVersions` (in order; later layers override earlier
 * ones' files, as Lambda merges them into /opt); functions without get none. `layerVersions` a
 * request carried itself is never trusted: it is always recomputed here.
 */
export async function resolveFunctionLayers(
  tx: StoreWriter,
  definition: ServiceDefinition,
  published: Map<string, LayerVersionRow>,
  deps: Pick<StageLayerDeps, 'unzippedSize'>,
  codeOf: (fn: FunctionDefinition) => string | undefined,
  /**
   * The stage's current deployment: a version deleted since (DeleteLayerVersion, `retain:
   * false`) stays usable by the functions already running it, as on Lambda.
   */
  previous?: ServiceDefinition,
): Promise<ServiceDefinition> {
  const inUse = new Map<string, ResolvedLayer>();
  for (const fn of Object.values(previous?.functions ?? {})) {
    for (const layer of fn.layerVersions ?? []) inUse.set(layer.arn, layer);
  }
  const byId = new Map<string, LayerVersionRow>();
  for (const [key, row] of published) byId.set(layerLogicalId(key), row);
  const functions: Record<string, FunctionDefinition> = {};
  for (const [key, fn] of Object.entries(definition.functions)) {
    const { layerVersions: _untrusted, ...rest } = fn;
    const refs = fn.layers ?? [];
    if (refs.length === 0) {
      functions[key] = rest;
      continue;
    }
    const path = ['functions', key, 'layers'];
    if (refs.length > maxLayersPerFunction) {
      throw new LayerResolveError(
        path,
        `lists ${refs.length} layers; a function may use at most ${maxLayersPerFunction}`,
      );
    }
    const resolved: ResolvedLayer[] = [];
    for (const [i, ref] of refs.entries()) {
      const kept = typeof ref === 'string' ? inUse.get(ref) : undefined;
      if (kept && !(await exists(tx, ref as string))) {
        resolved.push(kept);
        continue;
      }
      const row = await resolveRef(tx, ref, byId, [...path, i]);
      resolved.push({
        // An ARN stays as written; a Ref becomes the ARN of the version this deployment uses.
        arn:
          typeof ref === 'string' ? ref : layerVersionArn(definition.region, row.name, row.version),
        codeSha256: row.codeSha256,
        codeSize: row.codeSize,
        unzippedSize: row.unzippedSize,
      });
    }
    const code = codeOf(fn);
    const codeUnzipped = code === undefined ? 0 : await deps.unzippedSize(code);
    const total = resolved.reduce((sum, l) => sum + l.unzippedSize, codeUnzipped);
    if (total > maxUnzippedWithLayers) {
      throw new LayerResolveError(
        path,
        `Function code combined with layers exceeds the maximum allowed size of ${maxUnzippedWithLayers} bytes. The actual size is ${total} bytes.`,
      );
    }
    functions[key] = { ...rest, layerVersions: resolved };
  }
  return { ...definition, functions };
}

async function exists(tx: StoreWriter, arn: string): Promise<boolean> {
  const address = parseLayerVersionArn(arn);
  return (
    address !== undefined && (await tx.getLayerVersion(address.name, address.version)) !== undefined
  );
}

async function resolveRef(
  tx: StoreWriter,
  ref: unknown,
  byId: Map<string, LayerVersionRow>,
  path: (string | number)[],
): Promise<LayerVersionRow> {
  const id = layerRefName(ref);
  if (id !== undefined) {
    const row = byId.get(id);
    if (!row) throw new LayerResolveError(path, `{Ref: ${id}} names no layer of this service`);
    return row;
  }
  if (typeof ref !== 'string') {
    throw new LayerResolveError(path, 'must be a layer version ARN or {Ref: <Name>LambdaLayer}');
  }
  const address = parseLayerVersionArn(ref);
  if (!address) {
    throw new LayerResolveError(path, `"${ref}" is not a layer version ARN`);
  }
  const row =
    address.account === NIMBUS_ACCOUNT_ID
      ? await tx.getLayerVersion(address.name, address.version)
      : undefined;
  if (!row) throw new LayerResolveError(path, `Layer version ${ref} does not exist.`);
  return row;
}

/**
 * `nimbus remove`: the versions the stage published of its layers go with it, except layers
 * with `retain: true` (the Framework's DeletionPolicy: Retain). Functions of other stages that
 * run them keep running them (their versions carry the zips).
 */
export async function removeStageLayers(
  tx: StoreWriter,
  definition: ServiceDefinition | undefined,
): Promise<void> {
  if (!definition) return;
  const owner = `${definition.service}/${definition.stage}`;
  for (const layer of Object.values(definition.layers ?? {})) {
    if (layer.retain) continue;
    for (const row of await tx.listLayerVersions(layer.name)) {
      if (row.owner === owner) await tx.deleteLayerVersion(row.name, row.version);
    }
  }
}
