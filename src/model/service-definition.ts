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
  /** `layers:` (docs/layers.md): layer key -> the layer packaged and published with the stage. */
  layers?: Record<string, LayerDefinition>;
}

/** One entry of `layers:`, published as a new layer version whenever its zip or settings change. */
export interface LayerDefinition {
  /** The key under `layers:`; `{Ref: <Key>LambdaLayer}` names it. */
  key: string;
  /** Layer name (account-wide, as Lambda's), default the key. */
  name: string;
  /** Directory whose files the zip holds (relative to the service); absent with `artifact`. */
  path?: string;
  description?: string;
  compatibleRuntimes?: string[];
  compatibleArchitectures?: string[];
  licenseInfo?: string;
  /** Keep older versions when a new one is published (Lambda's `retain`); default false. */
  retain: boolean;
  package?: { patterns: string[]; artifact?: string };
  /**
   * sha256 of the layer's zip, set by packaging (the CLI) before the deployment hash is taken,
   * so a changed layer is a changed deployment.
   */
  artifact?: string;
}

/** A layer version a function runs with, as the platform resolved it at deploy. */
export interface ResolvedLayer {
  /** `arn:aws:lambda:<region>:<account>:layer:<name>:<version>`. */
  arn: string;
  /** The layer zip (content-addressed blob). */
  codeSha256: string;
  codeSize: number;
  unzippedSize: number;
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
  /** Days the stage's functions' log lines are kept, unless a function says (docs/logs.md). */
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
  /** Destinations given as intrinsics (`!GetAtt Queue.Arn`), resolved at deploy into `destinations`. */
  unresolvedDestinations?: {
    onSuccess?: Record<string, unknown>;
    onFailure?: Record<string, unknown>;
  };
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
   * Days its log lines are kept (`logRetentionInDays`; the provider's is on ProviderSettings).
   * The function's, not a version's, so left out of the version hash as tags are.
   */
  logRetentionInDays?: number;
  /**
   * `onError`: the SNS topic or SQS queue ARN that gets an asynchronous event whose retries are
   * spent, as Lambda's DeadLetterConfig (docs/async.md).
   */
  deadLetterTarget?: string;
  /** `onError` given as an intrinsic (`!GetAtt Queue.Arn`), resolved at deploy as environment is. */
  unresolvedDeadLetterTarget?: Record<string, unknown>;
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
  /**
   * `layers:` as written (the function's, else provider.layers): `{Ref: <Key>LambdaLayer}` or
   * layer version ARNs, at most 5, merged in order (docs/layers.md).
   */
  layers?: unknown[];
  /**
   * What `layers` resolved to when the platform recorded the version; part of the version's
   * identity, so a new version of a layer it uses publishes a new function version.
   */
  layerVersions?: ResolvedLayer[];
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
  | 'cognitoUserPool'
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
