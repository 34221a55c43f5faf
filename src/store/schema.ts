/**
 * Kysely table types, shared by both dialects. Column names are snake_case; the query modules
 * map rows to the camelCase rows of the Store port.
 *
 * JSON payloads are TEXT in both dialects (not jsonb): one representation, one code path, and
 * nothing queries inside them. Timestamps are ISO-8601 TEXT, except deployments.timestamp,
 * which is epoch milliseconds in a BIGINT (the PostgreSQL pool parses int8 as a Number).
 */
import type { Generated } from 'kysely';

export interface Database {
  stages: StagesTable;
  functions: FunctionsTable;
  function_versions: FunctionVersionsTable;
  aliases: AliasesTable;
  deployments: DeploymentsTable;
  log_events: LogEventsTable;
  access_keys: AccessKeysTable;
  session_credentials: SessionCredentialsTable;
  api_keys: ApiKeysTable;
  api_key_usage: ApiKeyUsageTable;
  work_jobs: WorkJobsTable;
  work_job_keys: WorkJobKeysTable;
  work_outbox: WorkOutboxTable;
  work_outbox_keys: WorkOutboxKeysTable;
  schedule_state: ScheduleStateTable;
  async_invocations: AsyncInvocationsTable;
  cluster_nodes: ClusterNodesTable;
  cluster_leases: ClusterLeasesTable;
  blob_chunks: BlobChunksTable;
  blobs: BlobsTable;
  function_uids: FunctionUidsTable;
  metric_rollups: MetricRollupsTable;
  metric_rollup_durations: MetricRollupDurationsTable;
  layers: LayersTable;
  layer_versions: LayerVersionsTable;
}

export interface LayersTable {
  name: string;
  last_version: number;
}

export interface LayerVersionsTable {
  name: string;
  version: number;
  code_sha256: string;
  code_size: number;
  unzipped_size: number;
  /** JSON of LayerVersionSettings. */
  config: string;
  config_sha256: string;
  owner: string | null;
  created_at: string;
}

export interface StagesTable {
  id: Generated<number>;
  service: string;
  stage: string;
  region: string;
  created_at: string;
  updated_at: string;
}

export interface FunctionsTable {
  id: Generated<number>;
  stage_id: number;
  key: string;
  name: string;
}

export interface FunctionVersionsTable {
  function_id: number;
  version: number;
  code_sha256: string;
  code_size: number;
  config_sha256: string;
  /** JSON of a FunctionDefinition. */
  config: string;
  created_at: string;
}

export interface AliasesTable {
  function_id: number;
  name: string;
  version: number;
  /** JSON of AdditionalVersionWeights ({"7": 0.1}); null: no routing. */
  routing: string | null;
  description: string | null;
}

export interface DeploymentsTable {
  id: string;
  stage_id: number;
  timestamp: number;
  hash: string;
  /** JSON of a ServiceDefinition. */
  definition: string;
  /** JSON object: function key -> version. */
  functions: string;
  /** JSON object: function key -> artifact sha256. */
  artifacts: string;
}

/** One function log line (docs/logs.md); `timestamp` is epoch milliseconds. */
export interface LogEventsTable {
  id: Generated<number>;
  function_name: string;
  version: string;
  log_stream: string;
  request_id: string | null;
  timestamp: number;
  message: string;
}

export interface AccessKeysTable {
  /** `NIMB` + 16 upper-case letters and digits. */
  id: string;
  /** The secret under AES-256-GCM with the platform master key (see src/platform/auth/). */
  sealed_secret: string;
  description: string | null;
  created_at: string;
  last_used_at: string | null;
  /** Scope (migration 007): null means any. */
  scope_service: string | null;
  scope_stage: string | null;
  /** JSON list of function keys or deployed names. */
  scope_functions: string | null;
  /** 1: reads only (no Invoke). */
  read_only: number;
}

/** A stage's API key (REST `private: true` routes); the value sealed under the master key. */
export interface ApiKeysTable {
  id: string;
  service: string;
  stage: string;
  name: string;
  sealed_value: string;
  description: string | null;
  created_at: string;
}

/** Requests counted against a usage-plan quota, per key and period (ISO start of the period). */
export interface ApiKeyUsageTable {
  key_id: string;
  period_start: string;
  used: number;
}

/** A WorkQueue job (docs/internals/queue.md); times are epoch milliseconds, payload and dead_reason JSON. */
export interface WorkJobsTable {
  id: Generated<number>;
  queue: string;
  state: 'queued' | 'leased' | 'dead';
  payload: string;
  enqueued_at: number;
  run_at: number;
  expires_at: number | null;
  attempts: Generated<number>;
  failures: Generated<number>;
  lease_token: string | null;
  lease_until: number | null;
  idempotency_key: string | null;
  dead_at: number | null;
  dead_reason: string | null;
}

/** An idempotency key's window: enqueues of (queue, key) before expires_at return job_id. */
export interface WorkJobKeysTable {
  queue: string;
  idempotency_key: string;
  job_id: number;
  expires_at: number;
}

/** A job of a queue outside the database, until the relay has published it (031-work-outbox). */
export interface WorkOutboxTable {
  id: string;
  queue: string;
  payload: string;
  enqueued_at: number;
  run_at: number | null;
  expires_at: number | null;
  idempotency_key: string | null;
}

/** An outbox job's idempotency key: enqueues of (queue, key) before expires_at return job_id. */
export interface WorkOutboxKeysTable {
  queue: string;
  idempotency_key: string;
  job_id: string;
  expires_at: number;
}

/** The schedule fire ledger (docs/schedules.md); `last_slot` and `updated_at` are epoch ms. */
export interface ScheduleStateTable {
  schedule_id: string;
  /** What the slot times derive from (expression, timezone, enabled), as JSON. */
  spec: string;
  last_slot: number;
  updated_at: number;
}

export interface AsyncInvocationsTable {
  id: string;
  function_name: string;
  version: string;
  status: string;
  job_id: string | null;
  attempts: number;
  created_at: number;
  updated_at: number;
  /** JSON FunctionErrorBody or a system error. */
  last_error: string | null;
  /** The function's result text, up to 1 MB. */
  result: string | null;
  /** JSON: where the record went (destination or dead letter) and how that went. */
  destination: string | null;
}

/** A node of the cluster as of its last heartbeat (docs/cluster.md); times are epoch ms. */
export interface ClusterNodesTable {
  name: string;
  url: string;
  version: string;
  started_at: number;
  heartbeat_at: number;
  /** JSON: instances, busy, asyncRuns. */
  load: string;
  stopped_at: number | null;
}

/** A named lease one node holds until expires_at (epoch ms), e.g. the schedule runner. */
export interface ClusterLeasesTable {
  name: string;
  holder: string;
  expires_at: number;
}

/** One piece of a shared blob, in order of seq. */
export interface BlobChunksTable {
  sha256: string;
  seq: number;
  data: Buffer;
}

/** A whole shared blob: present only once all its chunks are. */
export interface BlobsTable {
  sha256: string;
  size: number;
  chunks: number;
  created_at: number;
}

/** The uid a service stage's functions run as (docs/security.md). */
export interface FunctionUidsTable {
  service: string;
  stage: string;
  uid: number;
  created_at: string;
}

export interface MetricRollupsTable {
  function_name: string;
  minute: number;
  invocations: number;
  errors: number;
  throttles: number;
  cold_starts: number;
  mb_ms: number;
}

export interface MetricRollupDurationsTable {
  function_name: string;
  minute: number;
  bucket: number;
  count: number;
}

/** Function processes' short-lived credentials (migration 016, src/platform/auth/session-credentials.ts). */
export interface SessionCredentialsTable {
  /** `NIMS` + 16 upper-case letters and digits. */
  id: string;
  sealed_secret: string;
  /** Hex SHA-256 of the session token. */
  token_sha256: string;
  scope_service: string;
  scope_stage: string;
  /** Epoch ms; PostgreSQL hands bigint back as a string. */
  expires_at: number | string;
}
