import type { InvokeResult } from '../../src/model/invocation.js';
import type {
  InvocationResponse,
  InvokeOptions,
  Invoker,
  ResolvedFunction,
} from '../../src/platform/invoker/invoker-port.js';
import { FunctionNotFoundError } from '../../src/platform/invoker/invoker-port.js';

export interface InvokeCall {
  functionRef: string;
  qualifier: string | undefined;
  opts: InvokeOptions;
}

type Behaviour = (call: InvokeCall) => Partial<InvokeResult> | Promise<Partial<InvokeResult>>;

/**
 * Stands in for the real invoker (built elsewhere): each known function name has a behaviour;
 * anything else is not found. Calls are recorded so tests can see what was passed through.
 */
export class FakeInvoker implements Invoker {
  readonly calls: InvokeCall[] = [];
  readonly resolved: { functionRef: string; qualifier: string | undefined }[] = [];

  constructor(readonly functions: Record<string, Behaviour>) {}

  async invoke(
    functionRef: string,
    qualifier: string | undefined,
    opts: InvokeOptions,
  ): Promise<InvocationResponse> {
    const call = { functionRef, qualifier, opts };
    this.calls.push(call);
    const behaviour = this.functions[functionRef];
    if (!behaviour) throw new FunctionNotFoundError(`no function ${functionRef}`);
    const result: InvokeResult = {
      outcome: { status: 'ok', payload: opts.payload },
      executedVersion: qualifier === undefined || qualifier === '$LATEST' ? '$LATEST' : '3',
      durationMs: 1,
      maxMemoryUsedMb: 40,
      ...(await behaviour(call)),
    };
    return { requestId: opts.requestId ?? 'fake-request', functionName: functionRef, result };
  }

  async resolve(functionRef: string, qualifier: string | undefined): Promise<ResolvedFunction> {
    this.resolved.push({ functionRef, qualifier });
    if (!this.functions[functionRef]) throw new FunctionNotFoundError(`no function ${functionRef}`);
    return {
      service: 'svc',
      stage: 'dev',
      region: 'us-east-1',
      functionName: functionRef,
      version: '3',
      config: {} as ResolvedFunction['config'],
      codeSha256: '0'.repeat(64),
    };
  }
}
