/**
 * Where rate-limit counters live: in this process (one node), or in the PostgreSQL store so a
 * limit holds across every node of a cluster. The counting itself is rate-limiter-flexible's.
 */
import { CompiledQuery, type Kysely, sql } from 'kysely';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterPostgres,
} from 'rate-limiter-flexible';

export interface CounterOptions {
  keyPrefix: string;
  points: number;
  /** Window in seconds. */
  duration: number;
}

export interface Counters {
  /** `memory` or `postgres`, for the log and docs/protection.md. */
  readonly kind: string;
  make(opts: CounterOptions): RateLimiterAbstract;
  /** Drops counters whose window ended (the shared table); nothing in memory. */
  sweep(): Promise<void>;
}

export const memoryCounters: Counters = {
  kind: 'memory',
  make: (opts) => new RateLimiterMemory(opts),
  sweep: async () => {},
};

const table = 'nimbus_rate_limits';

/**
 * Counters in the store's own database, through its Kysely handle (and so its pool and
 * search_path): rate-limiter-flexible only needs something with `query({text, values})`.
 */
export async function postgresCounters(
  // biome-ignore lint/suspicious/noExplicitAny: any store schema; only this table is touched
  db: Kysely<any>,
): Promise<Counters> {
  // The table is the store's (migration 042), so its own async creation is off.
  const client = {
    query: async (q: { text: string; values?: unknown[] }) => {
      const result = await db.executeQuery(CompiledQuery.raw(q.text, q.values ?? []));
      return { rows: result.rows };
    },
  };
  return {
    kind: 'postgres',
    make: (opts) =>
      new RateLimiterPostgres({
        ...opts,
        storeClient: client,
        storeType: 'pool',
        tableName: table,
        tableCreated: true,
        clearExpiredByTimeout: false,
      }),
    sweep: async () => {
      await sql`delete from ${sql.table(table)} where expire < ${Date.now() - 3_600_000}`.execute(
        db,
      );
    },
  };
}
