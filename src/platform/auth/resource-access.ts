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
  /**
   * Every resource the call names (absent or none: it names none). May look one up (a Cognito
   * app client id names its user pool); only restricted callers ever ask.
   */
  refs?: (input: I) => ResourceRef[] | Promise<ResourceRef[]>;
  /**
   * The call creates the first resource `refs` names. `exists` tells a create that answers an
   * existing resource (SQS CreateQueue, SNS CreateTopic) from one that made it: only a new one
   * becomes the caller's stage's.
   */
  creates?: { exists: (name: string) => Promise<boolean> };
  /**
   * The call creates a resource whose name only its answer holds (Cognito CreateUserPool: the
   * pool id): always a new one, the caller's stage's once it is made.
   */
  createsAnswered?: (output: O) => ResourceRef | undefined;
  /** The call deletes the first resource `refs` names: its owner record goes with it. */
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
export function guardedCall<I, O>(
  guard: ResourceGuard,
  scope: AccessKeyScope | undefined,
  rule: AccessRule<I, O> | undefined,
  input: I,
  run: () => Promise<O>,
): Promise<O> {
  // The hot path of the bench and the admin: no lookup, nothing computed, and no async frame
  // of its own around the operation's promise.
  if (!rule || (!isRestricted(scope) && !rule.deletes)) return run();
  return guardedSlowly(guard, scope, rule, input, run);
}

async function guardedSlowly<I, O>(
  guard: ResourceGuard,
  scope: AccessKeyScope | undefined,
  rule: AccessRule<I, O>,
  input: I,
  run: () => Promise<O>,
): Promise<O> {
  if (!isRestricted(scope)) {
    const output = await run();
    const [gone] = (await rule.refs?.(input)) ?? [];
    if (gone) await guard.owners.forget(gone.kind, gone.name);
    return output;
  }
  const refs = (await rule.refs?.(input)) ?? [];
  await checkResources(guard, scope, refs, rule.write);
  const claim = rule.creates && ownerOfScope(scope);
  const [first] = refs;
  const fresh = claim && first && !(await rule.creates!.exists(first.name));
  const output = await run();
  if (claim && first && fresh) await guard.owners.claim(first.kind, first.name, claim);
  const made = rule.createsAnswered?.(output);
  const maker = made && ownerOfScope(scope);
  if (made && maker) await guard.owners.claim(made.kind, made.name, maker);
  if (rule.deletes && first) await guard.owners.forget(first.kind, first.name);
  if (rule.filter) {
    const owners = await guard.owners.ownersOf(rule.filter.kind);
    return rule.filter.keep(output, (name) => scopeAllowsResource(scope, owners.get(name), false));
  }
  return output;
}

/**
 * The service's operations, each run under its rule (an AWS JSON service's operation table);
 * without a guard (no owner records wired), the operations unchanged.
 */
export function guardedOperations<
  I,
  C extends { operation: string; scope?: AccessKeyScope | undefined },
>(
  operations: Record<string, (input: I, ctx: C) => Promise<object>>,
  rules: Record<string, AccessRule<I, object>>,
  guard: ResourceGuard | undefined,
): Record<string, (input: I, ctx: C) => Promise<object>> {
  if (!guard) return operations;
  return Object.fromEntries(
    Object.entries(operations).map(([name, run]) => [
      name,
      (input: I, ctx: C) =>
        guardedCall(guard, ctx.scope, rules[name], input, () => run(input, ctx)),
    ]),
  );
}
