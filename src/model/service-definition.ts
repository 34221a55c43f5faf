/**
 * The provider-neutral description of one service stage, produced by src/service from a
 * serverless.yml (variables resolved, defaults applied, validated). Everything downstream
 * (packaging, control plane, runtimes, gateway) reads this, never the YAML.
 */
export interface ServiceDefinition {
  service: string;
  /** Stage name, default `dev`. */
  stage: string;
  /** Region = the name of the Nimbus platform endpoint the service is deployed to. */
  region: string;
  frameworkVersion?: string;
  provider: ProviderSettings;
  functions: Record<string, FunctionDefinition>;
  package: PackageSettings;
  /** Plugins named in the config, kept for the record (Nimbus covers the common ones itself). */
  plugins: string[];
  /** `custom:` block, kept verbatim for variables and later features. */
  custom: Record<string, unknown>;
  /**
   * `resources:` block (a list of blocks merged into one), kept verbatim: the platform
   * evaluates it at deploy (src/platform/aws/resources, docs/resources.md).
   */
  resources?: unknown;
}

export interface ProviderSettings {
  name: string;
  runtime: string;
  memorySize: number;
  timeout: number;
  environment: Record<string, string>;
  /**
   * provider.environment values that are CloudFormation intrinsics (`Ref`, `Fn::GetAtt`, ...):
   * the platform resolves them at deploy into `environment`; stored deployments never have it.
   */
  unresolvedEnvironment?: Record<string, unknown>;
  /** provider.s3 bucket definitions (`<key>: {name, ...}`), created at deploy. */
  s3?: Record<string, unknown>;
  /** Raw provider.httpApi / apiGateway settings, kept for the gateway. */
  httpApi?: Record<string, unknown>;
  apiGateway?: Record<string, unknown>;
  logRetentionInDays?: number;
  /** provider.websocketsApiRouteSelectionExpression (default `$request.body.action`). */
  websocketsApiRouteSelectionExpression?: string;
  tags?: Record<string, string>;
  /** provider.nimbus.concurrency: the default of each Node function's `concurrency`. */
  concurrency?: number;
}

export type RuntimeFamily = 'nodejs' | 'python' | 'provided';

export interface FunctionDefinition {
  /** Logical name: the key under `functions:`. */
  key: string;
  /** Deployed name, default `<service>-<stage>-<key>`. */
  name: string;
  /** `path/file.export` (Node), `module.func` (Python), anything for provided. */
  handler: string;
  runtime: string;
  runtimeFamily: RuntimeFamily;
  memorySize: number;
  timeout: number;
  /** provider.environment merged under function.environment. */
  environment: Record<string, string>;
  /**
   * The merged environment's values that are CloudFormation intrinsics, resolved by the
   * platform at deploy into `environment` (no name is in both); stored deployments never have it.
   */
  unresolvedEnvironment?: Record<string, unknown>;
  description?: string;
  events: EventDefinition[];
  destinations?: { onSuccess?: string; onFailure?: string };
  /** Async retry attempts, 0..8 (Nimbus allows up to 8; Lambda up to 2). */
  maximumRetryAttempts?: number;
  /** Seconds, 60..86400. */
  maximumEventAge?: number;
  reservedConcurrency?: number;
  provisionedConcurrency?: number;
  /**
   * Lambda tags (TagResource): the function's, not a version's, so left out of the version
   * hash as concurrency is.
   */
  tags?: Record<string, string>;
  /**
   * Requests one instance serves at once (Nimbus's own key, docs/runtimes.md). Absent means 1,
   * Lambda's contract; only Node functions may set more.
   */
  concurrency?: number;
  package?: FunctionPackageSettings;
  /** `url:` — the function's own URL (docs/function-urls.md). */
  url?: FunctionUrlSettings;
  /** Source file the handler resolves to, relative to the service directory. */
  handlerFile: string;
}

/** A function URL as `url: true` or `url: {authorizer, cors, invokeMode}` asks for it. */
export interface FunctionUrlSettings {
  /** `NONE` (public) or `AWS_IAM` (`authorizer: aws_iam`: SigV4 for service `lambda`). */
  authType: 'NONE' | 'AWS_IAM';
  /** `BUFFERED` (the whole response at once) or `RESPONSE_STREAM`. */
  invokeMode: 'BUFFERED' | 'RESPONSE_STREAM';
  /** `cors` as written: `true` or the httpApi-style object (allowedOrigins, ...). */
  cors?: unknown;
}

export interface PackageSettings {
  patterns: string[];
  individually: boolean;
  artifact?: string;
  excludeDevDependencies: boolean;
}

export interface FunctionPackageSettings {
  patterns: string[];
  artifact?: string;
  individually?: boolean;
}

export type EventKind =
  | 'http'
  | 'httpApi'
  | 'schedule'
  | 's3'
  | 'sqs'
  | 'stream'
  | 'sns'
  | 'eventBridge'
  | 'cloudwatchLog'
  | 'iot'
  | 'websocket'
  | 'alb';

export type EventDefinition =
  | HttpEvent
  | HttpApiEvent
  | ScheduleEvent
  | { kind: Exclude<EventKind, 'http' | 'httpApi' | 'schedule'>; config: Record<string, unknown> };

export interface HttpEvent {
  kind: 'http';
  /** Upper-case method, or `ANY`. */
  method: string;
  /** Path without a leading slash, as in serverless.yml (`users/{id}`). */
  path: string;
  cors?: CorsSettings;
  async?: boolean;
  private?: boolean;
  authorizer?: unknown;
  integration?: string;
}

export interface HttpApiEvent {
  kind: 'httpApi';
  /** Upper-case method, or `*` for any. */
  method: string;
  /** Path with a leading slash, or `*` for the catch-all route. */
  path: string;
  authorizer?: unknown;
}

export interface ScheduleEvent {
  kind: 'schedule';
  /** One or more `rate(...)` / `cron(...)` expressions. */
  rate: string[];
  enabled: boolean;
  name?: string;
  description?: string;
  input?: unknown;
  timezone?: string;
}

export interface CorsSettings {
  origins: string[];
  headers: string[];
  methods?: string[];
  allowCredentials: boolean;
  maxAge?: number;
}
