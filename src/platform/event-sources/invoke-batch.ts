import type { Invoker } from '../invoker/invoker-port.js';
import type { InvocationResult } from './batch-outcome.js';
import type { Mapping } from './mapping.js';
import { recordJson } from './record-json.js';
import type { SourceRecord } from './source-port.js';

/** Runs the mapping's function synchronously on `{Records: [...]}` (the platform's invoker). */
export type InvokeBatch = (
  target: Pick<Mapping, 'functionName' | 'qualifier'>,
  payload: string,
) => Promise<InvocationResult>;

/** `{"Records": [...]}`, as JSON.stringify would write it, from each record's text. */
export function recordsPayload(records: readonly SourceRecord[]): string {
  return `{"Records":[${records.map(recordJson).join(',')}]}`;
}

/** The platform's invoker as the engine calls it: any failure to run is a failed batch. */
export function invokeThrough(invoker: Pick<Invoker, 'invoke'>): InvokeBatch {
  return async (target, payload) => {
    try {
      const { result } = await invoker.invoke(target.functionName, target.qualifier, { payload });
      const { outcome } = result;
      return outcome.status === 'ok'
        ? { ok: true, payload: outcome.payload }
        : { ok: false, reason: `${outcome.error.errorType}: ${outcome.error.errorMessage}` };
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
  };
}
