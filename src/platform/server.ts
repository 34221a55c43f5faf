/**
 * The composition root: the one place that builds adapters and wires the platform together.
 * Every long-lived part is started as it is built (so what a later part needs is already up)
 * and registered with the lifecycle, which stops them in reverse order.
 */

import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pino, { type Logger } from 'pino';
import type { BlobStore } from '../blob/blob-store.js';
import { CachedBlobStore } from '../blob/cached-blob-store.js';
import { FsBlobStore } from '../blob/fs-blob-store.js';
import { PgBlobStore } from '../blob/pg-blob-store.js';
import {
  checkS3Bucket,
  describeS3Blobs,
  openS3BlobsClient,
  S3BlobStore,
  type S3BlobsOptions,
} from '../blob/s3-blob-store.js';
import { NIMBUS_ACCOUNT_ID } from '../model/account.js';
import { type Clock, systemClock } from '../model/clock.js';
import { packageRoot, packageVersion } from '../package-root.js';
import { lambdaZipLimits, type ZipLimits } from '../packaging/zip-safety.js';
import { SqlWorkQueue } from '../queue/sql-work-queue.js';
import type { TransactionalWorkQueue } from '../queue/work-queue.js';
import { outboxId } from '../services/cognito/codes.js';
import { PoolTriggers } from '../services/cognito/triggers.js';
import { createUserPools } from '../services/cognito/user-pools.js';
import { dynamodbEventSource } from '../services/dynamodb/dynamodb-event-source.js';
import { createDynamoService } from '../services/dynamodb/dynamodb-service.js';
import { DynamoStore } from '../services/dynamodb/dynamodb-store.js';
import { DynamoStreamReader } from '../services/dynamodb/stream-reader.js';
import { TableProvisioner } from '../services/dynamodb/table-provisioner.js';
import { sweepExpired, updateTimeToLive } from '../services/dynamodb/time-to-live.js';
import type { TargetDeliveries } from '../services/events/bus-delivery.js';
import { destinationEvent } from '../services/events/destination-event.js';
import {
  type EventsDeps,
  forwardToBus,
  putPlatformEvent,
} from '../services/events/events-operations.js';
import {
  eventBusProvisioner,
  eventRuleProvisioner,
} from '../services/events/events-provisioners.js';
import { createEventsService } from '../services/events/events-service.js';
import { EventsStore } from '../services/events/events-store.js';
import {
  ruleFiring,
  ScheduledRules,
  withRuleSchedules,
} from '../services/events/scheduled-rules.js';
import { syncStageRules } from '../services/events/stage-rules.js';
import { TargetJobs } from '../services/events/target-jobs.js';
import { EmbeddedBroker } from '../services/iot/embedded-broker.js';
import { createIotDataService } from '../services/iot/iot-data-service.js';
import { IotRuleEngine } from '../services/iot/iot-rule-engine.js';
import { iotRulesOfStage } from '../services/iot/iot-stage-rules.js';
import { kinesisEventSource } from '../services/kinesis/kinesis-event-source.js';
import { createKinesisService } from '../services/kinesis/kinesis-service.js';
import { KinesisStore } from '../services/kinesis/kinesis-store.js';
import { NatsRecordLog } from '../services/kinesis/nats-record-log.js';
import type { KinesisRecordLog } from '../services/kinesis/record-log.js';
import { SqlRecordLog } from '../services/kinesis/sql-record-log.js';
import { StreamProvisioner } from '../services/kinesis/stream-provisioner.js';
import { ShardWriteLimits } from '../services/kinesis/write-limits.js';
import { BucketProvisioner } from '../services/s3/bucket-provisioner.js';
import { formUploadsOnPlatformAddress } from '../services/s3/form-upload-route.js';
import { destinationResource } from '../services/s3/notification-config.js';
import { ObjectFiles, type ObjectStorage } from '../services/s3/object-files.js';
import { PgObjectFiles } from '../services/s3/pg-object-files.js';
import type { NotificationDestinations } from '../services/s3/s3-call.js';
import { S3Metadata } from '../services/s3/s3-metadata.js';
import { S3ObjectFiles } from '../services/s3/s3-object-files.js';
import { createS3Service } from '../services/s3/s3-service.js';
import { platformDeliveries } from '../services/sns/platform-deliveries.js';
import { publishToTopic } from '../services/sns/publish-operations.js';
import type { SnsDeps } from '../services/sns/sns-call.js';
import {
  snsSubscriptionProvisioner,
  snsTopicProvisioner,
} from '../services/sns/sns-provisioners.js';
import { createSnsService } from '../services/sns/sns-service.js';
import { SnsStore } from '../services/sns/sns-store.js';
import { syncStageSubscriptions } from '../services/sns/stage-subscriptions.js';
import { functionOfArn } from '../services/sns/subscription-attributes.js';
import { queueDelivery } from '../services/sqs/queue-delivery.js';
import { QueueProvisioner } from '../services/sqs/queue-provisioner.js';
import { QueueWaiters } from '../services/sqs/queue-waiters.js';
import { sqsEventSource } from '../services/sqs/sqs-event-source.js';
import { createSqsService } from '../services/sqs/sqs-service.js';
import { type MessageAttributeValue, SqsStore } from '../services/sqs/sqs-store.js';
import type { StoreTx } from '../store/group-commit.js';
import { KyselyStore } from '../store/kysely-store.js';
import { openDatabase, parseStoreUrl } from '../store/open-store.js';
import { describePostgresUrl } from '../store/postgres-target.js';
import type { SqliteSynchronous } from '../store/sqlite.js';
import type { Store } from '../store/store.js';
import { AsyncInvoker } from './async/async-invoker.js';
import { AsyncWorker } from './async/async-worker.js';
import { InvocationRecords } from './async/invocation-records.js';
import { invocationsRoutes } from './async/invocations-routes.js';
import { defaultRetrySettings } from './async/retry-policy.js';
import { scheduleFiring } from './async/schedule-firing.js';
import { rememberedScopes } from './auth/caller-scopes.js';
import { keysRoutes } from './auth/keys-routes.js';
import { KyselyAccessKeyStore } from './auth/kysely-access-key-store.js';
import { loadOrCreateMasterKey } from './auth/master-key.js';
import {
  createPostPolicyVerifier,
  createRequestVerifier,
  createStreamingRequestVerifier,
} from './auth/request-verifier.js';
import {
  credentialLookup,
  maxInstanceAgeMs,
  SessionCredentialStore,
} from './auth/session-credentials.js';
import { ProvisionerRegistry } from './aws/resources/provisioner-registry.js';
import { ResourceOwners } from './aws/resources/resource-owners.js';
import { ResourceRecords } from './aws/resources/resource-records.js';
import { deployResources, StageResources } from './aws/resources/stage-resources.js';
import { backupRoutes } from './backup-routes.js';
import { ClusterLease } from './cluster/cluster-lease.js';
import { clusterRoutes } from './cluster/cluster-routes.js';
import { ConcurrencySlots } from './cluster/concurrency-slots.js';
import { ConnectionRelay } from './cluster/connection-relay.js';
import { openNatsQueue } from './cluster/nats-queue.js';
import { NodeRegistry } from './cluster/node-registry.js';
import { ScheduleLeaseKeeper } from './cluster/schedule-lease-keeper.js';
import { StageChangeFeed } from './cluster/stage-change-feed.js';
import { MiB } from './config.js';
import { createConsoleArea } from './console/console-area.js';
import { loadConsoleAssets } from './console/console-assets.js';
import { ConsoleSessions } from './console/console-sessions.js';
import { loadOrCreateAdminToken } from './control/admin-token.js';
import { createControlApi, type StageChange } from './control/control-api.js';
import { checkDefinition } from './control/deploy-request.js';
import { Deployer } from './control/deployer.js';
import { CheckpointStore } from './event-sources/checkpoint-store.js';
import { EventSourceEngine } from './event-sources/event-source-engine.js';
import { eventSourcesReaction } from './event-sources/event-sources-reaction.js';
import { invokeThrough } from './event-sources/invoke-batch.js';
import { IteratorAges } from './event-sources/iterator-age.js';
import {
  parseDynamoStreamArn,
  parseKinesisStreamArn,
  parseSqsArn,
} from './event-sources/mapping.js';
import { MappingStore } from './event-sources/mapping-store.js';
import { streamFailureRecord } from './event-sources/stream-failure-record.js';
import { createFrontDoor, createUpgradeDoor, splitTarget } from './front-door/front-door.js';
import { HttpListener } from './front-door/http-listener.js';
import { httpsRedirect } from './front-door/https-redirect.js';
import {
  readTlsSet,
  type TlsDomainFiles,
  type TlsFiles,
  watchTlsFiles,
} from './front-door/tls-files.js';
import { AccessGate } from './gateway/access/access-gate.js';
import { JwksCache } from './gateway/access/jwks-cache.js';
import { KyselyApiKeyStore } from './gateway/access/kysely-api-key-store.js';
import { apiKeysRoutes } from './gateway/access/stage-keys.js';
import { UsageLimiter } from './gateway/access/usage-limiter.js';
import { AlbListener } from './gateway/alb/alb-listener.js';
import { FunctionUrlListener } from './gateway/function-url/function-url-listener.js';
import { GatewayListener } from './gateway/gateway-listener.js';
import { compileRouteTable } from './gateway/route-table.js';
import { ConnectionStore } from './gateway/websocket/connection-store.js';
import {
  connectionsPathOf,
  WebSocketGateway,
  websocketTargetOf,
} from './gateway/websocket/websocket-gateway.js';
import { sendError, sendJson } from './http/send.js';
import { CodeCache } from './invoker/code-cache.js';
import {
  functionEndpoint,
  plannedFunctionEndpoint,
  withFunctionAwsEnvironment,
} from './invoker/function-aws-environment.js';
import { FunctionResolver } from './invoker/function-resolver.js';
import type { Invoker } from './invoker/invoker-port.js';
import { FunctionNotFoundError } from './invoker/invoker-port.js';
import { ProcessInvoker } from './invoker/process-invoker.js';
import { secureDataDir } from './isolation/data-dir-permissions.js';
import { FunctionUids } from './isolation/function-uids.js';
import { IsolationError } from './isolation/isolation-error.js';
import { checkIsolation, type IsolationMode } from './isolation/isolation-mode.js';
import { type GuardedEndpoint, NetworkGuard, storeEndpoint } from './isolation/network-guard.js';
import { warnAboutPostgresExposure } from './isolation/postgres-exposure.js';
import { defaultFunctionUids, type UidRange } from './isolation/uid-range.js';
import { sweepUid } from './isolation/uid-sweep.js';
import { createMappingOperations } from './lambda-api/event-source-mapping-operations.js';
import { createFixedSettingsOperations } from './lambda-api/function-fixed-settings-operations.js';
import { createFunctionLifecycleOperations } from './lambda-api/function-lifecycle-operations.js';
import {
  createFunctionOperations,
  type OperationAnswer,
  type OperationRequest,
} from './lambda-api/function-operations.js';
import { createFunctionSettingsOperations } from './lambda-api/function-settings-operations.js';
import { createFunctionUrlConfigOperations } from './lambda-api/function-url-config-operations.js';
import { createLambdaApi, lambdaApiPrefix } from './lambda-api/lambda-api.js';
import { createLayerOperations } from './lambda-api/layer-operations.js';
import { Lifecycle, part } from './lifecycle/lifecycle.js';
import { PeriodicTask } from './lifecycle/periodic-task.js';
import { RunRoot } from './lifecycle/run-root.js';
import { createSmtpMailer } from './mail/smtp-mailer.js';
import { LogPipeline } from './observe/log-pipeline.js';
import { logRetentionOf } from './observe/log-retention.js';
import { KyselyLogStore } from './observe/log-store/kysely-log-store.js';
import { logsRoutes } from './observe/logs-routes.js';
import { asyncQueueGauges, asyncRecordGauges } from './observe/metrics/async-queue-gauges.js';
import { diskUsageReader } from './observe/metrics/disk-usage.js';
import { teeMetrics } from './observe/metrics/metrics-port.js';
import { metricsRoute } from './observe/metrics/metrics-route.js';
import { PromMetrics } from './observe/metrics/prom-metrics.js';
import { RollupRecorder } from './observe/metrics/rollup-recorder.js';
import { usageRoutes } from './observe/metrics/usage-routes.js';
import { systemScheduler } from './observe/scheduler.js';
import { LogSubscriptions } from './observe/subscriptions/log-subscriptions.js';
import { idOnlyTracing, type Tracing } from './observe/tracing/tracing.js';
import { type InstanceFactory, InstancePool } from './pool/instance-pool.js';
import { nobody, processInstanceFactory } from './pool/process-instance-factory.js';
import { trustedProxies } from './protection/callers.js';
import { memoryCounters, postgresCounters } from './protection/counters.js';
import { Protection } from './protection/protection.js';
import { ReservedConcurrency } from './reconcile/reserved-concurrency.js';
import {
  accessReaction,
  albReaction,
  functionUrlsReaction,
  instancesReaction,
  limitsReaction,
  protectionReaction,
  resolverReaction,
  routesReaction,
  schedulesReaction,
  websocketsReaction,
} from './reconcile/stage-reactions.js';
import { StageReconciler } from './reconcile/stage-reconciler.js';
import { cognitoTriggersReaction } from './triggers/cognito/cognito-user-pool-events.js';
import { S3Notifier, s3NotificationsReaction } from './triggers/s3/s3-notifications.js';
import { KyselyScheduleLedger } from './triggers/schedule/kysely-schedule-ledger.js';
import { ScheduleRunner } from './triggers/schedule/scheduler.js';

export interface PlatformOptions {
  host: string;
  port: number;
  /**
   * Also serve HTTPS (HTTP/2 and HTTP/1.1) on `port` with these PEM files, reloaded when they
   * change; `domains` have certificates of their own, picked by SNI; `redirect` sends plain HTTP
   * requests for the gateway surface to HTTPS (docs/tls.md).
   */
  tls?: TlsFiles & { port: number; domains?: TlsDomainFiles[]; redirect?: boolean };
  dataDir: string;
  /** `sqlite:` (default, a file in dataDir), `sqlite:<file>` or `postgres://...`. */
  databaseUrl?: string;
  /** SQLite only: fsync every commit (`full`, default) or not (`normal`); docs/storage.md. */
  sqliteSynchronous?: SqliteSynchronous;
  /**
   * NATS server(s) with JetStream (`nats://host:4222`): the async queue lives there, fed through
   * an outbox in the store (docs/cluster.md). Default: the SQL queue in the store.
   */
  natsUrl?: string;
  /** Stream and subject prefix on NATS (letters, digits, `_`, `-`); default `nimbus`. */
  natsPrefix?: string;
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
  /** Delay between retries of an SNS http(s) delivery. Default 20 s, as SNS's default policy. */
  snsRetryDelayMs?: number;
  /** First delay before an EventBridge target delivery is retried (doubling). Default 1 s. */
  eventsRetryDelayMs?: number;
  /** How long an async job's lease outlives a crashed worker. Default 30 s. */
  asyncLeaseMs?: number;
  /** Replaces the process-backed instances (tests of the layers above). */
  instanceFactory?: InstanceFactory;
  /** This node in `cluster_nodes` and lease rows; default `<hostname>:<port>` (docs/cluster.md). */
  nodeName?: string;
  /** WebSocket connections idle this long are closed; default 10 minutes (tests shorten it). */
  websocketIdleTimeoutMs?: number;
  /**
   * Where artifacts live: `local` (dataDir), `postgres` (shared) or an S3-compatible bucket
   * (shared, with S3 objects' bytes too); default postgres with a PostgreSQL store.
   */
  blobs?: 'local' | 'postgres' | S3BlobsOptions;
  /** Cluster safety net: how often every stage's deployment is compared. Default 30 s. */
  stageCheckMs?: number;
  /**
   * `uids` (default): as root, each service stage runs as its own uid from functionUids; not as
   * root the start is refused. `none`: no separation between functions, nor (not as root) from
   * the platform: for a developer's own machine (docs/security.md).
   */
  isolation?: IsolationMode;
  /** The uids service stages are given. Default 200000-265535. */
  functionUids?: UidRange;
  /**
   * Refuse, in the kernel, connections from function uids to the store and to `deny`
   * (docs/security.md). Needs per-stage uids (root) and the nft command.
   */
  networkGuard?: { deny: GuardedEndpoint[] };
  /**
   * Proxies whose `X-Forwarded-For` rate limits believe (`10.0.0.0/8,127.0.0.1`); none by
   * default, so the client address is the connection's peer (docs/protection.md).
   */
  trustedProxies?: string;
  /** OTLP/HTTP collector base URL (`http://127.0.0.1:4318`): spans are exported there. */
  otlpEndpoint?: string;
  /** Share of traces exported, (0, 1]; all by default (docs/tracing.md). */
  otlpSampleRatio?: number;
  /** A token that opens GET /metrics only, for a scraper (the admin token opens it too). */
  metricsToken?: string;
  /** How long per-minute usage rollups (`nimbus metrics`) are kept. Default 15 days. */
  metricsRetentionMs?: number;
  /** Cluster safety net: how often every node re-reads the event source mappings. Default 10 s. */
  mappingCheckMs?: number;
  /** How often Kinesis records past their stream's retention period are deleted. Default 60 s. */
  kinesisTrimMs?: number;
  /** How often DynamoDB's TTL sweep and 24-hour stream trim run. Default 30 s. */
  dynamodbMaintenanceMs?: number;
  /** User pools' per-source-IP limits (sign-ins; sign-ups and sends). Default docs/cognito.md. */
  userPoolIpLimits?: Record<'signIn' | 'send', { max: number; windowMs: number }>;
  /**
   * Email (user pools, SNS email subscriptions) by SMTP (`smtp://user:pass@host:port`,
   * `smtps://` for TLS); none: the
   * outbox (docs/cognito.md). `smtpFrom`: the sender when a pool names none.
   */
  smtpUrl?: string;
  smtpFrom?: string;
  /** How long a user-pool trigger may take (Cognito: 5 s). */
  userPoolTriggerTimeoutMs?: number;
  /**
   * MQTT for `iot` events and the IoT Publish API (docs/iot.md): an embedded broker on `port`
   * (0: a free one; `fallbackToFreePort`: a free one when `port` is taken), or the broker at
   * `url` (`mqtt://user:pass@host:1883`, `mqtts://...`). None by default. With a `url` the
   * rules subscribe as members of the shared subscription group `shareGroup` (default: one
   * derived from the database, so the nodes of one cluster share it), so each message is
   * handled by one node.
   */
  mqtt?:
    | { port: number; host?: string; fallbackToFreePort?: boolean }
    | { url: string; shareGroup?: string };
  /** How often `cloudwatchLog` subscriptions read new log events. Default 1 s. */
  logSubscriptionPollMs?: number;
}

export interface RunningPlatform {
  url: string;
  /** `https://host:port` when `tls` was given (docs/gateway.md#tls). */
  tlsUrl?: string;
  asyncInvoker: AsyncInvoker;
  worker: AsyncWorker;
  records: InvocationRecords;
  queue: TransactionalWorkQueue<StoreTx>;
  adminToken: string;
  adminTokenFile: string;
  /** Where state lives, in words for the banner: `SQLite /x/nimbus.db`, `postgres://u@h:5432/db`. */
  storage: { store: string; queue: string; blobs: string };
  store: Store;
  invoker: Invoker;
  pool: InstancePool;
  reconciler: StageReconciler;
  /** Polls the event source mappings (docs/sqs.md#events). */
  eventSources: EventSourceEngine;
  metrics: PromMetrics;
  /** DynamoDB table streams' read side (the event-source engine and the Streams API read it). */
  dynamodbStreams: DynamoStreamReader;
  /** The MQTT broker rules and the Publish API use; `port` when it is the embedded one. */
  /** `subscribed`: the rules' topic filters this node is subscribed to now. */
  mqtt?: { url: string; port?: number; subscribed: () => string[] };
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
  // Bad or exposed certificate files stop the start before anything else is made.
  const tlsSet = options.tls ? await readTlsSet(options.tls, options.tls.domains ?? []) : undefined;
  await secureDataDir(options.dataDir);
  const token = await loadOrCreateAdminToken(options.dataDir, options.adminToken);
  const masterKey = await loadOrCreateMasterKey(options.dataDir, options.masterKey);

  // Storage: one database handle shared by the repositories; the Store owns and closes it.
  const databaseUrl = options.databaseUrl ?? 'sqlite:';
  const location = parseStoreUrl(databaseUrl, { dataDir: options.dataDir });
  const flavor = location.kind;
  const nodeName =
    options.nodeName ?? `${hostname()}:${options.port === 0 ? `pid${process.pid}` : options.port}`;
  const blobOption = options.blobs ?? (flavor === 'postgres' ? 'postgres' : 'local');
  const blobMode = typeof blobOption === 'string' ? blobOption : 's3';
  const s3Blobs = typeof blobOption === 'string' ? undefined : blobOption;
  const storage = {
    store:
      location.kind === 'sqlite'
        ? `SQLite ${location.file}`
        : `PostgreSQL ${describePostgresUrl(location.url, location.schema)}`,
    queue: `${location.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'} (tables in the store)`,
    blobs: s3Blobs
      ? `${describeS3Blobs(s3Blobs)}, cached on local disk ${join(options.dataDir, 'blobs')}`
      : blobMode === 'postgres'
        ? `PostgreSQL (tables in the store), cached on local disk ${join(options.dataDir, 'blobs')}`
        : `local disk ${join(options.dataDir, 'blobs')}`,
  };
  const db = await openDatabase(databaseUrl, {
    dataDir: options.dataDir,
    ...(options.sqliteSynchronous ? { sqliteSynchronous: options.sqliteSynchronous } : {}),
  });
  const store = new KyselyStore(db);
  if (flavor === 'postgres') await warnAboutPostgresExposure(db, databaseUrl, logger);
  // Stopped last of all: it destroys the handle every other repository uses.
  await lifecycle.start(
    'store',
    part(() => store.close()),
  );
  const localBlobs = new FsBlobStore(join(options.dataDir, 'blobs'));
  // The bucket is checked before anything runs, so a wrong bucket or key fails the start.
  const s3BlobsClient = s3Blobs ? openS3BlobsClient(s3Blobs) : undefined;
  if (s3BlobsClient && s3Blobs) {
    await lifecycle.start(
      's3 blobs client',
      part(
        async () => s3BlobsClient.destroy(),
        () => checkS3Bucket(s3BlobsClient, s3Blobs),
      ),
    );
  }
  // Shared by every node in cluster mode, with the local directory as a cache by content hash.
  const blobs: BlobStore =
    s3BlobsClient && s3Blobs
      ? new CachedBlobStore(new S3BlobStore(s3BlobsClient, s3Blobs), localBlobs)
      : blobMode === 'postgres'
        ? new CachedBlobStore(new PgBlobStore(db, { clock }), localBlobs)
        : localBlobs;
  const sessions = new SessionCredentialStore({ db, masterKey: masterKey.key, clock });
  // One repository of access keys: the control API's create and delete forget what the SigV4
  // checks remember (exact-row-cache.ts).
  const keyStore = new KyselyAccessKeyStore(db, masterKey.key, clock);
  // Access keys and functions' session credentials, for every SigV4 check and scope check.
  const accessKeys = credentialLookup(keyStore, sessions);
  /** The one SigV4 verifier, for the credential scope service each AWS API signs with. */
  const verifierFor = (service: string) =>
    createRequestVerifier({
      keys: accessKeys,
      adminToken: token.token,
      clock,
      service,
      onError: (e) => logger.warn({ err: e }, 'recording an access key use failed'),
    });
  const logStore = new KyselyLogStore(db);
  const records = new InvocationRecords(db);
  // The async queue: in the store by default, on NATS JetStream with --nats-url (its jobs pass
  // through an outbox in the store, so they commit with their task records).
  const natsQueue = options.natsUrl
    ? await openNatsQueue({
        url: options.natsUrl,
        ...(options.natsPrefix ? { prefix: options.natsPrefix } : {}),
        nodeName,
        db,
        flavor,
        clock,
        onPublished: () => worker.wake(),
        warn: (message, error) => logger.warn({ err: error }, message),
      })
    : undefined;
  if (natsQueue) {
    // Started before the worker, so stopped after it: its last settles still reach NATS.
    await lifecycle.start(
      'nats queue',
      part(
        () => natsQueue.close(),
        () => natsQueue.relay.start(),
      ),
    );
    storage.queue = natsQueue.description;
  }
  const queue: TransactionalWorkQueue<StoreTx> =
    natsQueue?.queue ?? new SqlWorkQueue(db, { flavor, clock });
  const logs = await lifecycle.start(
    'log pipeline',
    new LogPipeline({
      store: logStore,
      clock,
      log: logger,
      ...(options.logRetentionMs === undefined ? {} : { retentionMs: options.logRetentionMs }),
      retentionOf: () => logRetentionOf(store),
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
  // Rate limits, breakers and fallbacks (docs/protection.md): counters in memory on one node,
  // in the PostgreSQL store when nodes share it, so a limit holds cluster-wide.
  const counters = flavor === 'postgres' ? await postgresCounters(db) : memoryCounters;
  if (flavor === 'postgres') {
    await lifecycle.start(
      'rate limit sweep',
      new PeriodicTask({
        name: 'sweeping rate limit counters',
        everyMs: 10 * 60_000,
        run: () => counters.sweep(),
        logger,
      }),
    );
  }
  const protection = new Protection({
    counters,
    proxies: trustedProxies(options.trustedProxies),
    logger,
    events: {
      limited: (fn) => counted.throttled(fn, 'RateLimitExceeded'),
      breaker: () => {},
    },
  });
  // Spans over OTLP only when asked: without an endpoint the SDK is never loaded.
  const tracing: Tracing = options.otlpEndpoint
    ? (await import('./observe/tracing/otlp-tracing.js')).otlpTracing({
        endpoint: options.otlpEndpoint,
        ...(options.otlpSampleRatio === undefined ? {} : { sampleRatio: options.otlpSampleRatio }),
        nodeName,
        version: packageVersion,
      })
    : idOnlyTracing(() => clock.now());
  await lifecycle.start(
    'tracing',
    part(() => tracing.stop()),
  );
  const iteratorAges = new IteratorAges();
  const metrics = new PromMetrics({
    instances: () => pool.statsByVersion(),
    asyncQueues: () =>
      natsQueue ? asyncRecordGauges(db, clock.now()) : asyncQueueGauges(db, clock.now()),
    breakers: () => protection.breakerStates(),
    iteratorAges: () => iteratorAges.list(),
    diskUsage: diskUsageReader({
      db,
      flavor,
      blobDir: join(options.dataDir, 'blobs'),
      blobsInPostgres: blobMode === 'postgres',
      blobsInS3: blobMode === 's3',
      clock,
    }),
  });
  const rollups = new RollupRecorder({ db, clock });
  await lifecycle.start(
    'usage rollups',
    new PeriodicTask({
      name: 'writing usage rollups',
      everyMs: 10_000,
      run: async () => {
        await rollups.flush();
        await rollups.prune(options.metricsRetentionMs ?? 15 * 86_400_000);
      },
      logger,
    }),
  );
  // Stopped after the pool: what the last invocations counted is written before the store closes.
  await lifecycle.start(
    'usage rollups flush',
    part(() => rollups.flush()),
  );
  const counted = teeMetrics(metrics, rollups);
  // Assigned below, once the listener knows its port (functions' AWS endpoint, the control API).
  let listener: HttpListener | undefined;
  await lifecycle.start(
    'session credential purge',
    new PeriodicTask({
      name: 'purging expired session credentials',
      everyMs: 10 * 60_000,
      run: async () => void (await sessions.purgeExpired()),
      logger,
    }),
  );
  const pool = new InstancePool({
    // Each instance starts with the platform's URL as its AWS endpoint and fresh credentials.
    factory: withFunctionAwsEnvironment(options.instanceFactory ?? processes.create, {
      endpoint: () =>
        listener?.url
          ? functionEndpoint(listener.url)
          : (plannedFunctionEndpoint(options.host, options.port) ?? ''),
      credentials: (scope) => sessions.forInstance(scope),
    }),
    clock,
    idleTimeoutMs,
    maxInstances,
    // An instance never outlives the session credentials it was started with.
    maxInstanceAgeMs: maxInstanceAgeMs(),
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
  if (options.networkGuard) {
    if (!uids) {
      throw new IsolationError(
        '--network-guard tells functions apart from the platform by uid: it needs the platform to run as root with --isolation uids',
      );
    }
    const store = storeEndpoint(databaseUrl);
    await lifecycle.start(
      'network guard',
      new NetworkGuard({
        uids: options.functionUids ?? defaultFunctionUids,
        endpoints: [...(store ? [store] : []), ...options.networkGuard.deny],
        logger,
      }),
    );
  }
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
    metrics: counted,
    tracing,
    ...(uids ? { runAsOf: (service: string, stage: string) => uids.of(service, stage) } : {}),
    // On PostgreSQL a function's reserved concurrency holds across every node sharing it.
    ...(flavor === 'postgres' ? { slots: new ConcurrencySlots({ db, clock, nodeName }) } : {}),
  });

  // Async: queue worker and the invoker that feeds it.
  const reserved = new ReservedConcurrency();
  // Async events of a function take at most half its capacity, so a backlog never starves its
  // synchronous callers, and always at least one instance, so sync traffic never starves them.
  const concurrencyOf = (name: string) =>
    Math.max(1, Math.floor((reserved.of(name) ?? maxInstances) / 2));
  let asyncInvoker: AsyncInvoker | undefined;
  // Queue and topic destinations: the SQS and SNS parts are built further down, with the edges.
  let sendToQueue: ReturnType<typeof queueDelivery> | undefined;
  let snsDeps: SnsDeps | undefined;
  let eventsDeps: EventsDeps | undefined;
  /**
   * Sends a body to an SQS queue, SNS topic or EventBridge bus ARN: the one way for destinations,
   * on-failure reports and EventBridge targets.
   */
  const deliverMessage = async (
    via: 'sqs' | 'sns' | 'events',
    arn: string,
    body: string,
    messageAttributes?: Record<string, MessageAttributeValue>,
  ) => {
    if (via === 'sqs') {
      const queue = arn.split(':')[5] ?? '';
      if (!sendToQueue) throw new Error('SQS is not started');
      await sendToQueue(queue, { body, ...(messageAttributes ? { messageAttributes } : {}) });
    } else if (via === 'sns') {
      if (!snsDeps) throw new Error('SNS is not started');
      await publishToTopic(snsDeps, arn, body, listener?.url ?? '', messageAttributes);
    } else {
      if (!eventsDeps) throw new Error('EventBridge is not started');
      await putPlatformEvent(eventsDeps, arn, destinationEvent(body));
    }
  };
  const worker = new AsyncWorker({
    queue,
    records,
    invoker,
    tracing,
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
    metrics: counted,
    messaging: { deliver: deliverMessage },
  });
  asyncInvoker = new AsyncInvoker({ invoker, queue, records, clock, wake: () => worker.wake() });
  const accept = asyncInvoker;
  // EventBridge targets: delivered at once when an event comes, retried later through durable
  // jobs (their RetryPolicy), and queued by scheduled rules' slots (docs/eventbridge.md).
  const eventsStore = new EventsStore(db);
  const eventsTargets: TargetDeliveries = {
    invokeFunction: async (name, qualifier, event, policy) => {
      await accept.accept(name, qualifier, event, {
        retry: {
          ...(policy.maxRetryAttempts === undefined
            ? {}
            : { maxRetryAttempts: policy.maxRetryAttempts }),
          ...(policy.maxEventAgeSeconds === undefined
            ? {}
            : { maxEventAgeSeconds: policy.maxEventAgeSeconds }),
        },
        ...(policy.onFailure ? { onFailure: policy.onFailure } : {}),
      });
    },
    deliver: (via, arn, body, attributes) => deliverMessage(via, arn, body, attributes),
    putOnBus: async (arn, event, hops) => {
      if (!eventsDeps) throw new Error('EventBridge is not started');
      await forwardToBus(eventsDeps, arn, event, hops);
    },
    onError: (error, target) => logger.warn({ err: error, target }, 'EventBridge delivery failed'),
  };
  const targetJobs = new TargetJobs({
    queue,
    targets: eventsTargets,
    clock,
    logger,
    ...(options.eventsRetryDelayMs === undefined
      ? {}
      : { retryBaseMs: options.eventsRetryDelayMs }),
  });
  eventsTargets.retryLater = (job, error) => targetJobs.retryLater(job, error);
  await lifecycle.start(
    'eventbridge target jobs',
    new PeriodicTask({
      name: 'delivering EventBridge target jobs',
      everyMs: 1000,
      run: () => targetJobs.drain(),
      logger,
    }),
  );
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
  // In a cluster one node at a time ticks the schedules (the ledger's claims would keep slots
  // single anyway; the lease spares the others the work and the contention).
  let scheduleLease: ScheduleLeaseKeeper | undefined;
  const schedules = new ScheduleRunner({
    ledger: new KyselyScheduleLedger(db, { mode: 'same-transaction' }),
    clock,
    ...withRuleSchedules(scheduleFiring(accept, { region }), () => rulesFiring),
    onError: (error, schedule) =>
      logger.error({ err: error, schedule: schedule?.id }, 'schedule failed'),
    ...(flavor === 'postgres'
      ? {
          // Until the lease keeper starts (below), this node holds nothing and ticks nothing.
          lease: { hold: async (now: number) => (scheduleLease ? scheduleLease.hold(now) : false) },
          retryDelayMs: 3_000,
        }
      : {}),
  });
  const rulesFiring = ruleFiring<StoreTx>({
    store: eventsStore,
    region,
    jobs: targetJobs,
    queueWithin: (tx) => queue.within(tx),
  });
  await lifecycle.start(
    'schedules',
    part(() => schedules.stop()),
  );
  // Scheduled EventBridge rules join the runner as the `eventbridge` group; the period brings
  // in rules changed through other nodes of a cluster.
  const scheduledRules = new ScheduledRules({ store: eventsStore, runner: schedules });
  const refreshScheduledRules = () => {
    scheduledRules
      .refresh()
      .catch((error: unknown) => logger.error({ err: error }, 'reading scheduled rules failed'));
  };
  await scheduledRules.refresh();
  await lifecycle.start(
    'scheduled rules',
    new PeriodicTask({
      name: 'reading scheduled rules',
      everyMs: 5000,
      run: () => scheduledRules.refresh(),
      logger,
    }),
  );
  if (flavor === 'postgres') {
    scheduleLease = await lifecycle.start(
      'schedule lease',
      new ScheduleLeaseKeeper({
        lease: new ClusterLease({ db, name: 'schedules', holder: nodeName, ttlMs: 10_000, clock }),
        tick: () => schedules.tick(),
        renewEveryMs: 3_000,
        logger,
      }),
    );
  }

  // Edges: gateway, Invoke API, control API behind the one front door.
  const apiKeys = new KyselyApiKeyStore(db, masterKey.key, clock);
  const accessGate = new AccessGate({
    invoker,
    clock,
    logger,
    region,
    jwks: new JwksCache({ clock }),
    verifyIam: verifierFor('execute-api'),
    scopeOf: (id) => accessKeys.scopeOf(id),
    limiter: new UsageLimiter({ clock, counter: apiKeys }),
    // Read per request (never before the listener is up), so the pools made below are there.
    userPools: { keysOf: (poolId) => userPools.tokenKeys.keysOf(poolId) },
  });
  const gateway = new GatewayListener({
    access: accessGate,
    table: compileRouteTable([], []),
    invoker,
    clock,
    logger,
    acceptAsync: (name, qualifier, event, trace) =>
      accept.accept(name, qualifier, event, trace ? { trace } : {}),
    protection,
    tracing,
    // Read per request (the S3 service is made below, before the listener is up).
    unrouted: (req, res, path) => s3FormUploads(req, res, path),
  });
  const s3Notifier = new S3Notifier({
    region,
    accept: (name, qualifier, event) => accept.accept(name, qualifier, event),
    logger,
    // The parts below are made further down; changes only flow once the listener is up.
    configOf: (bucket) => s3Meta.bucketNotification(bucket),
    destinations: {
      exists: (k, arn) => s3Destinations.exists(k, arn),
      send: (k, arn, body) => s3Destinations.send(k, arn, body),
    },
    putEvent: async (entry) => {
      if (!eventsDeps) throw new Error('EventBridge is not started');
      await putPlatformEvent(eventsDeps, '', entry);
    },
  });
  // Event source mappings: polled queues (and later streams) invoking functions synchronously.
  const sqsStore = new SqsStore(db, flavor);
  const sqsLongPolls = new QueueWaiters();
  const mappings = new MappingStore(db);
  const checkpoints = new CheckpointStore(db);
  const dynamodbStreams = new DynamoStreamReader(db, clock);
  const kinesisStore = new KinesisStore(db);
  // Kinesis records: one JetStream stream per Kinesis stream with --nats-url, else the store.
  let kinesisRecords: KinesisRecordLog = new SqlRecordLog(db);
  if (natsQueue) {
    const onNats = await NatsRecordLog.open(natsQueue.connection, {
      ...(options.natsPrefix ? { prefix: options.natsPrefix } : {}),
    });
    // Streams made before the platform had --nats-url get their JetStream stream now.
    await onNats.trim(clock.now(), () => kinesisStore.listStreams());
    kinesisRecords = onNats;
  }
  const eventSources = await lifecycle.start(
    'event source mappings',
    new EventSourceEngine({
      list: () => mappings.list(),
      sourceOf: (m) => {
        const queue = parseSqsArn(m.sourceArn);
        if (queue) {
          return sqsEventSource(
            { store: sqsStore, waiters: sqsLongPolls, clock },
            queue.queue,
            m.sourceArn,
            queue.region,
          );
        }
        if (parseDynamoStreamArn(m.sourceArn)) {
          return dynamodbEventSource(
            { reader: dynamodbStreams, checkpoints, clock, timer: systemScheduler },
            m,
          );
        }
        if (parseKinesisStreamArn(m.sourceArn)) {
          return kinesisEventSource(
            {
              store: kinesisStore,
              records: kinesisRecords,
              checkpoints,
              clock,
              timer: systemScheduler,
            },
            m,
          );
        }
        return undefined;
      },
      onFailure: async (failed) => {
        const to = failed.mapping.onFailure;
        if (!to) {
          logger.warn(
            { mapping: failed.mapping.uuid, shard: failed.shard, reason: failed.reason },
            'a stream batch was given up on and the mapping has no onFailure destination',
          );
          return;
        }
        const record = streamFailureRecord(failed, region, clock.now());
        await deliverMessage(to.split(':')[2] as 'sqs' | 'sns', to, JSON.stringify(record));
      },
      invoke: invokeThrough(invoker),
      iteratorAges,
      clock,
      timer: systemScheduler,
      logger,
      maxBatchBytes: 6 * MiB,
    }),
  );
  if (flavor === 'postgres') {
    // Mappings changed through another node's Lambda API reach this node within this period.
    await lifecycle.start(
      'event source mapping check',
      new PeriodicTask({
        name: 'reading event source mappings',
        everyMs: options.mappingCheckMs ?? 10_000,
        run: () => eventSources.refresh(),
        logger,
      }),
    );
  }
  const functionUrls = new FunctionUrlListener({
    invoker,
    clock,
    logger,
    verifyIam: verifierFor('lambda'),
    scopeOf: (id) => accessKeys.scopeOf(id),
  });
  const albs = new AlbListener({ invoker, logger });
  const websockets = await lifecycle.start(
    'websocket apis',
    new WebSocketGateway({
      invoker,
      clock,
      logger,
      region,
      node: nodeName,
      connections: new ConnectionStore(db),
      verify: verifierFor('execute-api'),
      scopeOf: (id) => accessKeys.scopeOf(id),
      ...(options.websocketIdleTimeoutMs === undefined
        ? {}
        : { idleTimeoutMs: options.websocketIdleTimeoutMs }),
    }),
  );
  // Cluster mode: @connections reaches connections other nodes hold (docs/websockets.md#cluster).
  if (location.kind === 'postgres') {
    const relay = await lifecycle.start(
      'websocket relay',
      new ConnectionRelay({
        db,
        url: location.url,
        schema: location.schema ?? 'public',
        nodeName,
        deliver: (action) => websockets.deliver(action),
        logger,
      }),
    );
    websockets.setForwarder(relay);
  }
  const snsStore = new SnsStore(db);
  // MQTT: the embedded broker (or an external one) and the platform's client for rules and
  // the Publish API; started after the reconciler's first pass, so the rules are known before a
  // persistent session delivers what was queued while the platform was down.
  const mqttOptions = options.mqtt;
  const broker =
    mqttOptions && 'port' in mqttOptions
      ? new EmbeddedBroker({
          host: mqttOptions.host ?? options.host,
          port: mqttOptions.port,
          fallbackToFreePort: mqttOptions.fallbackToFreePort ?? false,
          adminToken: token.token,
          findSecret: (id) => accessKeys.findSecret(id),
          logger,
        })
      : undefined;
  const iotRules = mqttOptions
    ? new IotRuleEngine({
        url: () => (broker ? broker.url : (mqttOptions as { url: string }).url),
        clientId: `nimbus-rules-${nodeName.replace(/[^\w.-]/g, '_')}`.slice(0, 128),
        // An external broker may be shared by the nodes of a cluster: one delivery per message.
        ...(broker
          ? { publisherOf: (topic: string, payload: Buffer) => broker.publisherOf(topic, payload) }
          : {
              shareGroup:
                (mqttOptions as { shareGroup?: string }).shareGroup ??
                `nimbus-${createHash('sha256')
                  .update(location.kind === 'postgres' ? databaseUrl : location.file)
                  .digest('hex')
                  .slice(0, 16)}`,
            }),
        ...(broker ? { connect: { username: 'nimbus', password: token.token } } : {}),
        accept: (name, qualifier, event) => accept.accept(name, qualifier, event),
        clock,
        logger,
      })
    : undefined;
  const logSubscriptions = new LogSubscriptions({
    db,
    logs: logStore,
    accept: (name, qualifier, event, idempotencyKey) =>
      accept.accept(name, qualifier, event, { idempotencyKey }),
    accountId: NIMBUS_ACCOUNT_ID,
    clock,
    logger,
  });
  // Made before the reconciler, which attaches `cognitoUserPool` events on existing pools.
  const userPoolTriggers = new PoolTriggers({
    region,
    // Triggers run synchronously, as their own invocations (their log lines are theirs).
    invoke: async (functionRef, payload) =>
      (await invoker.invoke(functionRef, undefined, { payload, requestId: randomUUID() })).result
        .outcome,
    ...(options.userPoolTriggerTimeoutMs === undefined
      ? {}
      : { timeoutMs: options.userPoolTriggerTimeoutMs }),
    onProblem: (message) => logger.warn(message),
  });
  const reconciler = new StageReconciler({
    store,
    logger,
    reactions: [
      resolverReaction(resolver),
      limitsReaction(reserved),
      schedulesReaction(schedules),
      s3NotificationsReaction(s3Notifier),
      cognitoTriggersReaction(userPoolTriggers),
      accessReaction({ gate: accessGate, store, apiKeys, logger }),
      protectionReaction(protection, store),
      routesReaction(gateway, store),
      eventSourcesReaction({ mappings, engine: eventSources, clock, logger }),
      functionUrlsReaction(functionUrls, store),
      albReaction(albs, store),
      websocketsReaction(websockets, store, logger),
      {
        name: 'sns subscriptions',
        react: (state) =>
          syncStageSubscriptions(
            {
              store: snsStore,
              clock,
              region,
              onProblem: (fn, message) =>
                logger.error(
                  { service: state.service, stage: state.stage, function: fn },
                  `sns event not applied: ${message}`,
                ),
            },
            state,
          ),
      },
      {
        name: 'iot rules',
        react: async (state) => {
          const problem = (fn: string, message: string) =>
            logger.error(
              { service: state.service, stage: state.stage, function: fn },
              `iot event not applied: ${message}`,
            );
          const rules = iotRulesOfStage(state, problem);
          if (!iotRules) {
            if (rules.length > 0)
              problem(rules[0]!.label, 'the platform runs without MQTT (--mqtt-port, --mqtt-url)');
            return;
          }
          await iotRules.setRules(`${state.service}/${state.stage}`, rules);
        },
      },
      {
        name: 'log subscriptions',
        react: (state) =>
          logSubscriptions.setStage(state, (fn, message) =>
            logger.error(
              { service: state.service, stage: state.stage, function: fn },
              `cloudwatchLog event not applied: ${message}`,
            ),
          ),
      },
      {
        name: 'eventbridge rules',
        react: (state) =>
          syncStageRules(
            {
              store: eventsStore,
              clock,
              region,
              onProblem: (fn, message) =>
                logger.error(
                  { service: state.service, stage: state.stage, function: fn },
                  `eventBridge event not applied: ${message}`,
                ),
            },
            state,
          ),
      },
      instancesReaction({
        pool,
        store,
        prepare: (name, qualifier) => invoker.prepare(name, qualifier),
        provision: (name, qualifier) => invoker.provision(name, qualifier),
      }),
    ],
  });
  // Cluster mode: deploys through any node reach every node's reconciler (docs/cluster.md).
  // Listening starts before the reconciler's first pass, so no change falls between the two.
  const feed =
    location.kind === 'postgres'
      ? await lifecycle.start(
          'stage change feed',
          new StageChangeFeed({
            db,
            url: location.url,
            schema: location.schema ?? 'public',
            nodeName,
            changed: (key) => reconciler.changed(key),
            logger,
            ...(options.stageCheckMs === undefined ? {} : { checkEveryMs: options.stageCheckMs }),
          }),
        )
      : undefined;
  await lifecycle.start('stage reconciler', reconciler);
  if (broker) await lifecycle.start('mqtt broker', broker);
  if (iotRules) await lifecycle.start('iot rules', iotRules);
  await lifecycle.start(
    'log subscriptions',
    new PeriodicTask({
      name: 'delivering log subscriptions',
      everyMs: options.logSubscriptionPollMs ?? 1000,
      run: () => logSubscriptions.run(),
      logger,
    }),
  );
  const stageChanged = async (change: StageChange) => {
    const local = reconciler.changed(change);
    await feed?.publish(change);
    await local;
  };
  const deployer = new Deployer({
    store,
    blobs,
    clock,
    retainDeployments: options.retainDeployments ?? 5,
    check: (definition) => checkDefinition(definition, { maxConcurrency: maxInstances }),
    prepareCode: async (sha, service, stage) => {
      await codeCache.dir(sha, uids ? await uids.of(service, stage) : undefined);
    },
  });
  const lambdaApi = createLambdaApi({
    admit: (name, caller) => protection.admitInvoke(name, caller),
    acceptAsync: (name, qualifier, payload, idempotencyKey, trace) =>
      accept.accept(name, qualifier, payload, {
        ...(idempotencyKey ? { idempotencyKey } : {}),
        ...(trace ? { trace } : {}),
      }),
    invoker,
    scopeOf: (id) => accessKeys.scopeOf(id),
    verify: verifierFor('lambda'),
    maxSyncPayloadBytes: 6 * MiB,
    operations: lambdaOperations(
      createMappingOperations({
        mappings,
        invoker,
        queueExists: async (name) => (await sqsStore.findQueue(name)) !== undefined,
        streamExists: async (arn) => {
          const kinesis = parseKinesisStreamArn(arn);
          if (kinesis) return (await kinesisStore.findStream(kinesis.stream)) !== undefined;
          return (await dynamodbStreams.stream(arn)) !== undefined;
        },
        clock,
        onChange: () => eventSources.refresh(),
      }),
      createFunctionOperations({
        store,
        maxInstances,
        // An alias is no deployment: the stage's reactions re-read it (resolver, instances).
        onAliasChange: ({ service, stage, functionName }) =>
          stageChanged({ kind: 'deployed', service, stage, functionNames: [functionName] }),
        deployer,
        onDeployed: (change) => stageChanged({ kind: 'deployed', ...change }),
      }),
      createFunctionLifecycleOperations({
        store,
        blobs,
        deployer,
        onDeployed: (change) => stageChanged({ kind: 'deployed', ...change }),
        readS3Object: (bucket, key) => readS3Object(bucket, key),
      }),
      createFunctionSettingsOperations({
        store,
        deployer,
        onDeployed: (change) => stageChanged({ kind: 'deployed', ...change }),
      }),
      createFunctionUrlConfigOperations({
        store,
        deployer,
        onDeployed: (change) => stageChanged({ kind: 'deployed', ...change }),
        publicUrl: () => listener?.url ?? '',
      }),
      createFixedSettingsOperations({ store }),
      createLayerOperations({
        store,
        blobs,
        readS3Object: (bucket, key) => readS3Object(bucket, key),
        now: () => new Date(clock.now()).toISOString(),
      }),
    ),
    onError: (e) =>
      (e as { code?: unknown })?.code === 'NIMBUS_HTTP_ABORTED'
        ? logger.debug('invoke API client closed the connection')
        : logger.error({ err: e }, 'invoke API request failed'),
  });
  // With shared blobs, objects' bytes are shared too: in the bucket (staged under the data dir)
  // or as chunked rows of the store.
  const objectFiles: ObjectStorage = await lifecycle.start(
    's3 object files',
    s3BlobsClient && s3Blobs
      ? new S3ObjectFiles(s3BlobsClient, { ...s3Blobs, stagingDir: join(options.dataDir, 's3') })
      : blobMode === 'postgres'
        ? new PgObjectFiles(db, { clock })
        : new ObjectFiles(join(options.dataDir, 's3')),
  );
  const s3Meta = new S3Metadata(db);
  /** CreateFunction / UpdateFunctionCode with Code.S3Bucket + S3Key (docs/lambda-api.md). */
  const readS3Object = async (bucket: string, key: string): Promise<Buffer | undefined> => {
    const row = await s3Meta.findObject(bucket, key);
    if (!row) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of objectFiles.read(row.blobId)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  /** The queues, topics and functions a bucket's notification configuration names. */
  const s3Destinations: NotificationDestinations = {
    exists: async (kind, arn) => {
      const name = destinationResource(kind, arn).name;
      if (kind === 'queue') return (await sqsStore.findQueue(name)) !== undefined;
      if (kind === 'topic') return (await snsStore.findTopic(name)) !== undefined;
      try {
        const fn = functionOfArn(arn);
        await invoker.resolve(name, fn?.qualifier);
        return true;
      } catch (error) {
        if (error instanceof FunctionNotFoundError) return false;
        throw error;
      }
    },
    send: async (kind, arn, body) => {
      if (kind === 'function') {
        await accept.accept(
          destinationResource(kind, arn).name,
          functionOfArn(arn)?.qualifier,
          body,
        );
      } else await deliverMessage(kind === 'queue' ? 'sqs' : 'sns', arn, body);
    },
  };
  // One scope lookup and one owner record for every AWS service (docs/security.md).
  const callerScopes = rememberedScopes((id) => accessKeys.scopeOf(id));
  const resourceOwners = new ResourceOwners(db, clock, {
    // Functions keep their stage in the deployment records: an SNS subscription's endpoint.
    functionOwner: async (name) => {
      try {
        const target = await invoker.resolve(name, undefined);
        return { service: target.service, stage: target.stage };
      } catch (error) {
        if (error instanceof FunctionNotFoundError) return undefined;
        throw error;
      }
    },
  });
  const s3 = createS3Service({
    meta: s3Meta,
    files: objectFiles,
    clock,
    region,
    maxObjectBytes: 5 * 1024 * MiB,
    onChange: (change) => s3Notifier.notify(change),
    scopeOf: callerScopes,
    owners: resourceOwners,
    destinations: s3Destinations,
    verify: createStreamingRequestVerifier({
      keys: accessKeys,
      clock,
      service: 's3',
      onError: (e) => logger.warn({ err: e }, 'recording an access key use failed'),
    }),
    verifyPolicy: createPostPolicyVerifier({
      keys: accessKeys,
      clock,
      service: 's3',
      onError: (e) => logger.warn({ err: e }, 'recording an access key use failed'),
    }),
    onError: (e) => logger.error({ err: e }, 'S3 request failed'),
  });
  const s3FormUploads = formUploadsOnPlatformAddress(s3Meta, s3);
  const dynamoStore = new DynamoStore(db, flavor, { region, clock });
  await lifecycle.start(
    'dynamodb maintenance',
    new PeriodicTask({
      name: 'sweeping DynamoDB TTL and trimming streams',
      everyMs: options.dynamodbMaintenanceMs ?? 30_000,
      run: async () => {
        await sweepExpired(dynamoStore, clock);
        await dynamodbStreams.trim();
      },
      logger,
    }),
  );
  const dynamodb = createDynamoService({
    store: dynamoStore,
    streams: dynamodbStreams,
    clock,
    region,
    accountId: NIMBUS_ACCOUNT_ID,
    verify: verifierFor('dynamodb'),
    scopeOf: callerScopes,
    owners: resourceOwners,
    onError: (e) => logger.error({ err: e }, 'DynamoDB request failed'),
  });
  sendToQueue = queueDelivery({ store: sqsStore, waiters: sqsLongPolls, clock });
  const sqs = createSqsService({
    store: sqsStore,
    clock,
    region,
    waiters: sqsLongPolls,
    verify: verifierFor('sqs'),
    scopeOf: callerScopes,
    owners: resourceOwners,
    onError: (e) => logger.error({ err: e }, 'SQS request failed'),
  });
  const mailer = options.smtpUrl
    ? await lifecycle.start(
        'user pool mail',
        (() => {
          const m = createSmtpMailer({
            url: options.smtpUrl,
            ...(options.smtpFrom ? { from: options.smtpFrom } : {}),
            onProblem: (message) => logger.warn(message),
          });
          return Object.assign(
            m,
            part(() => m.close()),
          );
        })(),
      )
    : undefined;
  await lifecycle.start(
    'kinesis retention',
    new PeriodicTask({
      name: 'trimming Kinesis records past their retention period',
      everyMs: options.kinesisTrimMs ?? 60_000,
      run: () => kinesisRecords.trim(clock.now(), () => kinesisStore.listStreams()),
      logger,
    }),
  );
  const kinesis = createKinesisService({
    store: kinesisStore,
    records: kinesisRecords,
    clock,
    region,
    limits: new ShardWriteLimits(clock),
    verify: verifierFor('kinesis'),
    scopeOf: callerScopes,
    owners: resourceOwners,
    onError: (e) => logger.error({ err: e }, 'Kinesis request failed'),
  });
  const userPools = createUserPools({
    db,
    masterKey: masterKey.key,
    clock,
    region,
    platformUrl: () => listener?.url ?? '',
    verify: verifierFor('cognito-idp'),
    scopeOf: callerScopes,
    owners: resourceOwners,
    ...(options.userPoolIpLimits ? { ipLimits: options.userPoolIpLimits } : {}),
    triggers: userPoolTriggers,
    ...(mailer ? { mailer } : {}),
    onError: (e) => logger.error({ err: e }, 'user pools request failed'),
  });
  // serverless.yml `resources` (docs/resources.md): one provisioner per type, over the same
  // stores the services answer from.
  const resourceTypes = new ProvisionerRegistry([
    new BucketProvisioner({
      meta: s3Meta,
      files: objectFiles,
      clock,
      destinations: s3Destinations,
    }),
    new QueueProvisioner({ store: sqsStore, clock }),
    new TableProvisioner({
      store: dynamoStore,
      clock,
      region,
      accountId: NIMBUS_ACCOUNT_ID,
      updateTimeToLive,
    }),
    snsTopicProvisioner({ store: snsStore, clock, confirm: (c) => snsDeps?.deliveries.confirm(c) }),
    new StreamProvisioner({ store: kinesisStore, records: kinesisRecords, clock }),
    snsSubscriptionProvisioner({
      store: snsStore,
      clock,
      confirm: (c) => snsDeps?.deliveries.confirm(c),
    }),
    eventBusProvisioner({ store: eventsStore, clock }),
    eventRuleProvisioner({ store: eventsStore, clock, onRulesChanged: refreshScheduledRules }),
    ...userPools.provisioners,
  ]);
  const resources = deployResources({
    registry: resourceTypes,
    stageResources: new StageResources({
      registry: resourceTypes,
      records: new ResourceRecords(db),
      clock,
      owners: resourceOwners,
    }),
    accountId: NIMBUS_ACCOUNT_ID,
  });
  snsDeps = {
    store: snsStore,
    clock,
    region,
    deliveries: platformDeliveries({
      invokeAsync: (name, qualifier, event) => accept.accept(name, qualifier, event),
      sendToQueue,
      // Email subscribers get mail by SMTP, or, without a mail server, in the outbox user pools
      // use (docs/sns.md): the topic ARN where a pool id would be.
      sendMail: async (m) => {
        if (mailer) return mailer.send({ to: m.to, subject: m.subject, text: m.text });
        await userPools.store.addMessage({
          id: outboxId(clock.now()),
          poolId: m.topicArn,
          username: m.subscriptionArn,
          destination: m.to,
          kind: `sns-${m.kind}`,
          message: `${m.subject}\n\n${m.text}`,
          createdAt: clock.now(),
        });
      },
      logger,
      ...(options.snsRetryDelayMs === undefined ? {} : { retryDelayMs: options.snsRetryDelayMs }),
    }),
  };
  eventsDeps = {
    store: eventsStore,
    clock,
    region,
    targets: eventsTargets,
    onRulesChanged: refreshScheduledRules,
  };
  const events = createEventsService({
    ...eventsDeps,
    verify: verifierFor('events'),
    scopeOf: callerScopes,
    owners: resourceOwners,
    onError: (e) => logger.error({ err: e }, 'EventBridge request failed'),
  });
  const sns = createSnsService({
    ...snsDeps,
    verify: verifierFor('sns'),
    scopeOf: callerScopes,
    owners: resourceOwners,
    onError: (e) => logger.error({ err: e }, 'SNS request failed'),
  });
  const iotData = createIotDataService({
    verify: verifierFor('iotdata'),
    publish: iotRules
      ? (topic, payload, qos, retain) => iotRules.publish(topic, payload, qos, retain)
      : undefined,
    onError: (e) => logger.error({ err: e }, 'IoT data-plane request failed'),
  });
  let registry: NodeRegistry | undefined;
  const control = createControlApi({
    store,
    blobs,
    deployer,
    adminToken: token.token,
    zipLimits,
    maxJsonBytes: 10 * MiB,
    maxInstances,
    publicUrl: () => listener?.url ?? '',
    onChange: stageChanged,
    resources,
    extraRoutes: [
      ...logsRoutes({
        logs: logStore,
        pipeline: logs,
        functions: store,
        // In a cluster a live tail shows every node's lines, not only this node's.
        ...(flavor === 'postgres' ? { otherNodesEveryMs: 500 } : {}),
      }),
      ...keysRoutes(keyStore),
      ...userPools.routes,
      ...usageRoutes({ usage: rollups, now: () => clock.now() }),
      ...apiKeysRoutes({ store, apiKeys }),
      ...invocationsRoutes({ records, queue, store, clock, wake: () => worker.wake() }),
      ...backupRoutes({
        dataDir: options.dataDir,
        version: packageVersion,
        snapshotDatabase:
          flavor === 'sqlite'
            ? async (file) => void (await sql`VACUUM INTO ${file}`.execute(db))
            : undefined,
        logger,
      }),
      ...clusterRoutes({
        registry: { list: async () => (await registry?.list()) ?? [] },
        nodeName,
        mode: flavor === 'postgres' ? 'cluster' : 'single',
      }),
    ],
  });
  const metricsArea = metricsRoute({
    render: () => metrics.render(),
    contentType: metrics.contentType,
    tokens: [token.token, ...(options.metricsToken ? [options.metricsToken] : [])],
  });
  // The console reaches the platform through its own HTTP APIs, as the admin (docs/console.md).
  const consoleArea = createConsoleArea({
    sessions: new ConsoleSessions({ clock }),
    adminToken: token.token,
    keys: keyStore,
    assets: loadConsoleAssets(join(packageRoot, 'dist', 'console')),
    forwardPrefixes: ['/v1', '/metrics', lambdaApiPrefix.slice(0, -1)],
    forward: (req, res, path) =>
      path === '/metrics'
        ? metricsArea(req, res)
        : path.startsWith('/v1/')
          ? control(req, res, path)
          : lambdaApi(req, res, path),
  });
  const frontDoor = createFrontDoor({
    ...(options.tls?.redirect ? { toHttps: httpsRedirect(() => listener?.tlsPort) } : {}),
    console: consoleArea,
    health: async (_req, res) => sendJson(res, 200, { status: 'ok', version: packageVersion }),
    metrics: metricsArea,
    control: (req, res, path) => control(req, res, path),
    lambda: { prefix: lambdaApiPrefix, handle: (req, res, path) => lambdaApi(req, res, path) },
    functionUrls: (req, res, target, rawQuery) => functionUrls.handle(req, res, target, rawQuery),
    albs: (req, res, target, rawQuery) => albs.handle(req, res, target, rawQuery),
    gateway: (req, res, path, rawQuery) => gateway.handle(req, res, path, rawQuery),
    wellKnown: userPools.wellKnown,
    aws: {
      s3: (req, res) => s3(req, res),
      dynamodb: (req, res) => dynamodb(req, res),
      sqs: (req, res) => sqs(req, res),
      kinesis: (req, res) => kinesis(req, res),
      sns: (req, res) => sns(req, res),
      events: (req, res) => events(req, res),
      'cognito-idp': (req, res) => userPools.service(req, res),
      iotdata: (req, res, path, rawQuery) => iotData(req, res, path, rawQuery),
      lambda: (req, res, path) => lambdaApi(req, res, path),
      // The @connections API of WebSocket APIs; other execute-api requests are IAM routes.
      'execute-api': (req, res, path, rawQuery) =>
        connectionsPathOf(path) === undefined
          ? gateway.handle(req, res, path, rawQuery)
          : websockets.connectionsApi(req, res, path),
    },
  });
  const upgradeDoor = createUpgradeDoor({
    websockets: async (req, socket, head, path, rawQuery) => {
      const key = websocketTargetOf(req.headers.host, path);
      if (key === undefined) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      await websockets.upgrade(req, socket, head, key, rawQuery);
    },
  });
  listener = await lifecycle.start(
    'http listener',
    new HttpListener({
      host: options.host,
      port: options.port,
      ...(options.tls && tlsSet
        ? { tls: { port: options.tls.port, ...tlsSet.pair, domains: tlsSet.domains } }
        : {}),
      upgrade: (req, socket, head) => {
        upgradeDoor(req, socket, head).catch((error: unknown) => {
          logger.error({ err: error }, 'websocket upgrade failed');
          socket.destroy();
        });
      },
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
  const tlsFiles = options.tls;
  if (tlsFiles) {
    const tlsListener = listener;
    // A renewed certificate is served without a restart; a bad one is logged, the old one kept.
    // Every pair is checked before any is swapped: one bad renewal keeps all the previous ones.
    const domains = tlsFiles.domains ?? [];
    const files = [tlsFiles, ...domains].flatMap((f) => [f.certFile, f.keyFile]);
    const watcher = watchTlsFiles(files, () => {
      readTlsSet(tlsFiles, domains).then(
        (set) => {
          tlsListener.setCertificates(set.pair, set.domains);
          logger.info(
            { cert: tlsFiles.certFile, domains: domains.map((d) => d.host) },
            'tls certificates reloaded',
          );
        },
        (error: unknown) =>
          logger.error({ err: error }, 'tls certificates not reloaded; the previous ones stay'),
      );
    });
    await lifecycle.start('tls certificate watch', { stop: () => watcher.close() });
  }
  // Started after the listener so it stops first: waiting long polls answer at once, and the
  // listener's graceful stop is not held for up to 20 s.
  await lifecycle.start('sqs long polls', sqsLongPolls);
  const url = listener.url;
  registry = await lifecycle.start(
    'node registry',
    new NodeRegistry({
      db,
      clock,
      name: nodeName,
      version: packageVersion,
      url: () => url,
      load: () => {
        const { instances, busy } = pool.stats();
        return { instances, busy, asyncRuns: worker.inFlight };
      },
      logger,
    }),
  );
  logger.info(
    {
      url,
      ...(listener.tlsUrl ? { tlsUrl: listener.tlsUrl } : {}),
      dataDir: options.dataDir,
      tokenSource: token.source,
    },
    'nimbus platform ready',
  );

  return {
    url,
    ...(listener.tlsUrl ? { tlsUrl: listener.tlsUrl } : {}),
    asyncInvoker,
    worker,
    records,
    queue,
    adminToken: token.token,
    adminTokenFile: token.file,
    storage,
    store,
    invoker,
    pool,
    reconciler,
    eventSources,
    metrics,
    dynamodbStreams,
    ...(iotRules
      ? {
          mqtt: {
            ...(broker
              ? { url: broker.url, port: broker.port }
              : { url: (mqttOptions as { url: string }).url }),
            subscribed: () => iotRules.subscribed,
          },
        }
      : {}),
    parts: lifecycle.parts,
    close: (opts = {}) => lifecycle.stop(opts),
  };
}

/** The Lambda API's operation groups: the first that knows the request answers it. */
function lambdaOperations(
  ...groups: ((r: OperationRequest) => Promise<OperationAnswer | undefined>)[]
): (r: OperationRequest) => Promise<OperationAnswer | undefined> {
  return async (r) => {
    for (const group of groups) {
      const answer = await group(r);
      if (answer) return answer;
    }
    return undefined;
  };
}

function clientWentAway(error: unknown, req: { destroyed: boolean }): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'NIMBUS_HTTP_ABORTED' || code === 'ECONNRESET' || req.destroyed;
}
