/**
 * The `resource_owners` table (migration 045): which service stage owns a DynamoDB table, SQS
 * queue, SNS topic, EventBridge bus or rule, Kinesis stream or Cognito user pool. Written when a
 * deploy provisions one (StageResources) and when a stage's credentials create one through the
 * API; removed with it. No row: the resource is shared (docs/security.md).
 *
 * Lookups are cached: only restricted callers (function session credentials, scoped keys) ask,
 * and they ask on every call. Entries live a few seconds, so a node of a cluster sees another
 * node's create or delete soon; this node's own changes replace its entry at once.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../../../model/clock.js';
import type { ResourceOwner } from '../../auth/access-key-store.js';
import type { OwnerLookup } from '../../auth/resource-access.js';

interface ResourceOwnersTable {
  kind: string;
  name: string;
  service: string;
  stage: string;
}

const functionKind = 'AWS::Lambda::Function';

interface Cached {
  owner: ResourceOwner | undefined;
  until: number;
}

export class ResourceOwners implements OwnerLookup {
  readonly #db: Kysely<{ resource_owners: ResourceOwnersTable }>;
  readonly #clock: Clock;
  readonly #cache = new Map<string, Cached>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #functionOwner: ((name: string) => Promise<ResourceOwner | undefined>) | undefined;

  /**
   * Takes the platform's database handle (whatever tables it types); it never closes it.
   * `functionOwner`: functions (kind `AWS::Lambda::Function`) are owned by the stage that
   * deployed them, which the deployment records already say.
   */
  constructor(
    db: unknown,
    clock: Clock,
    opts: {
      ttlMs?: number;
      max?: number;
      functionOwner?: (name: string) => Promise<ResourceOwner | undefined>;
    } = {},
  ) {
    this.#db = db as Kysely<{ resource_owners: ResourceOwnersTable }>;
    this.#clock = clock;
    this.#functionOwner = opts.functionOwner;
    this.#ttlMs = opts.ttlMs ?? 5_000;
    this.#max = opts.max ?? 2_000;
  }

  async ownerOf(kind: string, name: string): Promise<ResourceOwner | undefined> {
    const key = `${kind}\n${name}`;
    const now = this.#clock.now();
    const hit = this.#cache.get(key);
    if (hit && hit.until > now) return hit.owner;
    if (kind === functionKind && this.#functionOwner) {
      const owner = await this.#functionOwner(name);
      this.#remember(key, owner, now);
      return owner;
    }
    const row = await this.#db
      .selectFrom('resource_owners')
      .select(['service', 'stage'])
      .where('kind', '=', kind)
      .where('name', '=', name)
      .executeTakeFirst();
    const owner = row ? { service: row.service, stage: row.stage } : undefined;
    this.#remember(key, owner, now);
    return owner;
  }

  async ownersOf(kind: string): Promise<Map<string, ResourceOwner>> {
    const rows = await this.#db
      .selectFrom('resource_owners')
      .select(['name', 'service', 'stage'])
      .where('kind', '=', kind)
      .execute();
    return new Map(rows.map((r) => [r.name, { service: r.service, stage: r.stage }]));
  }

  async claim(kind: string, name: string, owner: ResourceOwner | undefined): Promise<void> {
    if (!owner) return this.forget(kind, name);
    await this.#db
      .insertInto('resource_owners')
      .values({ kind, name, service: owner.service, stage: owner.stage })
      .onConflict((oc) =>
        oc.columns(['kind', 'name']).doUpdateSet({ service: owner.service, stage: owner.stage }),
      )
      .execute();
    this.#remember(`${kind}\n${name}`, owner, this.#clock.now());
  }

  async forget(kind: string, name: string): Promise<void> {
    await this.#db
      .deleteFrom('resource_owners')
      .where('kind', '=', kind)
      .where('name', '=', name)
      .execute();
    this.#cache.delete(`${kind}\n${name}`);
  }

  #remember(key: string, owner: ResourceOwner | undefined, now: number): void {
    this.#cache.delete(key);
    if (this.#cache.size >= this.#max)
      this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(key, { owner, until: now + this.#ttlMs });
  }
}
