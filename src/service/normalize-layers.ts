/**
 * `layers:` definitions and the `layers:` lists of functions and the provider (docs/layers.md).
 * A reference is `{Ref: <Key>LambdaLayer}` (a layer of this service, by the Serverless
 * Framework's logical id) or a layer version ARN; the platform resolves both at deploy.
 */
import {
  layerLogicalId,
  layerNamePattern,
  layerRefName,
  maxLayersPerFunction,
  parseLayerVersionArn,
} from '../model/layer-arn.js';
import type { LayerDefinition } from '../model/service-definition.js';
import type { NormalizeContext } from './context.js';
import { packagePatterns } from './normalize-package.js';
import type { PropertyPath } from './property-path.js';
import { checkRuntime } from './runtimes.js';
import type { LayerInput } from './schema/layer-schema.js';

const LAYER_KEY = /^[a-zA-Z0-9_-]+$/;
const architectures = new Set(['x86_64', 'arm64']);

export function normalizeLayers(
  raw: Record<string, LayerInput> | null | undefined,
  ctx: NormalizeContext,
): Record<string, LayerDefinition> | undefined {
  if (!raw || Object.keys(raw).length === 0) return undefined;
  const out: Record<string, LayerDefinition> = {};
  const byName = new Map<string, string>();
  for (const [key, layer] of Object.entries(raw)) {
    const path = ['layers', key];
    if (!LAYER_KEY.test(key)) {
      throw ctx.locator.error(
        'NIMBUS_CONFIG_INVALID',
        path,
        `layer name "${key}" may contain only letters, digits, hyphens and underscores`,
        true,
      );
    }
    const name = layer.name ?? key;
    if (!layerNamePattern.test(name)) {
      throw ctx.locator.error(
        'NIMBUS_CONFIG_INVALID',
        layer.name ? [...path, 'name'] : path,
        `layer name "${name}" must be 1 to 140 letters, digits, hyphens or underscores`,
        !layer.name,
      );
    }
    const clash = byName.get(name);
    if (clash) {
      throw ctx.locator.error(
        'NIMBUS_CONFIG_DUPLICATE',
        layer.name ? [...path, 'name'] : path,
        `layer name "${name}" is already used by layer "${clash}"`,
        !layer.name,
      );
    }
    byName.set(name, key);
    if (layer.path === undefined && layer.package?.artifact === undefined) {
      throw ctx.locator.error(
        'NIMBUS_CONFIG_INVALID',
        path,
        'a layer needs a path (the directory to zip) or package.artifact',
        true,
      );
    }
    if (layer.path !== undefined && !relativeInside(layer.path)) {
      throw ctx.locator.error(
        'NIMBUS_CONFIG_INVALID',
        [...path, 'path'],
        `"${layer.path}" must be a directory inside the service (no absolute path, no .. segment)`,
      );
    }
    (layer.compatibleRuntimes ?? []).forEach((runtime, i) => {
      if (!checkRuntime(runtime).ok) {
        throw ctx.locator.error(
          'NIMBUS_CONFIG_RUNTIME',
          [...path, 'compatibleRuntimes', i],
          `"${runtime}" is not a runtime Nimbus runs`,
        );
      }
    });
    (layer.compatibleArchitectures ?? []).forEach((arch, i) => {
      if (!architectures.has(arch)) {
        throw ctx.locator.error(
          'NIMBUS_CONFIG_INVALID',
          [...path, 'compatibleArchitectures', i],
          `"${arch}" must be x86_64 or arm64`,
        );
      }
    });
    const def: LayerDefinition = { key, name, retain: layer.retain ?? false };
    if (layer.path !== undefined) def.path = trimSlashes(layer.path);
    if (layer.description !== undefined) def.description = layer.description;
    if (layer.compatibleRuntimes) def.compatibleRuntimes = layer.compatibleRuntimes;
    if (layer.compatibleArchitectures) def.compatibleArchitectures = layer.compatibleArchitectures;
    if (layer.licenseInfo !== undefined) def.licenseInfo = layer.licenseInfo;
    if (layer.package) {
      def.package = { patterns: packagePatterns(layer.package, [...path, 'package'], ctx) };
      if (layer.package.artifact !== undefined) def.package.artifact = layer.package.artifact;
    }
    out[key] = def;
  }
  return out;
}

/**
 * Checks a function's layer list (its own `layers`, else provider.layers, as the Framework takes
 * one or the other): at most 5, each a `{Ref}` to a layer of this service or a layer version ARN.
 * `path` is where the list was written, so an error points at that line.
 */
export function checkLayerRefs(
  refs: unknown[],
  path: PropertyPath,
  knownIds: ReadonlySet<string>,
  ctx: NormalizeContext,
): unknown[] {
  if (refs.length > maxLayersPerFunction) {
    throw ctx.locator.error(
      'NIMBUS_CONFIG_INVALID',
      path,
      `lists ${refs.length} layers; a function may use at most ${maxLayersPerFunction}`,
    );
  }
  refs.forEach((ref, i) => {
    const problem = layerRefProblem(ref, knownIds);
    if (problem) throw ctx.locator.error('NIMBUS_CONFIG_INVALID', [...path, i], problem);
  });
  return refs;
}

/** Why `ref` is not a usable layer reference, or undefined. */
export function layerRefProblem(ref: unknown, knownIds: ReadonlySet<string>): string | undefined {
  if (typeof ref === 'string') {
    return parseLayerVersionArn(ref)
      ? undefined
      : `"${ref}" is not a layer version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)`;
  }
  const id = layerRefName(ref);
  if (id === undefined) {
    return 'must be a layer version ARN or {Ref: <Name>LambdaLayer}';
  }
  if (!knownIds.has(id)) {
    const known = [...knownIds].sort();
    return `{Ref: ${id}} names no layer of this service${known.length > 0 ? ` (layers: ${known.join(', ')})` : ' (it has no layers:)'}`;
  }
  return undefined;
}

export function layerIds(layers: Record<string, LayerDefinition> | undefined): Set<string> {
  return new Set(Object.keys(layers ?? {}).map(layerLogicalId));
}

function relativeInside(path: string): boolean {
  return (
    path.length > 0 &&
    !path.startsWith('/') &&
    !path.includes('\\') &&
    !path.split('/').some((segment) => segment === '..')
  );
}

function trimSlashes(path: string): string {
  const trimmed = path.replace(/\/+$/, '').replace(/^\.\//, '');
  return trimmed === '' ? '.' : trimmed;
}
