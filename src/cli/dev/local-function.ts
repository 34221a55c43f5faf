/**
 * One function of the service in cwd, run once on this machine through the same packaging and
 * runtime bootstrap the platform uses (for `nimbus invoke local`), but with no platform: no
 * store, no blob store, no network. Everything it makes lives in one temp dir, removed by close().
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FunctionTarget, LogEvent } from '../../model/invocation.js';
import type { FunctionDefinition } from '../../model/service-definition.js';
import { packageService } from '../../packaging/package-service.js';
import { makeTreeReadable } from '../../packaging/readable-tree.js';
import { extractZip, lambdaZipLimits } from '../../packaging/zip-safety.js';
import { type Instance, type RunAs, startInstance } from '../../platform/pool/instance.js';
import type { LoadedService } from '../../service/load-service.js';

/** The unprivileged user the platform runs functions as when it runs as root. */
const nobody: RunAs = { uid: 65534, gid: 65534 };

/** Lambda's name for the unpublished version; a local run has no published one. */
export const localVersion = '$LATEST';

export interface LocalFunctionOptions {
  loaded: LoadedService;
  fn: FunctionDefinition;
  /** Added to the function's own environment, winning over it (`-e K=V`, IS_LOCAL). */
  env: Record<string, string>;
  onLog: (event: LogEvent) => void;
}

export interface LocalFunction {
  target: FunctionTarget;
  instance: Instance;
  /** Stops the process and removes every file made for this run; safe to call twice. */
  close(): Promise<void>;
}

export async function startLocalFunction(opts: LocalFunctionOptions): Promise<LocalFunction> {
  const { loaded, fn } = opts;
  const root = await mkdtemp(join(tmpdir(), 'nimbus-local-'));
  let instance: Instance | undefined;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      if (instance) {
        instance.kill();
        await instance.closed;
      }
      await rm(root, { recursive: true, force: true });
    })();
    return closing;
  };
  try {
    // 0711 as the platform's run root: the function user passes through, cannot list.
    await chmod(root, 0o711);
    const codeDir = await buildCode(loaded, fn, root);
    const target: FunctionTarget = {
      functionName: fn.name,
      version: localVersion,
      runtime: fn.runtime,
      runtimeFamily: fn.runtimeFamily,
      handler: fn.handler,
      memorySize: fn.memorySize,
      timeout: fn.timeout,
      environment: { ...fn.environment, ...opts.env },
      region: loaded.definition.region,
      codeDir,
    };
    const tmpRoot = join(root, 'tmp');
    await mkdir(tmpRoot, { mode: 0o711 });
    instance = await startInstance({
      target,
      instanceId: randomUUID().replaceAll('-', ''),
      tmpRoot,
      onLog: opts.onLog,
      ...(process.getuid?.() === 0 ? { runAsUser: nobody } : {}),
    });
    return { target, instance, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Packages only this function (so only its TypeScript is bundled) and extracts its artifact, as
 * the platform's code cache would: the function sees exactly what a deploy would ship.
 */
async function buildCode(loaded: LoadedService, fn: FunctionDefinition, root: string) {
  const outDir = join(root, 'package');
  const definition = { ...loaded.definition, functions: { [fn.key]: fn } };
  const packaged = await packageService({
    serviceDir: loaded.serviceDir,
    configPath: loaded.configPath,
    definition,
    outDir,
  });
  const sha = packaged.functionArtifacts[fn.key];
  const artifact = packaged.artifacts.find((a) => a.sha256 === sha)!;
  const codeDir = join(root, 'code');
  await extractZip(await readFile(artifact.path), codeDir, lambdaZipLimits);
  await makeTreeReadable(codeDir);
  // The zips are not needed once extracted; the function user must not read them either way.
  await rm(outDir, { recursive: true, force: true });
  return codeDir;
}
