/**
 * The composition root: the one place that builds adapters and wires the platform together.
 * Every long-lived part is started as it is built (so what a later part needs is already up)
 * and registered with the lifecycle, which stops them in reverse order.
 */
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
import { createControlApi } from './control/control-api.js';
import { Deployer } from './control/deployer.js';
import { createFrontDoor, splitTarget } from './front-door/front-door.js';
import { HttpListener } from './front-door/http-listener.js';
import { GatewayListener } from './gateway/gateway-listener.js';
import { compileRouteTable } from './gateway/route-table.js';
import { sendError, sendJson } from './http/send.js';
import { CodeCache } from './invoker/code-cache.js';
import { FunctionResolver } from './invoker/function-resolver.js';
import type { Invoker } from './invoker/invoker-port.js';
import { ProcessInvoker } from './invoker/process-invoker.js';
import { secureDataDir } from './isolation/data-dir-permissions.js';
import { FunctionUids } from './isolation/function-uids.js';
import { checkIsolation, type IsolationMode } from './isolation/isolation-mode.js';
import { warnAboutPostgresExposure } from './isolation/postgres-exposure.js';
import { defaultFunctionUids, type UidRange } from './isolation/uid-range.js';
import { sweepUid } from './isolation/uid-sweep.js';
import { createLambdaApi, lambdaApiPrefix } from './lambda-api/lambda-api.js';
import { Lifecycle, part } from './lifecycle/lifecycle.js';
import { PeriodicTask } from './lifecycle/periodic-task.js';
import { RunRoot } from './lifecycle/run-root.js';
import { LogPipeline } from './observe/log-pipeline.js';
import { KyselyLogStore } from './observe/log-store/kysely-log-store.js';
import { logsRoutes } from './observe/logs-routes.js';
import { type InstanceFactory, InstancePool } from './pool/instance-pool.js';
import { nobody, processInstanceFactory } from './pool/process-instance-factory.js';
import { ReservedConcurrency } from './reconcile/reserved-concurrency.js';
import {
  instancesReaction,
  limitsReaction,
  resolverReaction,
  routesReaction,
  schedulesReaction,
} from './reconcile/stage-reactions.js';
import { StageReconciler } from './reconcile/stage-reconciler.js';
import { KyselyScheduleLedger } from './triggers/schedule/kysely-schedule-ledger.js';
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
  /**
   * `uids` (default): as root, each service stage runs as its own uid from functionUids; not as
   * root the start is refused. `none`: no separation between functions, nor (not as root) from
   * the platform: for a developer's own machine (docs/security.md).
   */
  isolation?: IsolationMode;
  /** The uids service stages are given. Default 200000-265535. */
  functionUids?: UidRange;
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
  reconciler: StageReconciler;
  /** The started parts, in start order. */
  parts: string[];
  /**
   * Stops taking work, lets requests and async runs in flight finish for up to graceMs
   * (default 0: cut them), stops every function process and releases what the node held.
   */
  close(opts?: { graceMs?: number }): Promise<void>;
}

const region = 'us-east-1';

export async function startPlatform(options: PlatformOptions): Promise<RunningPlatform> {
  const lifecycle = new Lifecycle();
  try {
    return await wire(options, lifecycle);
  } catch (error) {
    // Whatever did start is stopped, so a failed start leaves no process, file or port behind.
    await lifecycle.stop().catch((stopError: unknown) => {
      (options.logger ?? pino()).error({ err: stopError }, 'stopping after a failed start failed');
    });
    throw error;
  }
}

async function wire(options: PlatformOptions, lifecycle: Lifecycle): Promise<RunningPlatform> {
  const logger = options.logger ?? pino({ level: 'info' }, pino.destination(2));
  const clock = options.clock ?? systemClock;
  const zipLimits = options.zipLimits ?? lambdaZipLimits;
  const maxInstances = options.maxInstances ?? 100;
  const idleTimeoutMs = options.idleTimeoutMs ?? 5 * 60_000;
  const isolation = checkIsolation(options.isolation ?? 'uids', logger);
  await secureDataDir(options.dataDir);
  const token = await loadOrCreateAdminToken(options.dataDir, options.adminToken);
  const masterKey = await loadOrCreateMasterKey(options.dataDir, options.masterKey);

  // Storage: one database handle shared by the repositories; the Store owns and closes it.
  const databaseUrl = options.databaseUrl ?? 'sqlite:';
  const flavor = parseStoreUrl(databaseUrl, { dataDir: options.dataDir }).kind;
  const db = await openDatabase(databaseUrl, { dataDir: options.dataDir });
  const store = new KyselyStore(db);
  if (flavor === 'postgres') await warnAboutPostgresExposure(db, databaseUrl, logger);
  // Stopped last of all: it destroys the handle every other repository uses.
  await lifecycle.start(
    'store',
    part(() => store.close()),
  );
  const blobs = new FsBlobStore(join(options.dataDir, 'blobs'));
  const accessKeys = new KyselyAccessKeyStore(db, masterKey.key, clock);
  const logStore = new KyselyLogStore(db);
  const records = new InvocationRecords(db);
  const queue = new SqlWorkQueue(db, { flavor, clock });
  const logs = await lifecycle.start(
    'log pipeline',
    new LogPipeline({
      store: logStore,
      clock,
      log: logger,
      ...(options.logRetentionMs === undefined ? {} : { retentionMs: options.logRetentionMs }),
    }),
  );

  // Execution: run root, runtime processes, pool, invoker.
  const runRoot = await lifecycle.start('run root', new RunRoot());
  const processes = processInstanceFactory({
    tmpRoot: join(runRoot.dir, 'tmp'),
    logger,
    clock,
    onLog: (event) => logs.write(event),
    runAsUser: isolation.asRoot ? nobody : undefined,
  });
  await lifecycle.start(
    'prewarmed runtimes',
    part(
      () => processes.close(),
      () => {
        if (!options.instanceFactory) processes.warm();
      },
    ),
  );
  const pool = new InstancePool({
    factory: options.instanceFactory ?? processes.create,
    clock,
    idleTimeoutMs,
    maxInstances,
  });
  await lifecycle.start(
    'instance pool',
    part(() => pool.close()),
  );
  await lifecycle.start(
    'idle reaper',
    new PeriodicTask({
      name: 'reaping idle instances',
      everyMs: Math.min(10_000, Math.max(50, idleTimeoutMs / 4)),
      run: () => pool.reap(),
      logger,
    }),
  );
  const resolver = new FunctionResolver({ store, region });
  const codeCache = new CodeCache({ root: join(runRoot.dir, 'code'), blobs, limits: zipLimits });
  const uids =
    isolation.perStageUids && !options.instanceFactory
      ? new FunctionUids({ db, range: options.functionUids ?? defaultFunctionUids, clock })
      : undefined;
  if (uids) {
    // A platform killed with -9 cannot stop what its functions detached: at start nothing runs
    // as this platform's function uids yet, so whatever does is such a leftover.
    let swept = 0;
    for (const uid of await uids.allocated()) swept += sweepUid(uid);
    if (swept > 0)
      logger.warn({ processes: swept }, 'killed function processes left by an earlier run');
  }
  const invoker = new ProcessInvoker({
    resolver,
    codeCache,
    pool,
    clock,
    ...(uids ? { runAsOf: (service: string, stage: string) => uids.of(service, stage) } : {}),
  });

  // Async: queue worker and the invoker that feeds it.
  const reserved = new ReservedConcurrency();
  // Async events of a function take at most half its capacity, so a backlog never starves its
  // synchronous callers, and always at least one instance, so sync traffic never starves them.
  const concurrencyOf = (name: string) =>
    Math.max(1, Math.floor((reserved.of(name) ?? maxInstances) / 2));
  let asyncInvoker: AsyncInvoker | undefined;
  const worker = new AsyncWorker({
    queue,
    records,
    invoker,
    asyncInvoker: () => asyncInvoker!,
    clock,
    logger,
    retry: {
      ...defaultRetrySettings,
      functionErrorBaseMs: options.asyncRetryDelayMs ?? defaultRetrySettings.functionErrorBaseMs,
    },
    concurrencyOf,
    leaseMs: options.asyncLeaseMs ?? 30_000,
    pollMs: 200,
    region,
  });
  asyncInvoker = new AsyncInvoker({ invoker, queue, records, clock, wake: () => worker.wake() });
  const accept = asyncInvoker;
  await lifecycle.start(
    'async worker',
    part(
      (ctx) => worker.stop(ctx),
      () => worker.start(),
    ),
  );
  await lifecycle.start(
    'idempotency key purge',
    // Idempotency keys outlive their jobs for their window; past it they are only dead weight.
    new PeriodicTask({
      name: 'purging idempotency keys',
      everyMs: 10 * 60_000,
      run: () => queue.purgeExpiredKeys(),
      logger,
    }),
  );
  const schedules = new ScheduleRunner({
    ledger: new KyselyScheduleLedger(db, { mode: 'same-transaction' }),
    clock,
    ...scheduleFiring(accept, { region }),
    onError: (error, schedule) =>
      logger.error({ err: error, schedule: schedule?.id }, 'schedule failed'),
  });
  await lifecycle.start(
    'schedules',
    part(() => schedules.stop()),
  );

  // Edges: gateway, Invoke API, control API behind the one front door.
  const gateway = new GatewayListener({
    table: compileRouteTable([], []),
    invoker,
    clock,
    logger,
    acceptAsync: (name, qualifier, event) => accept.accept(name, qualifier, event),
  });
  const reconciler = await lifecycle.start(
    'stage reconciler',
    new StageReconciler({
      store,
      logger,
      reactions: [
        resolverReaction(resolver),
        limitsReaction(reserved),
        schedulesReaction(schedules),
        routesReaction(gateway, store),
        instancesReaction({
          pool,
          store,
          prepare: (name, qualifier) => invoker.prepare(name, qualifier),
          provision: (name, qualifier) => invoker.provision(name, qualifier),
        }),
      ],
    }),
  );
  const lambdaApi = createLambdaApi({
    acceptAsync: (name, qualifier, payload, idempotencyKey) =>
      accept.accept(name, qualifier, payload, idempotencyKey ? { idempotencyKey } : {}),
    invoker,
    verify: createRequestVerifier({
      keys: accessKeys,
      adminToken: token.token,
      clock,
      onError: (e) => logger.warn({ err: e }, 'recording an access key use failed'),
    }),
    maxSyncPayloadBytes: 6 * MiB,
    onError: (e) =>
      (e as { code?: unknown })?.code === 'NIMBUS_HTTP_ABORTED'
        ? logger.debug('invoke API client closed the connection')
        : logger.error({ err: e }, 'invoke API request failed'),
  });
  // Assigned below, once the listener knows its port.
  let listener: HttpListener | undefined;
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
    maxInstances,
    publicUrl: () => listener?.url ?? '',
    onChange: (change) => reconciler.changed(change),
    extraRoutes: [
      ...logsRoutes({ logs: logStore, pipeline: logs, functions: store }),
      ...keysRoutes(accessKeys),
      ...invocationsRoutes({ records, queue, store, clock, wake: () => worker.wake() }),
    ],
  });
  const frontDoor = createFrontDoor({
    health: async (_req, res) => sendJson(res, 200, { status: 'ok' }),
    control: (req, res, path) => control(req, res, path),
    lambda: { prefix: lambdaApiPrefix, handle: (req, res, path) => lambdaApi(req, res, path) },
    gateway: (req, res, path, rawQuery) => gateway.handle(req, res, path, rawQuery),
  });
  listener = await lifecycle.start(
    'http listener',
    new HttpListener({
      host: options.host,
      port: options.port,
      handle: (req, res) => {
        const { path, rawQuery } = splitTarget(req.url);
        frontDoor(req, res, path, rawQuery).catch((error: unknown) =>
          sendError(res, error, (e) =>
            // A client that went away is routine, not a fault of ours: no stack in the log.
            clientWentAway(e, req)
              ? logger.debug({ url: path, method: req.method }, 'client closed the connection')
              : (e as { code?: unknown }).code === 'NIMBUS_HTTP_BUSY'
                ? logger.warn({ url: path }, (e as Error).message)
                : logger.error({ err: e }, 'request failed'),
          ),
        );
      },
    }),
  );
  const url = listener.url;
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
    reconciler,
    parts: lifecycle.parts,
    close: (opts = {}) => lifecycle.stop(opts),
  };
}

function clientWentAway(error: unknown, req: { destroyed: boolean }): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'NIMBUS_HTTP_ABORTED' || code === 'ECONNRESET' || req.destroyed;
}
