import type { Kysely } from 'kysely';
import type { Clock } from '../../model/clock.js';
import type { Database } from '../../store/schema.js';
import {
  type AccessKey,
  type AccessKeyStore,
  type CreatedAccessKey,
  isAccessKeyId,
  newAccessKeyId,
  newSecretAccessKey,
} from './access-key-store.js';
import { openSecret, sealSecret } from './secret-box.js';

/**
 * Access keys in the platform database (SQLite or PostgreSQL, same queries). The database handle
 * belongs to the composition root (the Store closes it); this adapter only borrows it.
 */
export class KyselyAccessKeyStore implements AccessKeyStore {
  readonly #db: Kysely<Database>;
  readonly #masterKey: Buffer;
  readonly #clock: Clock;

  constructor(db: Kysely<Database>, masterKey: Buffer, clock: Clock) {
    if (masterKey.length !== 32) throw new RangeError('the master key must be 32 bytes');
    this.#db = db;
    this.#masterKey = masterKey;
    this.#clock = clock;
  }

  async create(opts: { description?: string } = {}): Promise<CreatedAccessKey> {
    const id = newAccessKeyId();
    const secret = newSecretAccessKey();
    const createdAt = new Date(this.#clock.now()).toISOString();
    await this.#db
      .insertInto('access_keys')
      .values({
        id,
        sealed_secret: sealSecret(this.#masterKey, secret, id),
        description: opts.description ?? null,
        created_at: createdAt,
        last_used_at: null,
      })
      .execute();
    return {
      id,
      secret,
      createdAt,
      ...(opts.description ? { description: opts.description } : {}),
    };
  }

  async list(): Promise<AccessKey[]> {
    const rows = await this.#db
      .selectFrom('access_keys')
      .select(['id', 'description', 'created_at', 'last_used_at'])
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      createdAt: row.created_at,
      ...(row.description === null ? {} : { description: row.description }),
      ...(row.last_used_at === null ? {} : { lastUsedAt: row.last_used_at }),
    }));
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('access_keys').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async findSecret(id: string): Promise<string | undefined> {
    // Anything that is not a key id cannot be one: skip the query for junk credentials.
    if (!isAccessKeyId(id)) return undefined;
    const row = await this.#db
      .selectFrom('access_keys')
      .select('sealed_secret')
      .where('id', '=', id)
      .executeTakeFirst();
    return row && openSecret(this.#masterKey, row.sealed_secret, id);
  }

  async markUsed(id: string, atMs: number): Promise<void> {
    await this.#db
      .updateTable('access_keys')
      .set({ last_used_at: new Date(atMs).toISOString() })
      .where('id', '=', id)
      .execute();
  }
}
