import type { Kysely } from 'kysely';
import type { Clock } from '../../model/clock.js';
import { type ExactRowCache, sharedRowCache } from '../../store/exact-row-cache.js';
import { type PrecompiledQuery, precompile } from '../../store/precompiled-query.js';
import type { Database } from '../../store/schema.js';
import {
  type AccessKey,
  type AccessKeyScope,
  type AccessKeyStore,
  type CreatedAccessKey,
  isAccessKeyId,
  newAccessKeyId,
  newSecretAccessKey,
} from './access-key-store.js';
import { openSecret, sealSecret } from './secret-box.js';

/** Opened secrets kept in memory; past this, all go. */
const maxOpenedSecrets = 1000;

/**
 * Access keys in the platform database (SQLite or PostgreSQL, same queries). The database handle
 * belongs to the composition root (the Store closes it); this adapter only borrows it.
 */
export class KyselyAccessKeyStore implements AccessKeyStore {
  readonly #db: Kysely<Database>;
  readonly #masterKey: Buffer;
  readonly #clock: Clock;
  /** Opened secrets by key id and sealed secret. */
  readonly #opened = new Map<string, string>();
  /** The secret's row, read on every signed request: compiled once. */
  readonly #sealedSecret: PrecompiledQuery<{ id: string }, { sealed_secret: string }>;
  /**
   * Sealed secrets by key id (undefined: no such key), kept only where that is exact (the
   * embedded store) and shared by every instance on the handle, whose create and delete forget
   * them. Every write to a key's row goes through this class.
   */
  readonly #sealedSecrets: ExactRowCache<string | undefined>;

  constructor(db: Kysely<Database>, masterKey: Buffer, clock: Clock) {
    if (masterKey.length !== 32) throw new RangeError('the master key must be 32 bytes');
    this.#db = db;
    this.#masterKey = masterKey;
    this.#clock = clock;
    this.#sealedSecret = precompile(['id'], (a: { id: string }) =>
      db.selectFrom('access_keys').select('sealed_secret').where('id', '=', a.id),
    );
    this.#sealedSecrets = sharedRowCache(db, 'sealed access key secrets');
  }

  async create(
    opts: { description?: string; scope?: AccessKeyScope } = {},
  ): Promise<CreatedAccessKey> {
    const id = newAccessKeyId();
    const secret = newSecretAccessKey();
    const createdAt = new Date(this.#clock.now()).toISOString();
    // A lookup of the new id before now found no key: forgotten (ids are random, but exact).
    await this.#forgettingSecret(id, () =>
      this.#db
        .insertInto('access_keys')
        .values({
          id,
          sealed_secret: sealSecret(this.#masterKey, secret, id),
          description: opts.description ?? null,
          created_at: createdAt,
          last_used_at: null,
          scope_service: opts.scope?.service ?? null,
          scope_stage: opts.scope?.stage ?? null,
          scope_functions: opts.scope?.functions ? JSON.stringify(opts.scope.functions) : null,
          read_only: opts.scope?.readOnly ? 1 : 0,
        })
        .execute(),
    );
    const scope = opts.scope && scopeOfRow(toScopeRow(opts.scope));
    return {
      id,
      secret,
      createdAt,
      ...(opts.description ? { description: opts.description } : {}),
      ...(scope ? { scope } : {}),
    };
  }

  async list(): Promise<AccessKey[]> {
    const rows = await this.#db
      .selectFrom('access_keys')
      .select([
        'id',
        'description',
        'created_at',
        'last_used_at',
        'scope_service',
        'scope_stage',
        'scope_functions',
        'read_only',
      ])
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((row) => {
      const scope = scopeOfRow(row);
      return {
        id: row.id,
        createdAt: row.created_at,
        ...(row.description === null ? {} : { description: row.description }),
        ...(row.last_used_at === null ? {} : { lastUsedAt: row.last_used_at }),
        ...(scope ? { scope } : {}),
      };
    });
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.#forgettingSecret(id, () =>
      this.#db.deleteFrom('access_keys').where('id', '=', id).executeTakeFirst(),
    );
    return result.numDeletedRows > 0n;
  }

  /** A write to a key's row; its remembered secret is forgotten once it is done, or failed. */
  async #forgettingSecret<T>(id: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.#sealedSecrets.invalidate(id);
    }
  }

  async findSecret(id: string): Promise<string | undefined> {
    // Anything that is not a key id cannot be one: skip the query for junk credentials.
    if (!isAccessKeyId(id)) return undefined;
    const sealed = await this.#sealedSecrets.get(id, async () => {
      return (await this.#sealedSecret.run(this.#db, { id })).rows[0]?.sealed_secret;
    });
    if (sealed === undefined) return undefined;
    // Where the row is read every time (PostgreSQL: a key deleted on any node fails at once),
    // what a sealed secret opens to never changes, so it is opened once.
    const cacheKey = `${id}\0${sealed}`;
    const opened = this.#opened.get(cacheKey);
    if (opened !== undefined) return opened;
    const secret = openSecret(this.#masterKey, sealed, id);
    if (this.#opened.size >= maxOpenedSecrets) this.#opened.clear();
    this.#opened.set(cacheKey, secret);
    return secret;
  }

  async scopeOf(id: string): Promise<AccessKeyScope | undefined> {
    if (!isAccessKeyId(id)) return undefined;
    const row = await this.#db
      .selectFrom('access_keys')
      .select(['scope_service', 'scope_stage', 'scope_functions', 'read_only'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row && scopeOfRow(row);
  }

  async markUsed(id: string, atMs: number): Promise<void> {
    await this.#db
      .updateTable('access_keys')
      .set({ last_used_at: new Date(atMs).toISOString() })
      .where('id', '=', id)
      .execute();
  }
}

interface ScopeRow {
  scope_service: string | null;
  scope_stage: string | null;
  scope_functions: string | null;
  read_only: number;
}

function toScopeRow(scope: AccessKeyScope): ScopeRow {
  return {
    scope_service: scope.service ?? null,
    scope_stage: scope.stage ?? null,
    scope_functions: scope.functions ? JSON.stringify(scope.functions) : null,
    read_only: scope.readOnly ? 1 : 0,
  };
}

/** Undefined for an unrestricted key, so callers can skip the scope check at once. */
function scopeOfRow(row: ScopeRow): AccessKeyScope | undefined {
  const scope: AccessKeyScope = {};
  if (row.scope_service !== null) scope.service = row.scope_service;
  if (row.scope_stage !== null) scope.stage = row.scope_stage;
  if (row.scope_functions !== null) scope.functions = JSON.parse(row.scope_functions) as string[];
  if (Number(row.read_only) === 1) scope.readOnly = true;
  return Object.keys(scope).length === 0 ? undefined : scope;
}
