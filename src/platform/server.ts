/**
 * The composition root: the one place that builds adapters and wires the platform together.
 * Everything below receives its collaborators from here.
 */
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { FsBlobStore } from '../blob/fs-blob-store.js';
import { type Clock, systemClock } from '../model/clock.js';
import { lambdaZipLimits, type ZipLimits } from '../packaging/zip-safety.js';
import { SqlWorkQueue } from '../queue/sql-work-queue.js';
import { KyselyStore } from '../store/kysely-store.js';
import { openDatabase, parseStoreUrl } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { AsyncInvoker } from './async/async-invoker.js';
import { AsyncWorker } from './async/async-worker.js';
import { InvocationRecords } from './async/invocation-records.js';
import { invocationsRoutes } from './async/invocations-routes.js';
import { defaultRetrySettings } from './async/retry-policy.js';
import { scheduleFiring } from './async/schedule-firing.js';
import { keysRoutes } from './auth/keys-routes.js';
import { KyselyAccessKeyStore } from './auth/kysely-access-key-store.js';
import { loadOrCreateMasterKey } from './auth/master-key.js';
import { createRequestVerifier } from './auth/request-verifier.js';
import { MiB } from './config.js';
import { loadOrCreateAdminToken } from './control/admin-token.js';
import { createControlApi, type StageChange } from './control/control-api.js';
import { Deployer } from './control/deployer.js';
import { GatewayListener } from './gateway/gateway-listener.js';
import { loadRouteTable } from './gateway/route-loader.js';
import { sendError, sendJson } from './http/send.js';
import { CodeCache } from './invoker/code-cache.js';
import { FunctionResolver } from './invoker/function-resolver.js';
import type { Invoker } from './invoker/invoker-port.js';
import { ProcessInvoker } from './invoker/process-invoker.js';
import { createLambdaApi, lambdaApiPrefix } from './lambda-api/lambda-api.js';
import { LogPipeline } from './observe/log-pipeline.js';
import { KyselyLogStore } from './observe/log-store/kysely-log-store.js';
import { logsRoutes } from './observe/logs-routes.js';
import { type InstanceFactory, InstancePool } from './pool/instance-pool.js';
import { nobody, processInstanceFactory } from './pool/process-instance-factory.js';
import { KyselyScheduleLedger } from './triggers/schedule/kysely-schedule-ledger.js';
import { schedulesOf } from './triggers/schedule/schedule.js';
import { ScheduleRunner } from './triggers/schedule/scheduler.js';

export interface PlatformOptions {
  host: string;
  port: number;
  dataDir: string;
  /** `sqlite:` (default, a file in dataDir), `sqlite:<file>` or `postgres://...`. */
  databaseUrl?: string;
  /** NIMBUS_ADMIN_TOKEN, when the operator sets one. */
  adminToken?: string;
  retainDeployments?: number;
  zipLimits?: ZipLimits;
  /** Idle instances are stopped after this long (scale to zero). Default 5 minutes. */
  idleTimeoutMs?: number;
  /** NIMBUS_MASTER_KEY, when the operator sets one (encrypts access key secrets). */
  masterKey?: string;
  /** How long function log lines are kept. Default 7 days. */
  logRetentionMs?: number;
  /** Platform-wide cap on function instances. Default 100. */
  maxInstances?: number;
  clock?: Clock;
  logger?: Logger;
  /** Base delay between retries of a failed async event (1 min, then 2 min, ...). Default 1 min. */
  asyncRetryDelayMs?: number;
  /** How long an async job's lease outlives a crashed worker. Default 30 s. */
  asyncLeaseMs?: number;
  /** Replaces the process-backed instances (tests of the layers above). */
  instanceFactory?: InstanceFactory;
}

export interface RunningPlatform {
  url: string;
  asyncInvoker: AsyncInvoker;
  worker: AsyncWorker;
  records: InvocationRecords;
  queue: SqlWorkQueue;
  adminToken: string;
  adminTokenFile: string;
  store: Store;
  invoker: Invoker;
  pool: InstancePool;
  close(): Promise<void>;
}

export async function startPlatform(options: PlatformOptions): Promise<RunningPlatform> {
  const logger = options.logger ?? pino({ level: 'info' }, pino.destination(2));
  const clock = options.clock ?? systemClock;
  const zipLimits = options.zipLimits ?? lambdaZipLimits;
  const token = await loadOrCreateAdminToken(options.dataDir, options.adminToken);
  const databaseUrl = options.databaseUrl ?? 'sqlite:';
  const db = await openDatabase(databaseUrl, { dataDir: options.dataDir });
  const flavor = parseStoreUrl(databaseUrl, { dataDir: options.dataDir }).kind;
  const store = new KyselyStore(db);
  const masterKey = await loadOrCreateMasterKey(options.dataDir, options.masterKey);
  const accessKeys = new KyselyAccessKeyStore(db, masterKey.key, clock);
  const logStore = new KyselyLogStore(db);
  const logs = new LogPipeline({
    store: logStore,
    clock,
    log: logger,
    ...(options.logRetentionMs === undefined ? {} : { retentionMs: options.logRetentionMs }),
  });
  const blobs = new FsBlobStore(join(options.dataDir, 'blobs'));
  // Code and instance temp dirs live outside the data dir, which functions must never reach.
  const runRoot = await mkdtemp(join(tmpdir(), 'nimbus-run-'));
  // Traversable, not listable, by the unprivileged function user.
  await chmod(runRoot, 0o711);
  await mkdir(join(runRoot, 'tmp'), { mode: 0o711 });

  const processes = processInstanceFactory({
    tmpRoot: join(runRoot, 'tmp'),
    logger,
    clock,
    onLog: (event) => logs.write(event),
    runAsUser: process.getuid?.() === 0 ? nobody : undefined,
  });
  const pool = new InstancePool({
    factory: options.instanceFactory ?? processes.create,
    clock,
    idleTimeoutMs: options.idleTimeoutMs ?? 5 * 60_000,
    maxInstances: options.maxInstances ?? 100,
  });
  const resolver = new FunctionResolver({ store, region: 'us-east-1' });
  const codeCache = new CodeCache({ root: join(runRoot, 'code'), blobs, limits: zipLimits });
  const invoker = new ProcessInvoker({ resolver, codeCache, pool, clock });
  const records = new InvocationRecords(db);
  const queue = new SqlWorkQueue(db, { flavor, clock });
  const maxInstances = options.maxInstances ?? 100;
  const reserved = new Map<string, number>();
  // Async events of a function take at most half its capacity, so a backlog never starves its
  // synchronous callers, and always at least one instance, so sync traffic never starves them.
  const concurrencyOf = (name: string) =>
    Math.max(1, Math.floor((reserved.get(name) ?? maxInstances) / 2));
  let asyncInvoker: AsyncInvoker;
  const worker = new AsyncWorker({
    queue,
    records,
    invoker,
    asyncInvoker: () => asyncInvoker,
    clock,
    logger,
    retry: {
      ...defaultRetrySettings,
      functionErrorBaseMs: options.asyncRetryDelayMs ?? defaultRetrySettings.functionErrorBaseMs,
    },
    concurrencyOf,
    leaseMs: options.asyncLeaseMs ?? 30_000,
    pollMs: 200,
    region: 'us-east-1',
  });
  asyncInvoker = new AsyncInvoker({ invoker, queue, records, clock, wake: () => worker.wake() });
  const schedules = new ScheduleRunner({
    ledger: new KyselyScheduleLedger(db, { mode: 'same-transaction' }),
    clock,
    ...scheduleFiring(asyncInvoker, { region: 'us-east-1' }),
    onError: (error, schedule) =>
      logger.error({ err: error, schedule: schedule?.id }, 'schedule failed'),
  });
  /** Per-stage inputs of the triggers and limits, refreshed when a stage changes. */
  const refreshStage = async (service: string, stageName: string) => {
    const stage = await store.findStage(service, stageName);
    const [current] = stage ? await store.listDeployments(stage.id) : [];
    const functions = current ? Object.values(current.definition.functions) : [];
    for (const fn of functions) {
      if (fn.reservedConcurrency === undefined) reserved.delete(fn.name);
      else reserved.set(fn.name, fn.reservedConcurrency);
    }
    await schedules.setSchedules(
      schedulesOf(functions, { qualifier: stageName }),
      `${service}/${stageName}`,
    );
  };
  for (const stage of await store.listStages()) await refreshStage(stage.service, stage.stage);

  const lambdaApi = createLambdaApi({
    acceptAsync: (name, qualifier, payload, idempotencyKey) =>
      asyncInvoker.accept(name, qualifier, payload, idempotencyKey ? { idempotencyKey } : {}),
    invoker,
    verify: createRequestVerifier({
      keys: accessKeys,
      adminToken: token.token,
      clock,
      onError: (e) => logger.warn({ err: e }, 'recording an access key use failed'),
    }),
    maxSyncPayloadBytes: 6 * MiB,
    onError: (e) => logger.error({ err: e }, 'invoke API request failed'),
  });
  const gateway = new GatewayListener({
    table: await loadRouteTable(store),
    invoker,
    clock,
    logger,
    acceptAsync: (name, qualifier, event) => asyncInvoker.accept(name, qualifier, event),
  });

  /** A deployment landed or a stage went: drop caches, recompile routes, drain old versions. */
  const onChange = async (change: StageChange): Promise<void> => {
    resolver.invalidate();
    await refreshStage(change.service, change.stage);
    gateway.setTable(await loadRouteTable(store));
    for (const name of change.functionNames) {
      if (change.kind === 'removed') {
        await pool.removeFunction(name);
        continue;
      }
      const fn = await store.findFunctionByName(name);
      if (!fn) {
        await pool.removeFunction(name);
        continue;
      }
      const current = (await store.listAliases(fn.id)).map((a) => String(a.version));
      await pool.retire(name, new Set(current));
      await invoker.prepare(name, change.stage).catch((error) => {
        logger.error({ err: error, function: name }, 'extracting code failed');
      });
      await invoker.provision(name, change.stage).catch((error) => {
        logger.error({ err: error, function: name }, 'provisioning instances failed');
      });
    }
  };

  let url = '';
  const control = createControlApi({
    store,
    blobs,
    deployer: new Deployer({
      store,
      blobs,
      clock,
      retainDeployments: options.retainDeployments ?? 5,
    }),
    adminToken: token.token,
    zipLimits,
    maxJsonBytes: 10 * MiB,
    publicUrl: () => url,
    onChange,
    extraRoutes: [
      ...logsRoutes({ logs: logStore, pipeline: logs, functions: store }),
      ...keysRoutes(accessKeys),
      ...invocationsRoutes({ records, queue, store, clock, wake: () => worker.wake() }),
    ],
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    if (path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (path.startsWith('/v1/')) return control(req, res, path);
    if (path.startsWith(lambdaApiPrefix)) return lambdaApi(req, res, path);
    return gateway.handle(req, res, path, q < 0 ? '' : raw.slice(q + 1));
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) =>
      sendError(res, error, (e) => logger.error({ err: e }, 'request failed')),
    );
  });
  // Keep-alive sockets from load generators would otherwise hold close() open.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  url = `http://${host}:${address.port}`;

  const reaper = setInterval(
    () => {
      pool.reap().catch((error) => logger.error({ err: error }, 'reaping idle instances failed'));
    },
    Math.min(10_000, Math.max(50, (options.idleTimeoutMs ?? 300_000) / 4)),
  );
  reaper.unref();
  // Idempotency keys outlive their jobs for their window; past it they are only dead weight.
  const keyPurge = setInterval(() => {
    queue
      .purgeExpiredKeys()
      .catch((error) => logger.warn({ err: error }, 'purging idempotency keys failed'));
  }, 10 * 60_000);
  keyPurge.unref();
  worker.start();
  if (!options.instanceFactory) processes.warm();
  logger.info(
    { url, dataDir: options.dataDir, tokenSource: token.source },
    'nimbus platform ready',
  );

  return {
    url,
    asyncInvoker,
    worker,
    records,
    queue,
    adminToken: token.token,
    adminTokenFile: token.file,
    store,
    invoker,
    pool,
    close: async () => {
      clearInterval(reaper);
      clearInterval(keyPurge);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await schedules.stop();
      await worker.stop();
      processes.close();
      await pool.close();
      await logs.close();
      // Last: it destroys the database handle the other repositories share.
      await store.close();
      await rm(runRoot, { recursive: true, force: true });
    },
  };
}
