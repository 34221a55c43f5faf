/**
 * Kysely handles that build and compile queries but reach no database (kysely's DummyDriver):
 * what tests of SQL builders use to check the text and the bound values of both dialects.
 */
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';

export function compileOnlyKysely<DB>(dialect: 'sqlite' | 'postgres'): Kysely<DB> {
  const postgres = dialect === 'postgres';
  return new Kysely<DB>({
    dialect: {
      createAdapter: () => (postgres ? new PostgresAdapter() : new SqliteAdapter()),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) =>
        postgres ? new PostgresIntrospector(db) : new SqliteIntrospector(db),
      createQueryCompiler: () =>
        postgres ? new PostgresQueryCompiler() : new SqliteQueryCompiler(),
    },
  });
}
