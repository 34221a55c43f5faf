/**
 * A Kysely query built and compiled once, then run many times with new values. Building a query
 * (immutable nodes, cloned and frozen at every `.where`) and compiling it (a visitor over those
 * nodes) cost more CPU than better-sqlite3 takes to run a cached prepared statement: on a
 * DynamoDB GetItem it was most of the store's share of the call. The SQL stays Kysely's, so it
 * is spelled right for each dialect, and the same text reaches the prepared-statement cache
 * (sqlite.ts) on every run.
 */
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { DirectReader } from './sqlite.js';

/** Where a value goes: a marker no caller's value can equal. */
const markerPrefix = '\u0000nimbus-parameter:';

export type PrecompiledQuery<A extends Record<string, unknown>, R> = {
  /** The query for `args`, compiled (tests compare its SQL; run() executes it). */
  bind(args: A): CompiledQuery<R>;
  /** Runs it on `db`: the handle it was built on, or a transaction of that handle. */
  run(db: Pick<Kysely<unknown>, 'executeQuery'>, args: A): Promise<QueryResult<R>>;
  /**
   * A read's rows at once through `reader` (sqlite.ts directReader), or undefined when it
   * cannot answer now (no reader: PostgreSQL; a transaction open): then run() it.
   */
  readNow(reader: DirectReader | undefined, args: A): R[] | undefined;
};

/**
 * `build` gets a stand-in for every argument (use them where the values go, as bound
 * parameters, never spliced into SQL text) and returns the query; `names` lists the arguments.
 */
export function precompile<A extends Record<string, unknown>, R>(
  names: readonly (keyof A & string)[],
  build: (args: A) => Compilable<R>,
): PrecompiledQuery<A, R> {
  const markers = Object.fromEntries(names.map((n) => [n, `${markerPrefix}${n}`])) as A;
  const compiled = build(markers).compile();
  const slots = compiled.parameters.map((p) => {
    const name =
      typeof p === 'string' && p.startsWith(markerPrefix)
        ? p.slice(markerPrefix.length)
        : undefined;
    if (name === undefined || !names.includes(name)) {
      // A constant in the builder would be bound as it was at compile time: keep it, by index.
      return { constant: p };
    }
    return { name };
  });
  const parametersOf = (args: A) =>
    slots.map((s) => ('name' in s ? args[s.name as keyof A] : s.constant));
  const bind = (args: A): CompiledQuery<R> => ({
    sql: compiled.sql,
    query: compiled.query,
    queryId: compiled.queryId,
    parameters: parametersOf(args),
  });
  return {
    bind,
    run: (db, args) => db.executeQuery(bind(args)),
    readNow: (reader, args) => reader?.(compiled.sql, parametersOf(args)) as R[] | undefined,
  };
}
