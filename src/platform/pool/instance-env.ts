/**
 * A function process's whole environment, built from nothing: the platform's own process.env is
 * never inherited, so its secrets cannot reach a function.
 */
import { join } from 'node:path';
import type { FunctionTarget } from '../../model/invocation.js';

/** What every runtime process starts with, before it knows which function it will run. */
export interface BaseEnvironment {
  /** The instance's own writable temp dir (HOME and TMPDIR). */
  tmpDir: string;
  /** Where the bootstrap lives (LAMBDA_RUNTIME_DIR). */
  runtimeDir: string;
  /** Directories put ahead of the system ones on PATH (the interpreter's own bin dir). */
  pathPrefix?: string[];
}

export interface FunctionEnvironment extends BaseEnvironment {
  target: FunctionTarget;
  logStreamName: string;
  initializationType: 'on-demand' | 'provisioned-concurrency';
  /** `host:port` of the Runtime API; provided runtimes only. */
  runtimeApi?: string;
}

const SYSTEM_PATH = ['/usr/local/bin', '/usr/bin', '/bin'];

/** Unreserved variables: the function's own environment may override these. */
export function baseEnvironment(b: BaseEnvironment): Record<string, string> {
  const path = [...(b.pathPrefix ?? []), ...SYSTEM_PATH].filter(
    (p, i, all) => all.indexOf(p) === i,
  );
  return {
    PATH: path.join(':'),
    LANG: 'en_US.UTF-8',
    TZ: 'UTC',
    HOME: b.tmpDir,
    TMPDIR: b.tmpDir,
    LAMBDA_RUNTIME_DIR: b.runtimeDir,
  };
}

/**
 * Lambda's reserved variables win over the function's own; the unreserved ones (TZ, LANG, PATH,
 * HOME, TMPDIR) and the platform's AWS endpoints and credentials are defaults the function may
 * override (as Lambda lets functions set AWS_ENDPOINT_URL).
 */
export function functionEnvironment(f: FunctionEnvironment): Record<string, string> {
  const t = f.target;
  const reserved: Record<string, string> = {
    _HANDLER: t.handler,
    AWS_REGION: t.region,
    AWS_DEFAULT_REGION: t.region,
    AWS_LAMBDA_FUNCTION_NAME: t.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: t.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(t.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: logGroupName(t.functionName),
    AWS_LAMBDA_LOG_STREAM_NAME: f.logStreamName,
    AWS_LAMBDA_INITIALIZATION_TYPE: f.initializationType,
    LAMBDA_TASK_ROOT: t.codeDir,
    LAMBDA_RUNTIME_DIR: f.runtimeDir,
  };
  // Lambda sets no AWS_EXECUTION_ENV for custom runtimes.
  if (t.runtimeFamily !== 'provided') reserved.AWS_EXECUTION_ENV = `AWS_Lambda_${t.runtime}`;
  if (f.runtimeApi !== undefined) reserved.AWS_LAMBDA_RUNTIME_API = f.runtimeApi;
  const base = baseEnvironment(f);
  if (t.layersDir !== undefined) reserved.NIMBUS_LAYERS_ROOT = t.layersDir;
  const layers = t.layersDir === undefined ? {} : layerSearchPaths(t, t.layersDir, base.PATH!);
  return { ...base, ...layers, ...t.platformEnvironment, ...t.environment, ...reserved };
}

/**
 * Where Lambda's runtimes look in /opt, pointed at the function's merged layer tree instead
 * (docs/layers.md). The function's own code comes first everywhere (its node_modules, its
 * directory on sys.path, its lib/), as on Lambda. Unreserved: a function may set its own.
 */
function layerSearchPaths(t: FunctionTarget, root: string, path: string): Record<string, string> {
  const env: Record<string, string> = {
    // Lambda: PATH ends with /opt/bin; LD_LIBRARY_PATH has /var/task/lib before /opt/lib.
    PATH: `${path}:${join(root, 'bin')}`,
    LD_LIBRARY_PATH: `${join(t.codeDir, 'lib')}:${join(root, 'lib')}`,
  };
  if (t.runtimeFamily === 'nodejs') {
    const major = /^nodejs(\d+)/.exec(t.runtime)?.[1];
    env.NODE_PATH = [
      ...(major ? [join(root, 'nodejs', `node${major}`, 'node_modules')] : []),
      join(root, 'nodejs', 'node_modules'),
    ].join(':');
  } else if (t.runtimeFamily === 'python') {
    const version = /^python(3\.\d+)/.exec(t.runtime)?.[1];
    env.PYTHONPATH = [
      ...(version ? [join(root, 'python', 'lib', `python${version}`, 'site-packages')] : []),
      join(root, 'python'),
    ].join(':');
  }
  return env;
}

export function logGroupName(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}

/** Unqualified functions have no account in Nimbus: the account field is all zeros. */
export function functionArn(t: FunctionTarget): string {
  return `arn:aws:lambda:${t.region}:000000000000:function:${t.functionName}:${t.version}`;
}
