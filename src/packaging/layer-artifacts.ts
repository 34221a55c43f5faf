/**
 * Layer zips (docs/layers.md): each `layers:` entry's `path` directory, its files at the root of
 * the zip (`nodejs/node_modules/...`, `python/...`, `bin/...`), as the Serverless Framework
 * zips it; or its prebuilt `package.artifact`.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LayerDefinition, ServiceDefinition } from '../model/service-definition.js';
import { writeDeterministicZip } from './deterministic-zip.js';
import { PackagingError } from './errors.js';
import { applyPatterns, isAlwaysExcludedFile, isAlwaysPrunedDir } from './select-files.js';
import { walkFiles } from './walk-files.js';

/** The zip a layer is written as in outDir (the Framework's name). */
export function layerZipName(layer: LayerDefinition): string {
  return `${layer.key}.zip`;
}

/**
 * Patterns that keep every layer's directory out of the functions' zips (the Framework excludes
 * them too): the layer ships that code, the function need not. First, so a user pattern may
 * bring a file back.
 */
export function layerExcludePatterns(definition: ServiceDefinition): string[] {
  return Object.values(definition.layers ?? {})
    .filter((l) => l.path !== undefined && l.path !== '.' && l.package?.artifact === undefined)
    .map((l) => `!${l.path}/**`);
}

/** Writes one layer's zip to `path` (or copies its prebuilt artifact); returns the bytes' hash. */
export async function writeLayerZip(
  serviceDir: string,
  layer: LayerDefinition,
  path: string,
  readPrebuilt: (source: string, label: string) => Promise<Buffer>,
): Promise<{ sha256: string; size: number; bytes?: Buffer }> {
  if (layer.package?.artifact !== undefined) {
    const bytes = await readPrebuilt(
      resolve(serviceDir, layer.package.artifact),
      `layers.${layer.key}.package.artifact ${layer.package.artifact}`,
    );
    return {
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
      bytes,
    };
  }
  const dir = join(serviceDir, layer.path ?? '.');
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new PackagingError(
      'NIMBUS_PACKAGING_ARTIFACT_MISSING',
      `layers.${layer.key}.path ${layer.path} is not a directory of the service`,
    );
  }
  const files = (await walkFiles(dir, { pruneDir: isAlwaysPrunedDir })).filter(
    (f) => !isAlwaysExcludedFile(f.path),
  );
  const byPath = new Map(files.map((f) => [f.path, f]));
  const selected = applyPatterns([...byPath.keys()], layer.package?.patterns ?? []).map(
    (p) => byPath.get(p)!,
  );
  if (selected.length === 0) {
    throw new PackagingError(
      'NIMBUS_PACKAGING_ARTIFACT_MISSING',
      `layers.${layer.key}: ${layer.path} holds no file to package`,
    );
  }
  return writeDeterministicZip(selected, path);
}
