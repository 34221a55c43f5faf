/**
 * Store errors, coded NIMBUS_STORE_*. Constraint violations are translated from the driver's
 * own codes so callers (the control plane answering 409, say) never learn which dialect runs.
 */
import { NimbusError } from '../errors/nimbus-error.js';

export class StoreUrlError extends NimbusError {
  constructor(message: string) {
    super('NIMBUS_STORE_BAD_URL', message);
  }
}

export class StoreSchemaNameError extends NimbusError {
  constructor(schema: string) {
    super(
      'NIMBUS_STORE_BAD_SCHEMA',
      `invalid PostgreSQL schema name ${JSON.stringify(schema)}: use lower-case letters, ` +
        'digits and underscores, starting with a letter or underscore, at most 63 characters',
    );
  }
}

/** A unique or primary key was already taken (duplicate function name, version, ...). */
export class StoreConflictError extends NimbusError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NIMBUS_STORE_CONFLICT', message, options);
  }
}

/** A row names a parent that does not exist (function of a missing stage, alias to no version). */
export class StoreMissingReferenceError extends NimbusError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NIMBUS_STORE_MISSING_REFERENCE', message, options);
  }
}

/**
 * A commit reached SQLite but the sync that makes it durable failed (an I/O error of the disk).
 * Not retried by group commit: the writes did commit, and running them again would repeat them.
 */
export class StoreSyncError extends NimbusError {
  constructor(file: string, options?: { cause?: unknown }) {
    super('NIMBUS_STORE_SYNC_FAILED', `could not sync ${file} to disk`, options);
  }
}

const uniqueCodes = new Set(['23505', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);
const referenceCodes = new Set(['23503', 'SQLITE_CONSTRAINT_FOREIGNKEY']);

/** Maps a driver constraint error to a Store error; anything else is returned unchanged. */
export function translateConstraintError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return err;
  const message = err instanceof Error ? err.message : String(err);
  if (uniqueCodes.has(code)) return new StoreConflictError(message, { cause: err });
  if (referenceCodes.has(code)) return new StoreMissingReferenceError(message, { cause: err });
  return err;
}

/**
 * The PostgreSQL store could not be opened (startup): says which server, database and user
 * were tried (never the password) and the likely fix.
 */
export class StoreUnavailableError extends NimbusError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NIMBUS_STORE_UNAVAILABLE', message, options);
  }
}
