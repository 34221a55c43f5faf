import type { Store } from '../../store/store.js';

/**
 * Each deployed function's `logRetentionInDays` (its own, else its provider's), in ms, from the
 * stages' current deployments: what the log pipeline keeps instead of its default.
 */
export async function logRetentionOf(store: Store): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const stage of await store.listStages()) {
    const [current] = await store.listDeployments(stage.id);
    if (!current) continue;
    const stageDays = current.definition.provider.logRetentionInDays;
    for (const fn of Object.values(current.definition.functions)) {
      const days = fn.logRetentionInDays ?? stageDays;
      if (days !== undefined) out.set(fn.name, days * 86_400_000);
    }
  }
  return out;
}
