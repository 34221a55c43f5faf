import type { FunctionInfo } from '../protocol.js';
import type { Callback } from './handler-loader.js';

/** The `context` Lambda's Node runtime passes as the handler's second argument. */
export interface LambdaContext {
  awsRequestId: string;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  clientContext?: unknown;
  identity?: unknown;
  getRemainingTimeInMillis(): number;
  done(err?: unknown, result?: unknown): void;
  succeed(result?: unknown): void;
  fail(err?: unknown): void;
}

export function makeContext(
  fn: FunctionInfo,
  requestId: string,
  deadlineMs: number,
  clientContext: string | undefined,
  callback: Callback,
): LambdaContext {
  return {
    awsRequestId: requestId,
    functionName: fn.name,
    functionVersion: fn.version,
    invokedFunctionArn: fn.arn,
    memoryLimitInMB: fn.memory,
    logGroupName: fn.logGroup,
    logStreamName: fn.logStream,
    callbackWaitsForEmptyEventLoop: true,
    clientContext: parseClientContext(clientContext),
    identity: undefined,
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
    done: (err, result) => callback(err, result),
    succeed: (result) => callback(null, result),
    fail: (err) => callback(err ?? 'handled'),
  };
}

function parseClientContext(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
