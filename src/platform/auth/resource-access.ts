/**
 * The one ownership check of the AWS services behind the front door other than S3 (which keeps
 * owners on its bucket rows): a restricted caller (function session credentials, `nimbus keys
 * create --service/--stage/--read-only` keys) reaches its own stage's resources and shared ones,
 * and read-only keys only read (docs/security.md "What a stage's credentials reach"). Each service
 * describes its operations as AccessRules; `guardedCall` applies them around the operation.
 * Unrestricted callers (unscoped keys, the admin token) skip every lookup.
 */
import {
  type AccessKeyScope,
  isRestricted,
  ownerOfScope,
  type ResourceOwner,
  scopeAllowsResource,
} from './access-key-store.js';

/** A resource an operation names: its CloudFormation type and its name (a user pool: its id). */
export interface ResourceRef {
  kind: string;
  name: string;
}

/** Who owns what (resource-owners.ts); a port so the checks stay apart from SQL. */
export interface OwnerLookup {
  ownerOf(kind: string, name: string): Promise<ResourceOwner | undefined>;
  /** Every owned resource of a kind, by name (for filtering list answers). */
  ownersOf(kind: string): Promise<Map<string, ResourceOwner>>;
  /** Records the owner (undefined: the resource is shared); replaces any earlier owner. */
  claim(kind: string, name: string, owner: ResourceOwner | undefined): Promise<void>;
  forget(kind: string, name: string): Promise<void>;
}

/** How one operation touches resources. */
export interface AccessRule<I = Record<string, unknown>, O = object> {
  /** The call changes something: refused to read-only keys. */
  write: boolean;
  /** Every resource the call names (absent or none: it names none). */
  refs?: (input: I) => ResourceRef[];
  /**
   * The call creates the resource refs names first. `exists` tells a create that answers an
   * existing resource (SQS CreateQueue, SNS CreateTopic) from one that made it: only a new one
   * becomes the caller's stage's.
   */
  creates?: { exists: (name: string) => Promise<boolean>; nameOf?: (output: O) => string };
  /** The call deletes the resources refs names: their owner records go with them. */
  deletes?: boolean;
  /** A list: keeps only the entries the caller reaches. */
  filter?: { kind: string; keep: (output: O, reaches: (name: string) => boolean) => O };
}

export interface ResourceGuard {
  owners: OwnerLookup;
  /** The service's own refusal (AccessDeniedException, AuthorizationError...). */
  denied: () => Error;
}

/** Throws `denied()` unless `scope` reaches every resource in `refs`. */
export async function checkResources(
  guard: ResourceGuard,
  scope: AccessKeyScope | undefined,
  refs: ResourceRef[],
  write: boolean,
): Promise<void> {
  if (!isRestricted(scope)) return;
  if (scope.readOnly && write) throw guard.denied();
  for (const ref of refs) {
    const owner = await guard.owners.ownerOf(ref.kind, ref.name);
    if (!scopeAllowsResource(scope, owner, write)) throw guard.denied();
  }
}

/** Runs `run` under `rule` for a caller of `scope` (undefined: unrestricted). */
export async function guardedCall<I, O>(
  guard: ResourceGuard,
  scope: AccessKeyScope | undefined,
  rule: AccessRule<I, O> | undefined,
  input: I,
  run: () => Promise<O>,
): Promise<O> {
  if (!rule) return run();
  if (!isRestricted(scope)) {
    // The hot path of the bench and the admin: no lookup, nothing computed.
    if (!rule.deletes) return run();
    const output = await run();
    for (const ref of rule.refs?.(input) ?? []) await guard.owners.forget(ref.kind, ref.name);
    return output;
  }
  const refs = rule.refs?.(input) ?? [];
  await checkResources(guard, scope, refs, rule.write);
  const claim = rule.creates && ownerOfScope(scope);
  const fresh =
    claim && rule.creates && !rule.creates.nameOf ? await unclaimed(refs, rule.creates.exists) : [];
  const output = await run();
  if (claim && rule.creates) {
    const made = rule.creates.nameOf
      ? [{ kind: refs[0]?.kind ?? '', name: rule.creates.nameOf(output) }]
      : fresh;
    for (const ref of made) if (ref.kind) await guard.owners.claim(ref.kind, ref.name, claim);
  }
  if (rule.deletes) for (const ref of refs) await guard.owners.forget(ref.kind, ref.name);
  if (rule.filter) {
    const owners = await guard.owners.ownersOf(rule.filter.kind);
    return rule.filter.keep(output, (name) => scopeAllowsResource(scope, owners.get(name), false));
  }
  return output;
}

/** The refs that name no resource yet: what the create will make. */
async function unclaimed(
  refs: ResourceRef[],
  exists: (name: string) => Promise<boolean>,
): Promise<ResourceRef[]> {
  const fresh: ResourceRef[] = [];
  for (const ref of refs) if (!(await exists(ref.name))) fresh.push(ref);
  return fresh;
}
