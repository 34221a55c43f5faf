import type { AccessKeyScope } from './access-key-store.js';

/**
 * The scope of the key that signed a call, by access key id (`admin` and unscoped keys: none).
 * Answers synchronously once known, so an unrestricted caller's call pays one Map read.
 */
export type CallerScopes = (
  accessKeyId: string,
) => AccessKeyScope | undefined | Promise<AccessKeyScope | undefined>;

/**
 * A key's scope never changes (keys are created with it; session credentials are issued with
 * it), so the platform looks it up once per key id for every AWS service, not on every request.
 * Bounded: the oldest entries go. One instance is shared by all services (server.ts).
 */
export function rememberedScopes(
  scopeOf: (accessKeyId: string) => Promise<AccessKeyScope | undefined>,
  max = 1000,
): CallerScopes {
  const known = new Map<string, AccessKeyScope | undefined>();
  const remember = async (id: string): Promise<AccessKeyScope | undefined> => {
    const scope = await scopeOf(id);
    if (known.size >= max) known.delete(known.keys().next().value as string);
    known.set(id, scope);
    return scope;
  };
  return function callerScope(id) {
    if (id === 'admin') return undefined;
    return known.has(id) ? known.get(id) : remember(id);
  };
}
