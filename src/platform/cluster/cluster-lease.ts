import type { Kysely } from 'kysely';
import type { Clock } from '../../model/clock.js';
import type { Database } from '../../store/schema.js';

/**
 * A named lease in `cluster_leases`: one node holds it until `expires_at`, renewing as it goes;
 * when the holder dies the lease lapses and the next node to ask takes it. One conditional
 * upsert decides, so two nodes never both get `true` for the same moment (their clocks agreeing
 * within a fraction of the TTL: the expiry is compared with the asker's clock).
 */
export class ClusterLease {
  readonly #db: Kysely<Database>;
  readonly #name: string;
  readonly #holder: string;
  readonly #ttlMs: number;
  readonly #clock: Clock;

  constructor(opts: {
    db: Kysely<Database>;
    name: string;
    holder: string;
    ttlMs: number;
    clock: Clock;
  }) {
    this.#db = opts.db;
    this.#name = opts.name;
    this.#holder = opts.holder;
    this.#ttlMs = opts.ttlMs;
    this.#clock = opts.clock;
  }

  /** Acquires or renews; false while another holder's lease runs. */
  async hold(nowMs = this.#clock.now()): Promise<boolean> {
    const now = Math.floor(nowMs);
    const row = await this.#db
      .insertInto('cluster_leases')
      .values({ name: this.#name, holder: this.#holder, expires_at: now + this.#ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet((eb) => ({
            holder: eb.ref('excluded.holder'),
            expires_at: eb.ref('excluded.expires_at'),
          }))
          .where((eb) =>
            eb.or([
              eb('cluster_leases.holder', '=', this.#holder),
              eb('cluster_leases.expires_at', '<=', now),
            ]),
          ),
      )
      .returning('holder')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Lets the lease go at once (a clean stop), so another node need not wait for it to lapse. */
  async release(): Promise<void> {
    await this.#db
      .deleteFrom('cluster_leases')
      .where('name', '=', this.#name)
      .where('holder', '=', this.#holder)
      .execute();
  }

  async holder(): Promise<string | undefined> {
    const now = Math.floor(this.#clock.now());
    const row = await this.#db
      .selectFrom('cluster_leases')
      .select('holder')
      .where('name', '=', this.#name)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row?.holder;
  }
}
