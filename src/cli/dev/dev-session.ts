/**
 * `nimbus dev`: find (or start) a platform, deploy the service, stream its logs, and redeploy
 * whenever a file changes, until the signal aborts. docs/dev.md describes the behaviour.
 */
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import pino, { type Logger } from 'pino';
import { ApiError, ControlClient, NoPlatformError } from '../../client/control-client.js';
import type { LogLine } from '../../client/logs-client.js';
import type { ServiceStage } from '../../model/deployment.js';
import { defaultHost, defaultPort } from '../../platform/config.js';
import type { RunningPlatform } from '../../platform/server.js';
import type { LoadedService } from '../../service/load-service.js';
import { CliError } from '../cli-error.js';
import { deployLoaded } from '../commands/deploy.js';
import { printFunctions } from '../commands/info.js';
import type { CliContext, ServiceOptions } from '../context.js';
import { resolveEndpoint } from '../endpoint.js';
import { loadForCli } from '../load-for-cli.js';
import { recordLocalEndpoint } from '../local-endpoint.js';
import { formatLogLine } from '../log-format.js';
import { Output } from '../output.js';
import { pickLogFormat, prettyDestination } from '../pretty-log.js';
import { parseShutdownGrace } from '../shutdown-signals.js';
import { SerialDebouncer, systemTimers, type Timers } from './debounce.js';
import { LogTails } from './log-tails.js';
import { devIgnore, watchTree } from './watcher.js';

export interface DevOptions extends ServiceOptions {
  /** Port of the embedded platform, when one has to be started. */
  port?: string;
  /** Data dir of the embedded platform; default `<service dir>/.nimbus`. */
  dataDir?: string;
  /** How long the embedded platform lets work in flight finish on stop (default 10s). */
  shutdownGrace?: string;
  /** The embedded platform's own log lines: pretty on a terminal, else JSON. */
  logFormat?: string;
}

export interface DevHooks {
  /** Aborting stops the watcher, the log streams and the embedded platform. */
  signal: AbortSignal;
  /** Quiet period after the last change before redeploying. Default 75 ms. */
  debounceMs?: number;
  timers?: Timers;
  now?: () => number;
  /** After each deploy attempt (tests wait on it). */
  onDeploy?: (event: DevDeployEvent) => void;
  /** The embedded platform's logger; default pino at warn (info with --verbose) on stderr. */
  platformLogger?: Logger;
}

export type DevDeployEvent =
  | {
      ok: true;
      /** Nothing changed since the stage's current deployment: nothing was deployed. */
      skipped: boolean;
      /** Functions that got a new version, with it. */
      published: { key: string; version: number }[];
      removed: string[];
      ms: number;
    }
  | { ok: false; error: string };

export interface DevSession {
  endpoint: string;
  token: string | undefined;
  /** Set when dev started a platform of its own. */
  platform: RunningPlatform | undefined;
  serviceDir: string;
  /** Resolves once everything dev started has stopped (after the signal aborted). */
  closed: Promise<void>;
}

const defaultDebounceMs = 75;

/**
 * Starts a dev session: resolves once the service is deployed for the first time (or that
 * deploy failed and was reported) and the watcher runs. A broken serverless.yml at start is an
 * error (there is nothing to deploy or to learn the region from); later ones are reported and
 * the session goes on.
 */
export async function startDev(
  ctx: CliContext,
  opts: DevOptions,
  hooks: DevHooks,
): Promise<DevSession> {
  const out = new Output(ctx, opts);
  const now = hooks.now ?? Date.now;
  const sessionStart = now();
  const graceMs = parseShutdownGrace(opts.shutdownGrace);
  const first = await loadForCli(ctx, opts, out);
  const serviceDir = first.serviceDir;

  // Found or started below; closed (when started) on abort.
  let platform: RunningPlatform | undefined;
  let target: { endpoint: string; token?: string };
  const resolved = await resolveEndpoint(first.definition.region, ctx.env);
  const dataDir = resolve(ctx.cwd, opts.dataDir ?? join(serviceDir, '.nimbus'));
  if (await isPlatformAt(resolved.endpoint)) {
    target = resolved;
    out.log(`Using the Nimbus platform at ${resolved.endpoint}`);
  } else {
    out.detail(`No platform at ${resolved.endpoint} (${resolved.source}): starting one`);
    platform = await startEmbedded(ctx, opts, dataDir, hooks.platformLogger);
    target = { endpoint: platform.url, token: platform.adminToken };
    out.log(`Started a Nimbus platform on ${platform.url} (data dir ${dataDir})`);
    await recordLocalEndpoint(dataDir, platform.url);
    out.log(`Other terminals reach it with: export NIMBUS_DATA_DIR=${dataDir}`);
  }
  const client = new ControlClient(target);
  // Whatever lives in the service dir but is the platform's state must never be packaged.
  const stateDirs = ['.nimbus', ...insideDir(serviceDir, dataDir)];
  const color = Boolean(ctx.stderr.isTTY) && !ctx.env.NO_COLOR;
  const tails = new LogTails({
    endpoint: target.endpoint,
    ...(target.token ? { token: target.token } : {}),
    startTime: sessionStart,
    print: (key: string, line: LogLine) => {
      const text = formatLogLine(line.message, { color });
      if (text !== undefined) ctx.stderr.write(`${prefix(key, color)}${text}\n`);
    },
  });

  let deploys = 0;
  let endpoints: string[] | undefined;
  const deploy = async (): Promise<void> => {
    const started = now();
    const isFirst = deploys++ === 0;
    let loaded: LoadedService;
    try {
      loaded = isFirst ? first : await loadForCli(ctx, opts, out);
      const result = await deployLoaded(forDev(loaded, stateDirs), client, out, { force: false });
      const ms = now() - started;
      const stage = result.skipped ? result.current : result.response.service;
      const response = result.skipped ? undefined : result.response;
      const skipped = response === undefined || response.skipped;
      const published = (response?.changes ?? [])
        .filter((c) => c.kind === 'publish')
        .map((c) => ({ key: c.key, version: c.version }));
      const removed = response?.removed ?? [];
      report(out, { isFirst, skipped, published, removed, ms });
      if (isFirst) printFunctions(out, stage);
      else if (!sameList(endpoints, stage.endpoints)) printEndpoints(out, stage);
      endpoints = stage.endpoints;
      tails.sync(stage.functions.map((f) => ({ key: f.key, functionName: f.functionName })));
      hooks.onDeploy?.({ ok: true, skipped, published, removed, ms });
    } catch (error) {
      const message = describeError(error);
      out.log(`✖ ${message}`);
      hooks.onDeploy?.({ ok: false, error: message });
    }
  };

  const debouncer = new SerialDebouncer(
    deploy,
    hooks.debounceMs ?? defaultDebounceMs,
    hooks.timers ?? systemTimers,
  );
  const watcher = watchTree({
    root: serviceDir,
    ignore: devIgnore(insideDir(serviceDir, dataDir)),
    onChange: (rel) => {
      out.detail(`changed: ${rel}`);
      debouncer.trigger();
    },
  });
  out.detail(`watching ${watcher.size} directories under ${serviceDir}`);

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      watcher.close();
      await debouncer.stop();
      await tails.close();
      await platform?.close({ graceMs });
    })();
    return closed;
  };
  try {
    await debouncer.runNow();
  } catch (error) {
    await close();
    throw error;
  }
  out.log(`Watching ${serviceDir} for changes (Ctrl-C to stop)`);
  const stopped = new Promise<void>((done) => {
    if (hooks.signal.aborted) return done();
    hooks.signal.addEventListener('abort', () => done(), { once: true });
  }).then(close);
  return {
    endpoint: target.endpoint,
    token: target.token,
    platform,
    serviceDir,
    closed: stopped,
  };
}

/** GET /health answers: a platform is there (any version; auth is not needed for it). */
async function isPlatformAt(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint.replace(/\/+$/, '')}/health`, {
      signal: AbortSignal.timeout(2000),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

async function startEmbedded(
  ctx: CliContext,
  opts: DevOptions,
  dataDir: string,
  logger: Logger | undefined,
): Promise<RunningPlatform> {
  const port = parsePort(opts.port);
  // Imported here: dev against a running platform never loads the server and its drivers.
  const { startPlatform } = await import('../../platform/server.js');
  const asRoot = process.getuid?.() === 0;
  if (!asRoot) {
    // The developer's own machine: functions run as the developer, as `serverless offline` does.
    ctx.stderr.write(
      'Notice: not running as root, so functions run as your own user and are not isolated ' +
        'from each other or from the embedded platform (docs/security.md).\n',
    );
  }
  try {
    return await startPlatform({
      ...(asRoot ? {} : { isolation: 'none' as const }),
      host: defaultHost,
      port,
      dataDir,
      logger: logger ?? embeddedLogger(ctx, opts),
      ...(ctx.env.NIMBUS_ADMIN_TOKEN ? { adminToken: ctx.env.NIMBUS_ADMIN_TOKEN } : {}),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliError(`Port ${port} is already in use: pick another with --port`);
    }
    throw error;
  }
}

function embeddedLogger(ctx: CliContext, opts: DevOptions): Logger {
  const level = opts.verbose ? 'info' : 'warn';
  return pickLogFormat(opts.logFormat, ctx.stderr) === 'pretty'
    ? pino({ level }, prettyDestination(ctx.stderr, { color: !ctx.env.NO_COLOR }))
    : pino({ level }, ctx.stderr as NodeJS.WritableStream);
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined) return defaultPort;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) {
    throw new CliError(`--port must be an integer from 0 to 65535, not "${raw}"`);
  }
  return n;
}

/**
 * The service as dev deploys it: packaged individually, so that a change to one function's
 * files gives only that function a new version, and never with the platform's own state.
 */
export function forDev(loaded: LoadedService, stateDirs: string[]): LoadedService {
  const excludes = stateDirs.map((d) => `!${d}/**`);
  const definition = structuredClone(loaded.definition);
  definition.package.individually = true;
  // Last, so that no earlier pattern brings the state back.
  definition.package.patterns = [...definition.package.patterns, ...excludes];
  for (const fn of Object.values(definition.functions)) {
    if (fn.package && fn.package.patterns.length > 0) {
      fn.package.patterns = [...fn.package.patterns, ...excludes];
    }
  }
  return { ...loaded, definition, typeCheck: false };
}

/** `dir` relative to `root` (`/`-separated) when it lies inside it. */
function insideDir(root: string, dir: string): string[] {
  const rel = relative(root, dir);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return [];
  return [rel.split(sep).join('/')];
}

function report(
  out: Output,
  r: {
    isFirst: boolean;
    skipped: boolean;
    published: { key: string; version: number }[];
    removed: string[];
    ms: number;
  },
): void {
  const took = `${(r.ms / 1000).toFixed(2)}s`;
  if (r.skipped) {
    out.log(r.isFirst ? `✔ Already deployed (${took})` : 'No changes to deploy.');
    return;
  }
  const parts = r.published.map((p) => `${p.key} (version ${p.version})`);
  if (r.removed.length > 0) parts.push(`removed ${r.removed.join(', ')}`);
  const what = parts.length > 0 ? parts.join(', ') : 'no function changed';
  out.success(`${r.isFirst ? 'Deployed' : 'Redeployed'} in ${took}: ${what}`);
}

function printEndpoints(out: Output, stage: ServiceStage): void {
  if (stage.endpoints.length === 0) out.result('endpoints: none');
  else {
    out.result('endpoints:');
    for (const line of stage.endpoints) out.result(`  ${line}`);
  }
}

function sameList(a: string[] | undefined, b: string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

function prefix(key: string, color: boolean): string {
  return color ? `\u001b[36m${key}\u001b[39m │ ` : `${key} │ `;
}

/** One line, as main() would print it, without ending the session. */
function describeError(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code}, HTTP ${error.status})`;
  if (error instanceof CliError || error instanceof NoPlatformError) return error.message;
  return (error as Error)?.message ?? String(error);
}
