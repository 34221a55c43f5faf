/**
 * The stages' API keys and their quota counters in the platform database (SQLite or
 * PostgreSQL, same queries). A generated value is made once and kept: deploying again, or
 * restarting, never changes a key a client already holds. Values are sealed under the master
 * key, as access-key secrets are.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Clock } from '../../../model/clock.js';
import type { Database } from '../../../store/schema.js';
import { openSecret, sealSecret } from '../../auth/secret-box.js';
import type { ApiKeySpec } from './usage-plan-config.js';

export interface StoredApiKey {
  id: string;
  service: string;
  stage: string;
  name: string;
  value: string;
  description?: string;
}

export class KyselyApiKeyStore {
  readonly #db: Kysely<Database>;
  readonly #masterKey: Buffer;
  readonly #clock: Clock;

  constructor(db: Kysely<Database>, masterKey: Buffer, clock: Clock) {
    this.#db = db;
    this.#masterKey = masterKey;
    this.#clock = clock;
  }

  /**
   * Brings the stage's keys in line with `specs`: missing keys are made (a given value, or a
   * generated one), given values replace stored ones, keys no longer listed are deleted.
   */
  async sync(service: string, stage: string, specs: readonly ApiKeySpec[]): Promise<void> {
    const existing = await this.list(service, stage);
    const byName = new Map(existing.map((k) => [k.name, k]));
    const createdAt = new Date(this.#clock.now()).toISOString();
    for (const spec of specs) {
      const found = byName.get(spec.name);
      if (found) {
        if (
          (spec.value !== undefined && spec.value !== found.value) ||
          (spec.description ?? undefined) !== found.description
        ) {
          const value = spec.value ?? found.value;
          await this.#db
            .updateTable('api_keys')
            .set({
              sealed_value: sealSecret(this.#masterKey, value, found.id),
              description: spec.description ?? null,
            })
            .where('id', '=', found.id)
            .execute();
        }
        continue;
      }
      const id = randomUUID();
      const value = spec.value ?? randomBytes(30).toString('base64url');
      // Another node syncing the same stage at once keeps its row; ours is dropped.
      await this.#db
        .insertInto('api_keys')
        .values({
          id,
          service,
          stage,
          name: spec.name,
          sealed_value: sealSecret(this.#masterKey, value, id),
          description: spec.description ?? null,
          created_at: createdAt,
        })
        .onConflict((oc) => oc.columns(['service', 'stage', 'name']).doNothing())
        .execute();
    }
    const wanted = new Set(specs.map((s) => s.name));
    const gone = existing.filter((k) => !wanted.has(k.name)).map((k) => k.id);
    if (gone.length > 0) {
      await this.#db.deleteFrom('api_key_usage').where('key_id', 'in', gone).execute();
      await this.#db.deleteFrom('api_keys').where('id', 'in', gone).execute();
    }
  }

  /** The stage's keys in creation order; undefined stage: every stage's. */
  async list(service?: string, stage?: string): Promise<StoredApiKey[]> {
    let query = this.#db.selectFrom('api_keys').selectAll();
    if (service !== undefined) query = query.where('service', '=', service);
    if (stage !== undefined) query = query.where('stage', '=', stage);
    const rows = await query.orderBy('created_at').orderBy('name').execute();
    return rows.map((row) => ({
      id: row.id,
      service: row.service,
      stage: row.stage,
      name: row.name,
      value: openSecret(this.#masterKey, row.sealed_value, row.id),
      ...(row.description === null ? {} : { description: row.description }),
    }));
  }

  async deleteStage(service: string, stage: string): Promise<void> {
    await this.sync(service, stage, []);
  }

  /**
   * Counts one request against a quota: true when it fits. One statement, so concurrent
   * requests (and nodes) never count past the limit.
   */
  async take(keyId: string, periodStart: string, limit: number): Promise<boolean> {
    const row = await this.#db
      .insertInto('api_key_usage')
      .values({ key_id: keyId, period_start: periodStart, used: 1 })
      .onConflict((oc) =>
        oc
          .columns(['key_id', 'period_start'])
          .doUpdateSet({ used: sql`api_key_usage.used + 1` })
          .where('api_key_usage.used', '<', limit),
      )
      .returning('used')
      .executeTakeFirst();
    return row !== undefined && row.used <= limit;
  }

  /** Requests counted in a period (for tests and `info`). */
  async used(keyId: string, periodStart: string): Promise<number> {
    const row = await this.#db
      .selectFrom('api_key_usage')
      .select('used')
      .where('key_id', '=', keyId)
      .where('period_start', '=', periodStart)
      .executeTakeFirst();
    return row?.used ?? 0;
  }
}
