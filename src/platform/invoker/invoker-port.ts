import { NimbusError } from '../../errors/nimbus-error.js';
import type { InvokeResult, ResponseSink } from '../../model/invocation.js';
import type { FunctionDefinition } from '../../model/service-definition.js';
import type { TraceContext } from '../observe/tracing/trace-context.js';

export interface InvokeOptions {
  /** The event as JSON text. */
  payload: string;
  /** Base64 X-Amz-Client-Context, passed through to the function's context. */
  clientContext?: string;
  /** Collect this invocation's log lines (X-Amz-Log-Type: Tail). */
  tailLogs?: boolean;
  /** Set by callers that already made one (the gateway uses its own request id). */
  requestId?: string;
  /** The trace the call belongs to (its span is the function run's parent); none: a new trace. */
  trace?: TraceContext;
  /** Receives a streaming handler's bytes as written (InvokeRequest.stream). */
  stream?: ResponseSink;
}

export interface InvocationResponse {
  requestId: string;
  functionName: string;
  result: InvokeResult;
}

/** A function reference resolved to one version. */
export interface ResolvedFunction {
  service: string;
  stage: string;
  /** The region (platform endpoint name) the stage was deployed to. */
  region: string;
  functionName: string;
  version: string;
  config: FunctionDefinition;
  codeSha256: string;
}

/**
 * The one way in to running code, used by the gateway, the Lambda Invoke API, `invoke`, and
 * (later) the async workers and triggers.
 *
 * `functionRef` is a name (`svc-dev-hello`), `name:qualifier`, or a function ARN
 * (`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`). The qualifier is a version
 * number, a stage alias, or `$LATEST` (the newest version); none means `$LATEST`.
 */
export interface Invoker {
  invoke(
    functionRef: string,
    qualifier: string | undefined,
    opts: InvokeOptions,
  ): Promise<InvocationResponse>;
  /** Throws FunctionNotFoundError; used by DryRun and the control plane. */
  resolve(functionRef: string, qualifier: string | undefined): Promise<ResolvedFunction>;
}

/** Lambda's 404 ResourceNotFoundException. */
export class FunctionNotFoundError extends NimbusError {
  override readonly type = 'ResourceNotFoundException';
  constructor(message: string) {
    super('NIMBUS_INVOKE_NOT_FOUND', message);
  }
}
