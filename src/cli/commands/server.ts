import { resolve } from 'node:path';
import pino from 'pino';
import { defaultDataDir, defaultHost, defaultPort } from '../../platform/config.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { parseDuration } from '../duration.js';
import { Output } from '../output.js';
import { onShutdownSignal, parseShutdownGrace } from '../shutdown-signals.js';

export interface ServerOptions {
  host?: string;
  port?: string;
  dataDir?: string;
  databaseUrl?: string;
  retainDeployments?: string;
  idleTimeout?: string;
  maxInstances?: string;
  logRetention?: string;
  asyncRetryDelay?: string;
  asyncLease?: string;
  shutdownGrace?: string;
  isolation?: string;
  functionUids?: string;
}

/** `nimbus server`: runs the platform in the foreground until SIGINT/SIGTERM. */
export async function serverCommand(ctx: CliContext, opts: ServerOptions): Promise<void> {
  const out = new Output(ctx, {});
  const port = parseInteger('--port', opts.port, defaultPort, 0, 65535);
  const retain = parseInteger('--retain-deployments', opts.retainDeployments, 5, 1, 1000);
  const idleTimeoutMs = durationOption('--idle-timeout', opts.idleTimeout, 5 * 60_000);
  const logRetentionMs = durationOption('--log-retention', opts.logRetention, 7 * 86_400_000);
  const asyncRetryDelayMs = durationOption('--async-retry-delay', opts.asyncRetryDelay, 60_000);
  const asyncLeaseMs = durationOption('--async-lease', opts.asyncLease, 30_000);
  const maxInstances = parseInteger('--max-instances', opts.maxInstances, 100, 1, 10_000);
  const graceMs = parseShutdownGrace(opts.shutdownGrace);
  if (opts.isolation !== undefined && opts.isolation !== 'uids' && opts.isolation !== 'none') {
    throw new CliError(`--isolation must be uids or none, not "${opts.isolation}"`);
  }
  const { parseUidRange } = await import('../../platform/isolation/uid-range.js');
  const functionUids =
    opts.functionUids === undefined ? undefined : parseUidRange(opts.functionUids);
  const logger = pino({ level: 'info' }, pino.destination(2));
  const dataDir = resolve(ctx.cwd, opts.dataDir ?? defaultDataDir(ctx.env));
  const databaseUrl = opts.databaseUrl ?? ctx.env.NIMBUS_DATABASE_URL;
  // Imported here so that commands which never start a server stay quick to launch.
  const { startPlatform } = await import('../../platform/server.js');
  let platform: Awaited<ReturnType<typeof startPlatform>>;
  try {
    platform = await startPlatform({
      host: opts.host ?? defaultHost,
      port,
      dataDir,
      logger,
      ...(databaseUrl ? { databaseUrl } : {}),
      ...(ctx.env.NIMBUS_ADMIN_TOKEN ? { adminToken: ctx.env.NIMBUS_ADMIN_TOKEN } : {}),
      ...(ctx.env.NIMBUS_MASTER_KEY ? { masterKey: ctx.env.NIMBUS_MASTER_KEY } : {}),
      retainDeployments: retain,
      idleTimeoutMs,
      logRetentionMs,
      maxInstances,
      asyncRetryDelayMs,
      asyncLeaseMs,
      ...(opts.isolation ? { isolation: opts.isolation } : {}),
      ...(functionUids ? { functionUids } : {}),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new CliError(`Port ${port} is already in use: pick another with --port`);
    throw error;
  }
  out.log(`Nimbus platform listening on ${platform.url}`);
  out.log(`Data dir: ${dataDir}`);
  out.log(
    ctx.env.NIMBUS_ADMIN_TOKEN
      ? 'Admin token: from NIMBUS_ADMIN_TOKEN'
      : `Admin token: in ${platform.adminTokenFile} (mode 0600)`,
  );
  let stopping: Promise<void> | undefined;
  await new Promise<void>((done) => {
    const removeHandlers = onShutdownSignal(
      () => {
        out.log(`Shutting down (grace ${graceMs} ms)`);
        stopping ??= platform
          .close({ graceMs })
          .catch((error: unknown) => logger.error({ err: error }, 'stopping the platform failed'))
          .finally(() => {
            removeHandlers();
            done();
          });
      },
      (reason) => logger.error({ err: reason }, 'unhandled promise rejection'),
    );
  });
  out.log('Stopped');
}

function durationOption(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const ms = parseDuration(raw);
  if (ms === undefined || ms <= 0) {
    throw new CliError(`${flag} must be a duration such as 30s, 5m or 1h, not "${raw}"`);
  }
  return ms;
}

function parseInteger(
  flag: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new CliError(`${flag} must be an integer from ${min} to ${max}, not "${raw}"`);
  }
  return n;
}
