import type { InvocationResult } from './batch-outcome.js';
import type { Mapping } from './mapping.js';
import type { SourceRecord } from './source-port.js';

/** Runs the mapping's function synchronously on `{Records: [...]}` (the platform's invoker). */
export type InvokeBatch = (
  target: Pick<Mapping, 'functionName' | 'qualifier'>,
  payload: string,
) => Promise<InvocationResult>;

export function recordsPayload(records: readonly SourceRecord[]): string {
  return JSON.stringify({ Records: records.map((r) => r.record) });
}
