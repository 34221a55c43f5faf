import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import yauzl from 'yauzl';
import type { FunctionDefinition, ServiceDefinition } from '../../src/model/service-definition.js';

/** Test-only builders: a ServiceDefinition as src/service would produce it, and zip readers. */

export function fn(
  key: string,
  handlerFile: string,
  extra: Partial<FunctionDefinition> = {},
): FunctionDefinition {
  const exportName = 'hello';
  return {
    key,
    name: `svc-dev-${key}`,
    handler: `${handlerFile.replace(/\.[^.]+$/, '')}.${exportName}`,
    runtime: 'nodejs20.x',
    runtimeFamily: 'nodejs',
    memorySize: 1024,
    timeout: 6,
    environment: {},
    events: [],
    handlerFile,
    ...extra,
  };
}

export function definition(
  functions: FunctionDefinition[],
  pkg: Partial<ServiceDefinition['package']> = {},
): ServiceDefinition {
  return {
    service: 'svc',
    stage: 'dev',
    region: 'local',
    provider: {
      name: 'nimbus',
      runtime: 'nodejs20.x',
      memorySize: 1024,
      timeout: 6,
      environment: {},
    },
    functions: Object.fromEntries(functions.map((f) => [f.key, f])),
    package: { patterns: [], individually: false, excludeDevDependencies: true, ...pkg },
    plugins: [],
    custom: {},
  };
}

export type TreeFile = string | { content: string | Buffer; mode: number };

/** Writes files (relative path -> content) under dir, creating folders. */
export async function writeTree(dir: string, files: Record<string, TreeFile>): Promise<void> {
  for (const [rel, file] of Object.entries(files)) {
    const path = join(dir, rel);
    await mkdir(dirname(path), { recursive: true });
    if (typeof file === 'string') await writeFile(path, file);
    else {
      await writeFile(path, file.content);
      await chmod(path, file.mode);
    }
  }
}

export interface ZipListing {
  name: string;
  mode: number;
  content: Buffer;
  dosDate: number;
  dosTime: number;
  extraFieldLength: number;
}

export async function readZip(path: string): Promise<ZipListing[]> {
  const zip = await yauzl.fromBufferPromise(await readFile(path));
  const out: ZipListing[] = [];
  for await (const entry of zip.eachEntry()) {
    const chunks: Buffer[] = [];
    for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
    out.push({
      name: entry.fileName,
      mode: entry.externalFileAttributes >>> 16,
      content: Buffer.concat(chunks),
      dosDate: entry.lastModFileDate,
      dosTime: entry.lastModFileTime,
      extraFieldLength: entry.extraFieldLength,
    });
  }
  return out;
}

export async function zipNames(path: string): Promise<string[]> {
  return (await readZip(path)).map((e) => e.name);
}
