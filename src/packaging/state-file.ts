import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../model/canonical-hash.js';
import type { ServiceDefinition } from '../model/service-definition.js';

export interface StateArtifact {
  file: string;
  sha256: string;
  size: number;
}

export interface ServiceState {
  service: string;
  stage: string;
  region: string;
  individually: boolean;
  artifacts: readonly StateArtifact[];
  /** Function key -> artifact file name. */
  functions: Readonly<Record<string, string>>;
  /** Layer key -> zip file name. */
  layers?: Readonly<Record<string, string>>;
  /** The resolved definition, so `deploy --package` needs neither the sources nor variables. */
  definition: ServiceDefinition;
}

export const stateFileName = 'serverless-state.json';

/**
 * Writes outDir/serverless-state.json, the record `deploy --package` reads instead of packaging
 * again. Keys are written in a fixed order (artifacts by file, functions by key) so the file is
 * as reproducible as the zips.
 */
export async function writeStateFile(outDir: string, state: ServiceState): Promise<string> {
  const byKey = <T>(a: [string, T], b: [string, T]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  const document = {
    service: state.service,
    stage: state.stage,
    region: state.region,
    package: {
      individually: state.individually,
      artifacts: [...state.artifacts]
        .sort((a, b) => byKey([a.file, 0], [b.file, 0]))
        .map(({ file, sha256, size }) => ({ file, sha256, size })),
    },
    functions: Object.fromEntries(
      Object.entries(state.functions)
        .sort(byKey)
        .map(([key, file]) => [key, { artifact: file }]),
    ),
    ...(state.layers && Object.keys(state.layers).length > 0
      ? {
          layers: Object.fromEntries(
            Object.entries(state.layers)
              .sort(byKey)
              .map(([key, file]) => [key, { artifact: file }]),
          ),
        }
      : {}),
    definition: JSON.parse(canonicalJson(state.definition)),
  };
  const path = join(outDir, stateFileName);
  await writeFile(path, `${JSON.stringify(document, null, 2)}\n`);
  return path;
}
