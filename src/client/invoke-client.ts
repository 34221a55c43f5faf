/** Calls the Lambda Invoke API (docs/lambda-api.md) with the admin token, for `nimbus invoke`. */
import { isConnectionFailure, NoPlatformError } from './platform-http.js';

export interface InvokeCall {
  functionName: string;
  payload: string;
  type: 'RequestResponse' | 'DryRun' | 'Event';
  qualifier?: string;
  tail?: boolean;
  /** Base64 JSON, sent as X-Amz-Client-Context. */
  clientContext?: string;
}

export interface InvokeAnswer {
  status: number;
  payload: string;
  functionError?: string;
  executedVersion?: string;
  /** Decoded X-Amz-Log-Result. */
  log?: string;
  /** x-amzn-RequestId: for an Event, the id of the queued invocation. */
  requestId?: string;
  /** x-amzn-ErrorType for a request the API refused. */
  errorType?: string;
}

export async function invokeFunction(
  target: { endpoint: string; token?: string },
  call: InvokeCall,
): Promise<InvokeAnswer> {
  const endpoint = target.endpoint.replace(/\/+$/, '');
  const query = call.qualifier ? `?Qualifier=${encodeURIComponent(call.qualifier)}` : '';
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-amz-invocation-type': call.type,
  };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  if (call.tail) headers['x-amz-log-type'] = 'Tail';
  if (call.clientContext) headers['x-amz-client-context'] = call.clientContext;
  let res: Response;
  try {
    res = await fetch(
      `${endpoint}/2015-03-31/functions/${encodeURIComponent(call.functionName)}/invocations${query}`,
      { method: 'POST', headers, body: call.payload },
    );
  } catch (error) {
    if (isConnectionFailure(error)) throw new NoPlatformError(endpoint);
    throw error;
  }
  const logResult = res.headers.get('x-amz-log-result');
  const answer: InvokeAnswer = { status: res.status, payload: await res.text() };
  const functionError = res.headers.get('x-amz-function-error');
  const executedVersion = res.headers.get('x-amz-executed-version');
  const errorType = res.headers.get('x-amzn-errortype');
  const requestId = res.headers.get('x-amzn-requestid');
  if (requestId) answer.requestId = requestId;
  if (functionError) answer.functionError = functionError;
  if (executedVersion) answer.executedVersion = executedVersion;
  if (logResult) answer.log = Buffer.from(logResult, 'base64').toString('utf8');
  if (errorType && !res.ok) answer.errorType = errorType.split(':')[0];
  return answer;
}
