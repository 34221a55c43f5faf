import { resolve } from 'node:path';
import pino from 'pino';
import { parseDuration } from '../../model/duration.js';
import { defaultDataDir, defaultHost, defaultPort } from '../../platform/config.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { endpointFileName, recordLocalEndpoint } from '../local-endpoint.js';
import { Output } from '../output.js';
import { pickLogFormat, prettyDestination } from '../pretty-log.js';
import { onShutdownSignal, parseShutdownGrace } from '../shutdown-signals.js';

export interface ServerOptions {
  host?: string;
  port?: string;
  dataDir?: string;
  databaseUrl?: string;
  sqliteSynchronous?: string;
  nodeName?: string;
  natsUrl?: string;
  natsPrefix?: string;
  blobs?: string;
  blobsEndpoint?: string;
  blobsRegion?: string;
  blobsPathStyle?: string;
  retainDeployments?: string;
  idleTimeout?: string;
  maxInstances?: string;
  logRetention?: string;
  asyncRetryDelay?: string;
  asyncLease?: string;
  shutdownGrace?: string;
  logFormat?: string;
  isolation?: string;
  functionUids?: string;
  metricsToken?: string;
  networkGuard?: boolean;
  trustedProxies?: string;
  otlpEndpoint?: string;
  otlpSampleRatio?: string;
  networkGuardDeny?: string;
  mqttPort?: string;
  mqttUrl?: string;
  smtpUrl?: string;
  smtpFrom?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsPort?: string;
  tlsDomain?: string[];
  tlsRedirect?: boolean;
}

/** `--tls-domain api.example.com=cert.pem,key.pem` (a `*.example.com` host covers one label). */
export function tlsDomainOption(
  cwd: string,
  value: string,
): { host: string; certFile: string; keyFile: string } {
  const match = /^((?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*)=([^,]+),([^,]+)$/i.exec(value.trim());
  if (!match) {
    throw new CliError(
      `--tls-domain ${value}: expected host=cert.pem,key.pem (host a DNS name or *.name)`,
    );
  }
  return {
    host: match[1]!.toLowerCase(),
    certFile: resolve(cwd, match[2]!),
    keyFile: resolve(cwd, match[3]!),
  };
}

/**
 * `--blobs s3://bucket[/prefix]` with `--blobs-endpoint`, `--blobs-region`, `--blobs-path-style`
 * (or NIMBUS_BLOBS_ENDPOINT, _REGION, _PATH_STYLE) and the keys from NIMBUS_BLOBS_ACCESS_KEY_ID
 * and NIMBUS_BLOBS_SECRET_ACCESS_KEY (never flags: a flag shows in `ps`), else the AWS SDK's own
 * chain (AWS_ACCESS_KEY_ID, profiles, instance roles). docs/cluster.md#blobs-on-s3.
 */
async function blobsOption(
  ctx: CliContext,
  opts: ServerOptions,
  blobs: string | undefined,
): Promise<
  'local' | 'postgres' | import('../../blob/s3-blob-store.js').S3BlobsOptions | undefined
> {
  const endpoint = opts.blobsEndpoint ?? ctx.env.NIMBUS_BLOBS_ENDPOINT;
  const region = opts.blobsRegion ?? ctx.env.NIMBUS_BLOBS_REGION;
  const pathStyle = opts.blobsPathStyle ?? ctx.env.NIMBUS_BLOBS_PATH_STYLE;
  if (blobs === undefined || !blobs.startsWith('s3://')) {
    if (endpoint !== undefined || region !== undefined || pathStyle !== undefined) {
      throw new CliError(
        '--blobs-endpoint, --blobs-region and --blobs-path-style need --blobs s3://...',
      );
    }
    return blobs as 'local' | 'postgres' | undefined;
  }
  const { parseS3BlobsUrl } = await import('../../blob/s3-blob-store.js');
  const where = parseS3BlobsUrl(blobs);
  if (!where) {
    throw new CliError(
      `--blobs ${JSON.stringify(blobs.slice(0, 100))}: expected s3://bucket or s3://bucket/prefix (a valid bucket name)`,
    );
  }
  if (endpoint !== undefined && !/^https?:\/\/[^\s/@]+(\/[^\s]*)?$/.test(endpoint)) {
    throw new CliError(
      '--blobs-endpoint must be an http(s)://host[:port] URL, without credentials',
    );
  }
  if (pathStyle !== undefined && !['on', 'off', 'true', 'false'].includes(pathStyle)) {
    throw new CliError(`--blobs-path-style must be on or off, not "${pathStyle.slice(0, 20)}"`);
  }
  if (region !== undefined && !/^[a-z0-9-]{1,50}$/.test(region)) {
    throw new CliError(
      `--blobs-region must be a region name such as us-east-1, not "${region.slice(0, 50)}"`,
    );
  }
  const id = ctx.env.NIMBUS_BLOBS_ACCESS_KEY_ID;
  const secret = ctx.env.NIMBUS_BLOBS_SECRET_ACCESS_KEY;
  if ((id === undefined) !== (secret === undefined)) {
    throw new CliError('NIMBUS_BLOBS_ACCESS_KEY_ID and NIMBUS_BLOBS_SECRET_ACCESS_KEY go together');
  }
  const token = ctx.env.NIMBUS_BLOBS_SESSION_TOKEN;
  return {
    kind: 's3',
    ...where,
    ...(endpoint ? { endpoint } : {}),
    region: region ?? ctx.env.AWS_REGION ?? 'us-east-1',
    // Most S3-compatible servers want the bucket in the path; AWS S3 itself, in the host name.
    forcePathStyle:
      pathStyle === undefined ? endpoint !== undefined : /^(on|true)$/.test(pathStyle),
    ...(id !== undefined && secret !== undefined
      ? {
          credentials: {
            accessKeyId: id,
            secretAccessKey: secret,
            ...(token ? { sessionToken: token } : {}),
          },
        }
      : {}),
  };
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
  const { parseGuardedEndpoints } = await import('../../platform/isolation/network-guard.js');
  if (opts.networkGuardDeny !== undefined && !opts.networkGuard) {
    throw new CliError('--network-guard-deny needs --network-guard');
  }
  const trusted = opts.trustedProxies ?? ctx.env.NIMBUS_TRUSTED_PROXIES;
  if (trusted !== undefined) {
    const { trustedProxies } = await import('../../platform/protection/callers.js');
    trustedProxies(trusted);
  }
  const otlpEndpoint = opts.otlpEndpoint ?? ctx.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (otlpEndpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(otlpEndpoint)) {
    throw new CliError(`--otlp-endpoint must be an http(s) URL, not "${otlpEndpoint}"`);
  }
  const sampleText = opts.otlpSampleRatio;
  const otlpSampleRatio = sampleText === undefined ? undefined : Number(sampleText);
  if (
    otlpSampleRatio !== undefined &&
    (sampleText?.trim() === '' || !(otlpSampleRatio > 0 && otlpSampleRatio <= 1))
  ) {
    throw new CliError(
      `--otlp-sample-ratio must be a number above 0 and at most 1, not "${sampleText}"`,
    );
  }
  const networkGuard = opts.networkGuard
    ? { deny: parseGuardedEndpoints(opts.networkGuardDeny ?? '') }
    : undefined;
  const logger =
    pickLogFormat(opts.logFormat, ctx.stderr) === 'pretty'
      ? pino({ level: 'info' }, prettyDestination(ctx.stderr, { color: !ctx.env.NO_COLOR }))
      : pino({ level: 'info' }, pino.destination(2));
  const dataDir = resolve(ctx.cwd, opts.dataDir ?? defaultDataDir(ctx.env));
  const databaseUrl = opts.databaseUrl ?? ctx.env.NIMBUS_DATABASE_URL;
  const nodeName = opts.nodeName ?? ctx.env.NIMBUS_NODE_NAME;
  const sqliteSynchronous = opts.sqliteSynchronous;
  if (
    sqliteSynchronous !== undefined &&
    sqliteSynchronous !== 'full' &&
    sqliteSynchronous !== 'normal'
  ) {
    throw new CliError(`--sqlite-synchronous must be full or normal, not "${sqliteSynchronous}"`);
  }
  if (sqliteSynchronous !== undefined && /^postgres(ql)?:\/\//.test(databaseUrl ?? '')) {
    throw new CliError('--sqlite-synchronous is for the SQLite store, not a postgres:// one');
  }
  const blobsFlag = opts.blobs ?? ctx.env.NIMBUS_BLOBS;
  if (
    blobsFlag !== undefined &&
    blobsFlag !== 'local' &&
    blobsFlag !== 'postgres' &&
    !blobsFlag.startsWith('s3://')
  ) {
    throw new CliError(
      `--blobs must be local, postgres or s3://bucket[/prefix], not "${blobsFlag.slice(0, 100)}"`,
    );
  }
  const blobs = await blobsOption(ctx, opts, blobsFlag);
  if (blobs === 'postgres' && !/^postgres(ql)?:\/\//.test(databaseUrl ?? '')) {
    throw new CliError('--blobs postgres needs a postgres:// --database-url');
  }
  if (nodeName !== undefined && !/^[A-Za-z0-9._:-]{1,100}$/.test(nodeName)) {
    throw new CliError(
      `--node-name must be 1 to 100 letters, digits, '.', '_', ':' or '-', not "${nodeName.slice(0, 100)}"`,
    );
  }
  const nats = natsOption(
    opts.natsUrl ?? ctx.env.NIMBUS_NATS_URL,
    opts.natsPrefix ?? ctx.env.NIMBUS_NATS_PREFIX,
  );
  const metricsToken = opts.metricsToken ?? ctx.env.NIMBUS_METRICS_TOKEN;
  if (metricsToken !== undefined && !/^[\x21-\x7e]{16,200}$/.test(metricsToken)) {
    throw new CliError('--metrics-token must be 16 to 200 printable characters without spaces');
  }
  const mqtt = mqttOption(opts.mqttPort, opts.mqttUrl ?? ctx.env.NIMBUS_MQTT_URL);
  const smtpUrl = opts.smtpUrl ?? ctx.env.NIMBUS_SMTP_URL;
  const { checkSmtpUrl, redactedSmtpUrl } = await import('../../platform/mail/smtp-mailer.js');
  const smtpProblem = smtpUrl === undefined ? undefined : checkSmtpUrl(smtpUrl);
  if (smtpProblem) throw new CliError(`--smtp-url ${smtpProblem}`);
  if (opts.smtpFrom !== undefined && !/^[^\s@<>]+@[^\s@<>]+$/.test(opts.smtpFrom)) {
    throw new CliError('--smtp-from must be an email address');
  }
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) {
    throw new CliError('--tls-cert and --tls-key go together');
  }
  for (const [flag, given] of [
    ['--tls-port', opts.tlsPort !== undefined],
    ['--tls-domain', (opts.tlsDomain ?? []).length > 0],
    ['--tls-redirect', opts.tlsRedirect === true],
  ] as const) {
    if (given && opts.tlsCert === undefined) {
      throw new CliError(`${flag} needs --tls-cert and --tls-key`);
    }
  }
  const domains = (opts.tlsDomain ?? []).map((value) => tlsDomainOption(ctx.cwd, value));
  const tls =
    opts.tlsCert !== undefined && opts.tlsKey !== undefined
      ? {
          certFile: resolve(ctx.cwd, opts.tlsCert),
          keyFile: resolve(ctx.cwd, opts.tlsKey),
          port: parseInteger('--tls-port', opts.tlsPort, 8443, 0, 65535),
          ...(domains.length > 0 ? { domains } : {}),
          ...(opts.tlsRedirect ? { redirect: true } : {}),
        }
      : undefined;
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
      ...(sqliteSynchronous ? { sqliteSynchronous } : {}),
      ...(nodeName ? { nodeName } : {}),
      ...(nats ?? {}),
      ...(blobs ? { blobs } : {}),
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
      ...(metricsToken ? { metricsToken } : {}),
      ...(networkGuard ? { networkGuard } : {}),
      ...(trusted ? { trustedProxies: trusted } : {}),
      ...(otlpEndpoint ? { otlpEndpoint } : {}),
      ...(otlpSampleRatio === undefined ? {} : { otlpSampleRatio }),
      ...(mqtt ? { mqtt } : {}),
      ...(smtpUrl ? { smtpUrl } : {}),
      ...(opts.smtpFrom ? { smtpFrom: opts.smtpFrom } : {}),
      ...(tls ? { tls } : {}),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new CliError(
        `Port ${(error as { port?: number }).port ?? port} is already in use: pick another with --port or --tls-port`,
      );
    }
    throw error;
  }
  const recorded = await recordLocalEndpoint(dataDir, platform.url);
  out.log(`Nimbus platform listening on ${platform.url}`);
  if (platform.tlsUrl)
    out.log(
      `HTTPS: ${platform.tlsUrl} (HTTP/2 and HTTP/1.1; certificates reloaded when their files change${
        domains.length > 0 ? `; by SNI: ${domains.map((d) => d.host).join(', ')}` : ''
      }${opts.tlsRedirect ? '; plain HTTP gateway requests redirected' : ''})`,
    );
  out.log(`Data dir: ${dataDir}`);
  out.log(`Store: ${platform.storage.store}`);
  out.log(`Queue: ${platform.storage.queue}`);
  out.log(`Blobs: ${platform.storage.blobs}`);
  out.log(
    ctx.env.NIMBUS_ADMIN_TOKEN
      ? 'Admin token: from NIMBUS_ADMIN_TOKEN'
      : `Admin token: in ${platform.adminTokenFile} (mode 0600)`,
  );
  out.log(`Console: ${platform.url}/console/ (sign in with the admin token)`);
  if (platform.mqtt) {
    out.log(
      platform.mqtt.port === undefined
        ? `MQTT: broker at ${redactUrl(platform.mqtt.url)}`
        : `MQTT: embedded broker on port ${platform.mqtt.port} (an access key id and secret, or the admin token, as username and password)`,
    );
  }
  // The password of the URL is never shown.
  out.log(
    smtpUrl
      ? `Email (user pools, SNS email subscriptions): by SMTP through ${redactedSmtpUrl(smtpUrl)}`
      : 'Email (user pools, SNS email subscriptions): to the outbox (nimbus userpools outbox)',
  );
  out.log(
    dataDir === resolve(defaultDataDir(ctx.env))
      ? `CLI: commands of this user find it as is (endpoint recorded in ${dataDir}/${endpointFileName})`
      : `CLI: run 'nimbus login --endpoint ${recorded} --data-dir ${dataDir}' once, ` +
          `or set NIMBUS_DATA_DIR=${dataDir}`,
  );
  await new Promise<void>((done) => {
    const removeHandlers = onShutdownSignal(
      () => {
        // Runs once: a second signal exits at once (onShutdownSignal).
        out.log(`Shutting down (grace ${graceMs} ms)`);
        platform
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

/**
 * `--mqtt-url` points at an external broker; otherwise the embedded one listens on
 * `--mqtt-port` (default 1883; when 1883 is taken, a free port, logged); `--mqtt-port off`
 * runs without MQTT.
 */
function mqttOption(
  port: string | undefined,
  url: string | undefined,
): { port: number; fallbackToFreePort: boolean } | { url: string } | undefined {
  if (url !== undefined) {
    if (port !== undefined) throw new CliError('--mqtt-port and --mqtt-url exclude each other');
    if (!/^(mqtts?|wss?):\/\/[^\s]+$/.test(url)) {
      throw new CliError('--mqtt-url must be an mqtt://, mqtts://, ws:// or wss:// URL');
    }
    return { url };
  }
  if (port === 'off') return undefined;
  if (port === undefined) return { port: 1883, fallbackToFreePort: true };
  return { port: parseInteger('--mqtt-port', port, 1883, 0, 65535), fallbackToFreePort: false };
}

/** `--nats-url` (one URL or several, comma-separated) and `--nats-prefix`, checked. */
function natsOption(
  url: string | undefined,
  prefix: string | undefined,
): { natsUrl: string; natsPrefix?: string } | undefined {
  if (url === undefined) {
    if (prefix !== undefined) throw new CliError('--nats-prefix needs --nats-url');
    return undefined;
  }
  if (!url.split(',').every((one) => /^(nats|tls):\/\/[^\s/]+\/?$/.test(one.trim()))) {
    throw new CliError(
      '--nats-url must be nats://[user:pass@]host:port (or tls://), comma-separated',
    );
  }
  if (prefix !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(prefix)) {
    throw new CliError(
      `--nats-prefix must be 1 to 64 letters, digits, _ or -, not "${prefix.slice(0, 64)}"`,
    );
  }
  return { natsUrl: url, ...(prefix === undefined ? {} : { natsPrefix: prefix }) };
}

/** The URL without its password, for the banner. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
