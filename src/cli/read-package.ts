import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServiceDefinition } from '../model/service-definition.js';
import { stateFileName } from '../packaging/state-file.js';
import { CliError } from './cli-error.js';

/** What `deploy --package` deploys: the recorded definition and the zips beside it. */
export interface PackagedService {
  definition: ServiceDefinition;
  artifacts: { file: string; path: string; sha256: string }[];
  functionArtifacts: Record<string, string>;
}

interface StateDocument {
  service?: unknown;
  stage?: unknown;
  package?: { artifacts?: { file?: unknown; sha256?: unknown }[] };
  functions?: Record<string, { artifact?: unknown }>;
  definition?: ServiceDefinition;
}

/**
 * Reads `<dir>/serverless-state.json` as `nimbus package` wrote it and checks every zip still
 * hashes to what was recorded, so a package edited after the fact is refused, not deployed.
 */
export async function readPackage(dir: string): Promise<PackagedService> {
  const statePath = join(dir, stateFileName);
  let doc: StateDocument;
  try {
    doc = JSON.parse(await readFile(statePath, 'utf8')) as StateDocument;
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new CliError(`No package in ${dir}: cannot read ${stateFileName} (${why})`);
  }
  const definition = doc.definition;
  if (
    !definition ||
    typeof definition.service !== 'string' ||
    definition.service !== doc.service ||
    definition.stage !== doc.stage ||
    typeof definition.functions !== 'object' ||
    !Array.isArray(doc.package?.artifacts) ||
    typeof doc.functions !== 'object'
  ) {
    throw new CliError(
      `${stateFileName} in ${dir} was not written by this version of 'nimbus package': package again`,
    );
  }
  const artifacts: PackagedService['artifacts'] = [];
  const byFile = new Map<string, string>();
  for (const recorded of doc.package.artifacts) {
    const file = String(recorded.file);
    if (file.includes('/') || file.includes('\\') || file.startsWith('.')) {
      throw new CliError(`${stateFileName} names an artifact outside the package: ${file}`);
    }
    const path = join(dir, file);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      throw new CliError(`Package artifact ${file} is missing from ${dir}`);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== recorded.sha256) {
      throw new CliError(`Package artifact ${file} changed after packaging: package again`);
    }
    artifacts.push({ file, path, sha256 });
    byFile.set(file, sha256);
  }
  const functionArtifacts: Record<string, string> = {};
  for (const key of Object.keys(definition.functions)) {
    const sha = byFile.get(String(doc.functions[key]?.artifact));
    if (!sha) throw new CliError(`${stateFileName} has no artifact for function "${key}"`);
    functionArtifacts[key] = sha;
  }
  return { definition, artifacts, functionArtifacts };
}
