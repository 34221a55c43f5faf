import { isAbsolute, join, resolve } from 'node:path';
import type { Kysely } from 'kysely';
import { StoreUrlError } from './errors.js';
import { KyselyStore } from './kysely-store.js';
import { openPostgresDatabase } from './postgres.js';
import type { Database } from './schema.js';
import { openSqliteDatabase, type SqliteSynchronous } from './sqlite.js';
import type { Store } from './store.js';

export type StoreLocation =
  | { kind: 'sqlite'; file: string }
  | { kind: 'postgres'; url: string; schema?: string };

/**
 * Opens the store a URL names:
 * - `sqlite:` — `<dataDir>/nimbus.db`
 * - `sqlite:<path>` — that file; a relative path is taken from dataDir, not the working directory
 * - `postgres://...` or `postgresql://...` — optional `?schema=<name>` (default `public`)
 */
export async function openStore(
  url: string,
  opts: { dataDir: string; sqliteSynchronous?: SqliteSynchronous },
): Promise<Store> {
  return new KyselyStore(await openDatabase(url, opts));
}

/**
 * The migrated database handle a URL names. The composition root builds the Store and the other
 * repositories (access keys, logs) on this one handle; the Store owns it and closes it.
 */
export async function openDatabase(
  url: string,
  opts: { dataDir: string; sqliteSynchronous?: SqliteSynchronous },
): Promise<Kysely<Database>> {
  const location = parseStoreUrl(url, opts);
  return location.kind === 'sqlite'
    ? openSqliteDatabase({
        file: location.file,
        ...(opts.sqliteSynchronous ? { synchronous: opts.sqliteSynchronous } : {}),
      })
    : openPostgresDatabase(location);
}

/** The pure half of openStore: which adapter, where. Throws StoreUrlError (NIMBUS_STORE_BAD_URL). */
export function parseStoreUrl(url: string, opts: { dataDir: string }): StoreLocation {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '') return { kind: 'sqlite', file: join(opts.dataDir, 'nimbus.db') };
    // `sqlite:///abs/file.db` is the URL spelling of `sqlite:/abs/file.db`; a host is meaningless.
    if (path.startsWith('//') && !path.startsWith('///')) {
      throw new StoreUrlError(
        `store URL ${url} names a host; use sqlite:<path> or sqlite:///<path>`,
      );
    }
    const file = path.startsWith('///') ? path.slice(2) : path;
    return { kind: 'sqlite', file: isAbsolute(file) ? file : resolve(opts.dataDir, file) };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      // Not echoed: a malformed URL may still carry a password.
      throw new StoreUrlError('store URL is not a valid postgres:// URL');
    }
    const schema = parsed.searchParams.get('schema');
    if (schema === null) return { kind: 'postgres', url };
    // `schema` is Nimbus's parameter, not libpq's: hand pg the URL without it.
    parsed.searchParams.delete('schema');
    return { kind: 'postgres', url: parsed.toString(), schema };
  }
  // Only the scheme is echoed, for the same reason.
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0];
  const what = scheme === undefined ? 'store URL without a known scheme' : `store URL ${scheme}...`;
  throw new StoreUrlError(
    `unsupported ${what}: expected sqlite:, sqlite:<path>, postgres://... or postgresql://...`,
  );
}
