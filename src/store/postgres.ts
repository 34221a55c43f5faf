import { Kysely, sql } from 'kysely';
import pg from 'pg';
import { StoreSchemaNameError } from './errors.js';
import { KyselyStore } from './kysely-store.js';
import { migrateToLatest } from './migrate.js';
import { storeUnavailable } from './postgres-target.js';
import type { Database } from './schema.js';
import { StorePostgresDialect } from './schema-introspector.js';
import type { Store } from './store.js';

/**
 * The cluster store: a pg Pool whose every connection has search_path set to `schema`
 * (default `public`), so unqualified table names, and Kysely's migration tables, live there.
 * The schema is created if missing, then migrated.
 */
export async function openPostgresStore(opts: { url: string; schema?: string }): Promise<Store> {
  return new KyselyStore(await openPostgresDatabase(opts));
}

/** The migrated Kysely handle itself, for repositories beside the Store (keys, logs). */
export async function openPostgresDatabase(opts: {
  url: string;
  schema?: string;
}): Promise<Kysely<Database>> {
  const schema = opts.schema ?? 'public';
  // It is spliced into a startup option and DDL, never bound: only plain identifiers pass.
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new StoreSchemaNameError(schema);

  const { connectionString, options } = withoutOptionsParam(opts.url);
  const pool = new pg.Pool({
    connectionString,
    options: `${options} -c search_path=${schema}`.trim(),
    types: { getTypeParser: typeParser },
  });
  // An idle client that loses its connection emits 'error' on the pool; unhandled, that would
  // crash the process. The pool has already discarded the client and the next query reconnects.
  pool.on('error', () => {});

  const db = new Kysely<Database>({ dialect: new StorePostgresDialect({ pool }, schema) });
  let release: () => Promise<void>;
  try {
    release = await holdMigrationLock(pool, schema);
  } catch (err) {
    await db.destroy();
    throw storeUnavailable(connectionString, schema, err);
  }
  try {
    try {
      await ensureSchema(db, schema);
    } catch (err) {
      throw storeUnavailable(connectionString, schema, err);
    }
    await migrateToLatest(db as Kysely<unknown>, { flavor: 'postgres', schema });
  } catch (err) {
    await release().catch(() => {});
    await db.destroy();
    throw err;
  }
  await release();
  return db;
}

/**
 * Nodes of a cluster start together against one schema. Kysely's migrator locks only once its
 * own tables exist, and two concurrent `CREATE ... IF NOT EXISTS` of one name still collide in
 * the catalog (duplicate key on pg_type / pg_namespace); so the whole set-up runs under a
 * session advisory lock keyed by the schema, held on a connection of its own.
 */
async function holdMigrationLock(pool: pg.Pool, schema: string): Promise<() => Promise<void>> {
  const client = await pool.connect();
  const key = `nimbus-store-migration:${schema}`;
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [key]);
  } catch (err) {
    client.release(true);
    throw err;
  }
  return async () => {
    try {
      await client.query('select pg_advisory_unlock(hashtext($1))', [key]);
      client.release();
    } catch {
      // A broken connection drops its session locks with it.
      client.release(true);
    }
  };
}

/**
 * Looks before creating: CREATE SCHEMA IF NOT EXISTS still demands the CREATE privilege on the
 * database, which a role confined to an existing schema may lack.
 */
async function ensureSchema(db: Kysely<Database>, schema: string): Promise<void> {
  const found = await sql`select 1 from pg_namespace where nspname = ${schema}`.execute(db);
  if (found.rows.length === 0) await db.schema.createSchema(schema).ifNotExists().execute();
}

/**
 * int8 (BIGINT: deployment timestamps, code sizes) as a Number for this pool only; pg's default
 * is a string, and changing pg.types globally would surprise any other pool in the process.
 * Epoch milliseconds and byte counts stay far below 2^53; anything larger fails loudly.
 */
const typeParser = ((oid: number, format?: string) =>
  oid === pg.types.builtins.INT8
    ? parseInt8
    : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser;

function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 ${text} exceeds Number precision`);
  return n;
}

/**
 * pg lets an `options` query parameter in the URL override the `options` config, which would drop
 * our search_path; lift it out of the URL and keep it in front of ours instead.
 */
function withoutOptionsParam(url: string): { connectionString: string; options: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { connectionString: url, options: '' };
  }
  const options = parsed.searchParams.get('options');
  if (options === null) return { connectionString: url, options: '' };
  parsed.searchParams.delete('options');
  return { connectionString: parsed.toString(), options };
}
