import { canonicalJson, sha256Hex } from '../../model/canonical-hash.js';
import type { FunctionDefinition } from '../../model/service-definition.js';
import type { FunctionRow, VersionRow } from '../../store/store.js';

/** What a deployment does to one function: keep its version, or publish the next one. */
export type FunctionChange =
  | { kind: 'unchanged'; key: string; name: string; version: number }
  /** Rollback: the stage alias points back at an existing version. */
  | { kind: 'restore'; key: string; name: string; version: number }
  | { kind: 'publish'; key: string; name: string; version: number; configSha256: string };

/**
 * The configuration part of a version's identity. Concurrency settings are left out, as the
 * Serverless Framework leaves ReservedConcurrentExecutions out of the version hash: changing
 * them is not new code to run. Tags (Lambda's TagResource) and log retention are the function's,
 * not a version's.
 */
export function configSha256(config: FunctionDefinition): string {
  const {
    reservedConcurrency: _r,
    provisionedConcurrency: _p,
    tags: _t,
    logRetentionInDays: _l,
    ...identity
  } = config;
  return sha256Hex(canonicalJson(identity));
}

/** Pure decision for one function, given its newest stored version (if any). */
export function planFunction(
  config: FunctionDefinition,
  codeSha256: string,
  latest: VersionRow | undefined,
): FunctionChange {
  const cfg = configSha256(config);
  if (latest && latest.codeSha256 === codeSha256 && latest.configSha256 === cfg) {
    return { kind: 'unchanged', key: config.key, name: config.name, version: latest.version };
  }
  return {
    kind: 'publish',
    key: config.key,
    name: config.name,
    version: (latest?.version ?? 0) + 1,
    configSha256: cfg,
  };
}

/** Functions of the stage that the new definition no longer has (matched by deployed name). */
export function removedFunctions(existing: FunctionRow[], names: Set<string>): FunctionRow[] {
  return existing.filter((f) => !names.has(f.name));
}
