/**
 * What flows between the front doors (gateway, Invoke API, triggers), the invoker and the
 * instances that run code. One name per concept, used everywhere.
 */

/** The identity of the version an instance runs. */
export interface FunctionTarget {
  /** Deployed name (`svc-dev-hello`). */
  functionName: string;
  /** Version number as a string (`"3"`), as Lambda reports it. */
  version: string;
  runtime: string;
  runtimeFamily: 'nodejs' | 'python' | 'provided';
  handler: string;
  memorySize: number;
  /** Seconds. */
  timeout: number;
  /** The function's own environment (from serverless.yml), before Nimbus adds reserved variables. */
  environment: Record<string, string>;
  region: string;
  /** Directory holding the extracted code (LAMBDA_TASK_ROOT). */
  codeDir: string;
  /**
   * The function's layers merged in order (later layers' files win), Lambda's /opt; absent when
   * the function has no layers (docs/layers.md).
   */
  layersDir?: string;
  /** The service stage's own user and group, when the platform runs as root (docs/security.md). */
  runAs?: { uid: number; gid: number };
  /** Requests one instance serves at once; absent means 1 (Lambda's contract). Node only. */
  concurrency?: number;
  /** The service stage the function belongs to (what its session credentials are scoped to). */
  owner?: { service: string; stage: string };
  /**
   * Variables the platform adds per instance (AWS endpoints and session credentials,
   * src/platform/invoker/function-aws-environment.ts); the function's own environment wins.
   */
  platformEnvironment?: Record<string, string>;
}

export interface InvokeRequest {
  requestId: string;
  /** The event as JSON text. */
  payload: string;
  /** Epoch ms by which the function must answer (now + timeout). */
  deadlineMs: number;
  /** Base64 client context (X-Amz-Client-Context), passed through. */
  clientContext?: string;
  /** Capture this invocation's log lines for X-Amz-Log-Type: Tail. */
  tailLogs?: boolean;
  /** `_X_AMZN_TRACE_ID` for this invocation (docs/tracing.md). */
  traceHeader?: string;
  /**
   * Where a streaming handler's bytes go as they are written (function URLs in RESPONSE_STREAM
   * mode, InvokeWithResponseStream). Without it, streamed bytes are gathered into the payload.
   */
  stream?: ResponseSink;
}

/** Receives a streamed response while the function runs; the invoke's result ends it. */
export interface ResponseSink {
  /** `contentType` comes with the first chunk only (it may be empty bytes). */
  chunk(bytes: Buffer, contentType: string | undefined): void;
}

/** Lambda's soft limit on a streamed response. */
export const MAX_STREAMED_RESPONSE_BYTES = 20 * 1024 * 1024;

/** The error JSON Lambda returns: `{errorType, errorMessage, stackTrace}`. */
export interface FunctionErrorBody {
  errorType: string;
  errorMessage: string;
  stackTrace?: string[];
}

export type InvokeOutcome =
  /** The handler returned; payload is its JSON text. */
  | { status: 'ok'; payload: string }
  /**
   * The invocation failed in a way the caller sees as X-Amz-Function-Error: Unhandled:
   * handler threw, init failed, timeout, out of memory, process exit.
   */
  | { status: 'error'; error: FunctionErrorBody };

export interface InvokeResult {
  outcome: InvokeOutcome;
  /** The version that ran. */
  executedVersion: string;
  durationMs: number;
  /** Set on the invocation that initialized the instance (a cold start). */
  initDurationMs?: number;
  /** Peak resident memory of the instance, MB, measured. */
  maxMemoryUsedMb: number;
  /** This invocation's log lines (START..REPORT), when tailLogs was asked for. */
  logTail?: string;
}

/** One log line as the platform stores it (Lambda format text plus where it came from). */
export interface LogEvent {
  functionName: string;
  version: string;
  /** `YYYY/MM/DD/[version]<instance id>`, as Lambda's log stream names. */
  logStream: string;
  requestId?: string;
  /** Epoch ms. */
  timestamp: number;
  message: string;
}
