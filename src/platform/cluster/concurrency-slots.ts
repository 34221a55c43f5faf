/**
 * Reserved concurrency across a cluster (docs/cluster.md): a function with reservedConcurrency N
 * has N slots, leases named `concurrency:<function>:<i>` in `cluster_leases` (the same table
 * and the same lapse-and-take-over rule as the schedule lease, ClusterLease). A run holds one
 * slot, renewed while it lasts, and deletes it when done; a node that dies leaves its slots to
 * lapse after the TTL. Each node still checks its own in-flight count first (the pool).
 */
import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Clock } from '../../model/clock.js';
import type { Database } from '../../store/schema.js';

export interface ConcurrencySlotsOptions {
  db: Kysely<Database>;
  clock: Clock;
  /** This node, in the holder (`<node>/<token>`), so `cluster_leases` shows who runs what. */
  nodeName: string;
  /** A slot a dead node held is free again this long after its last renewal. Default 15 s. */
  ttlMs?: number;
}

/** A slot taken: release it when the run ends (renewal runs until then). */
export interface Slot {
  release(): Promise<void>;
}

/** Tries before a race (another node took the slot this one picked) counts as full. */
const attempts = 4;

export class ConcurrencySlots {
  readonly #o: ConcurrencySlotsOptions;
  readonly #ttlMs: number;

  constructor(opts: ConcurrencySlotsOptions) {
    this.#o = opts;
    this.#ttlMs = opts.ttlMs ?? 15_000;
  }

  /** One of the function's `limit` slots, or undefined when all are held. */
  async acquire(functionName: string, limit: number): Promise<Slot | undefined> {
    if (limit <= 0) return undefined;
    const holder = `${this.#o.nodeName}/${randomBytes(8).toString('hex')}`;
    const prefix = `concurrency:${functionName}:`;
    for (let i = 0; i < attempts; i++) {
      const now = Math.floor(this.#o.clock.now());
      // One statement: the first slot that is free (never taken, or lapsed) is taken. Two nodes
      // picking the same one race on its row; the loser gets no row and looks again.
      const { rows } = await sql<{ name: string }>`
        insert into cluster_leases (name, holder, expires_at)
        select s.name, ${holder}::text, ${now + this.#ttlMs}::bigint
        from (
          select ${prefix}::text || g::text as name
          from generate_series(0, ${limit - 1}::int) as g
        ) as s
        where not exists (
          select 1 from cluster_leases l where l.name = s.name and l.expires_at > ${now}::bigint)
        limit 1
        on conflict (name) do update
          set holder = excluded.holder, expires_at = excluded.expires_at
          where cluster_leases.expires_at <= ${now}::bigint
        returning name`.execute(this.#o.db);
      const name = rows[0]?.name;
      if (name !== undefined) return this.#held(name, holder);
      if ((await this.#live(prefix, now)) >= limit) return undefined;
    }
    return undefined;
  }

  /** Slots of the function held now (`concurrency:<fn>:` sorts before `concurrency:<fn>;`). */
  async #live(prefix: string, now: number): Promise<number> {
    const row = await this.#o.db
      .selectFrom('cluster_leases')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('name', '>=', prefix)
      .where('name', '<', `${prefix.slice(0, -1)};`)
      .where('expires_at', '>', now)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  #held(name: string, holder: string): Slot {
    const db = this.#o.db;
    const renew = setInterval(() => {
      db.updateTable('cluster_leases')
        .set({ expires_at: Math.floor(this.#o.clock.now()) + this.#ttlMs })
        .where('name', '=', name)
        .where('holder', '=', holder)
        .execute()
        .catch(() => undefined); // The next renewal tries again; a lapse only frees the slot.
    }, this.#ttlMs / 3);
    renew.unref();
    return {
      release: async () => {
        clearInterval(renew);
        await db
          .deleteFrom('cluster_leases')
          .where('name', '=', name)
          .where('holder', '=', holder)
          .execute();
      },
    };
  }
}
