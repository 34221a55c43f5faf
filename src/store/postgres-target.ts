import { StoreUnavailableError } from './errors.js';

/** `postgres://user@host:port/db`: the URL as it can be shown, without password or parameters. */
export function describePostgresUrl(url: string, schema = 'public'): string {
  try {
    const parsed = new URL(url);
    const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : '';
    const port = parsed.port || '5432';
    const db = parsed.pathname.replace(/^\//, '') || '(default database)';
    return `postgres://${user}${parsed.hostname || 'localhost'}:${port}/${db} (schema ${schema})`;
  } catch {
    return 'a postgres:// URL';
  }
}

/** What failed when opening the store, where, and what usually fixes it. */
export function storeUnavailable(
  url: string,
  schema: string | undefined,
  error: unknown,
): StoreUnavailableError {
  const where = describePostgresUrl(url, schema);
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  const hint = hintFor(code, message ?? '');
  return new StoreUnavailableError(
    `cannot open the PostgreSQL store at ${where}: ${message ?? String(error)}${hint ? `; ${hint}` : ''}`,
    { cause: error },
  );
}

function hintFor(code: string | undefined, message: string): string | undefined {
  if (message.includes('no PostgreSQL user name')) {
    return 'put a user in the URL: postgres://user@host:5432/db';
  }
  switch (code) {
    case 'ECONNREFUSED':
      return 'is PostgreSQL running and listening on that host and port?';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case '28P01':
    case '28000':
      return 'check the user and password in the URL (and pg_hba.conf)';
    case '3D000':
      return 'create the database first (createdb), or name an existing one in the URL';
    case '42501':
      return 'the user lacks a privilege it needs (CREATE on the database or the schema)';
  }
  return undefined;
}
