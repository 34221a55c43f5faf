/**
 * What an invocation said about its batch. A function error (or an invocation that could not
 * run: throttled, not found) fails the whole batch. With `ReportBatchItemFailures` a returned
 * `{batchItemFailures: [{itemIdentifier}]}` fails those records only; an answer Lambda cannot
 * read (an identifier empty, missing or not in the batch) fails the whole batch, as on Lambda.
 */
import type { SourceRecord } from './source-port.js';

export type InvocationResult = { ok: true; payload: string } | { ok: false; reason: string };

export type BatchOutcome =
  | { kind: 'success' }
  | { kind: 'partial'; failed: ReadonlySet<string> }
  | { kind: 'failure'; reason: string };

export function batchOutcome(
  result: InvocationResult,
  batch: readonly SourceRecord[],
  reportItemFailures: boolean,
): BatchOutcome {
  if (!result.ok) return { kind: 'failure', reason: result.reason };
  if (!reportItemFailures) return { kind: 'success' };
  let answer: unknown;
  try {
    answer = JSON.parse(result.payload);
  } catch {
    return { kind: 'success' };
  }
  if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) {
    return { kind: 'success' };
  }
  const failures = (answer as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) {
    return { kind: 'failure', reason: 'batchItemFailures is not a list' };
  }
  if (failures.length === 0) return { kind: 'success' };
  const ids = new Set(batch.map((r) => r.id));
  const failed = new Set<string>();
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) {
      return { kind: 'failure', reason: `batchItemFailures names an unknown item: ${String(id)}` };
    }
    failed.add(id);
  }
  return { kind: 'partial', failed };
}
