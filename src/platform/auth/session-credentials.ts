/**
 * Function processes' credentials: the equivalent of a Lambda execution role's temporary
 * credentials. Each is an access key id (`NIMS` + 16, as AWS's temporary ids start `ASIA`), a
 * secret and a session token, scoped to one {service, stage} and expiring. They are checked by
 * the one SigV4 verifier like access keys; the session token must come with the request
 * (`X-Amz-Security-Token`, header or presigned query) and match. Never the platform's own keys
 * or admin token (docs/security.md).
 *
 * Rotation: a stage's credentials are handed to every instance started within `refreshAfterMs`
 * of their issue; later instances get fresh ones, and each set stops working `lifetimeMs` after
 * it was issued. Rows are kept in the Store so every node of a cluster verifies them.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../model/clock.js';
import { type ExactRowCache, sharedRowCache } from '../../store/exact-row-cache.js';
import { type PrecompiledQuery, precompile } from '../../store/precompiled-query.js';
import type { Database } from '../../store/schema.js';
import type { AccessKeyScope, AccessKeyStore } from './access-key-store.js';
import { newSecretAccessKey } from './access-key-store.js';
import { openSecret, sealSecret } from './secret-box.js';

export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface SessionScope {
  service: string;
  stage: string;
}

export const sessionKeyIdPrefix = 'NIMS';
const idAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** Twelve hours, like the longest role session AWS issues by default. */
export const defaultSessionLifetimeMs = 12 * 3_600_000;
/** New instances get a fresh set once the current one is an hour old. */
export const defaultSessionRefreshAfterMs = 3_600_000;
/**
 * The oldest an instance may grow before it takes no new request (the pool's
 * maxInstanceAgeMs): the set it started with may already be refreshAfterMs old, and its last
 * request may run 15 minutes (the longest function timeout) after it was handed over; a further
 * 15 minutes spare. With the defaults, 10.5 hours: credentials never expire under a request.
 */
export function maxInstanceAgeMs(
  lifetimeMs = defaultSessionLifetimeMs,
  refreshAfterMs = defaultSessionRefreshAfterMs,
): number {
  return lifetimeMs - refreshAfterMs - 30 * 60_000;
}

export function isSessionKeyId(text: string): boolean {
  return /^NIMS[A-Z0-9]{16}$/.test(text);
}

function newSessionKeyId(): string {
  let id = sessionKeyIdPrefix;
  for (let i = 0; i < 16; i++) id += idAlphabet[randomInt(idAlphabet.length)];
  return id;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** What a signed request with session credentials is checked against. */
interface SessionRow {
  sealed_secret: string;
  token_sha256: string;
  expires_at: number | string;
}

/** Opened secrets kept in memory; past this, all go. */
const maxOpenedSecrets = 1000;

export interface SessionCredentialStoreOptions {
  db: Kysely<Database>;
  masterKey: Buffer;
  clock: Clock;
  lifetimeMs?: number;
  refreshAfterMs?: number;
}

export class SessionCredentialStore {
  readonly #o: Required<SessionCredentialStoreOptions>;
  /** The set being handed out per `service/stage`, with when it was issued. */
  readonly #current = new Map<string, { issuedAt: number; credentials: SessionCredentials }>();
  /** One issue at a time per stage: concurrent cold starts share it. */
  readonly #issuing = new Map<string, Promise<SessionCredentials>>();
  /** The row a function's signed call is checked against (every call): compiled once. */
  readonly #sessionRow: PrecompiledQuery<{ id: string }, SessionRow>;
  /**
   * Rows by id (undefined: none), kept only where that is exact (the embedded store,
   * src/store/exact-row-cache.ts); issue and purge, the only writes, forget them.
   */
  readonly #rows: ExactRowCache<SessionRow | undefined>;
  /** Opened secrets by id and sealed secret: what a sealed secret opens to never changes. */
  readonly #opened = new Map<string, string>();

  constructor(options: SessionCredentialStoreOptions) {
    if (options.masterKey.length !== 32) throw new RangeError('the master key must be 32 bytes');
    this.#o = {
      lifetimeMs: defaultSessionLifetimeMs,
      refreshAfterMs: defaultSessionRefreshAfterMs,
      ...options,
    };
    const db = options.db;
    this.#sessionRow = precompile(['id'], (a: { id: string }) =>
      db
        .selectFrom('session_credentials')
        .select(['sealed_secret', 'token_sha256', 'expires_at'])
        .where('id', '=', a.id),
    );
    this.#rows = sharedRowCache(db, 'session credentials');
  }

  /** Credentials for a new instance of a function of `scope`. */
  async forInstance(scope: SessionScope): Promise<SessionCredentials> {
    const key = `${scope.service}/${scope.stage}`;
    const now = this.#o.clock.now();
    const current = this.#current.get(key);
    if (current && now - current.issuedAt < this.#o.refreshAfterMs) return current.credentials;
    const pending = this.#issuing.get(key);
    if (pending) return pending;
    const issuing = this.issue(scope).then(
      (credentials) => {
        this.#current.set(key, { issuedAt: now, credentials });
        this.#issuing.delete(key);
        return credentials;
      },
      (error: unknown) => {
        this.#issuing.delete(key);
        throw error;
      },
    );
    this.#issuing.set(key, issuing);
    return issuing;
  }

  /** A new set, always (forInstance shares them). */
  async issue(scope: SessionScope): Promise<SessionCredentials> {
    const accessKeyId = newSessionKeyId();
    const secretAccessKey = newSecretAccessKey();
    const sessionToken = randomBytes(48).toString('base64');
    const expiresAt = this.#o.clock.now() + this.#o.lifetimeMs;
    try {
      await this.#o.db
        .insertInto('session_credentials')
        .values({
          id: accessKeyId,
          sealed_secret: sealSecret(this.#o.masterKey, secretAccessKey, accessKeyId),
          token_sha256: sha256(sessionToken),
          scope_service: scope.service,
          scope_stage: scope.stage,
          expires_at: expiresAt,
        })
        .execute();
    } finally {
      // A lookup of the new id before now found nothing (ids are random, but exact).
      this.#rows.invalidate(accessKeyId);
    }
    return { accessKeyId, secretAccessKey, sessionToken, expiresAt };
  }

  /** The secret, only for a live set presented with its own session token. */
  async findSecret(id: string, sessionToken: string | undefined): Promise<string | undefined> {
    if (!isSessionKeyId(id) || sessionToken === undefined) return undefined;
    const row = await this.#rows.get(
      id,
      async () => (await this.#sessionRow.run(this.#o.db, { id })).rows[0],
    );
    if (!row || Number(row.expires_at) <= this.#o.clock.now()) return undefined;
    const presented = Buffer.from(sha256(sessionToken), 'hex');
    const stored = Buffer.from(row.token_sha256, 'hex');
    if (presented.length !== stored.length || !timingSafeEqual(presented, stored)) return undefined;
    const opened = `${id}\0${row.sealed_secret}`;
    const known = this.#opened.get(opened);
    if (known !== undefined) return known;
    const secret = openSecret(this.#o.masterKey, row.sealed_secret, id);
    if (this.#opened.size >= maxOpenedSecrets) this.#opened.clear();
    this.#opened.set(opened, secret);
    return secret;
  }

  async scopeOf(id: string): Promise<AccessKeyScope | undefined> {
    if (!isSessionKeyId(id)) return undefined;
    const row = await this.#o.db
      .selectFrom('session_credentials')
      .select(['scope_service', 'scope_stage'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row && { service: row.scope_service, stage: row.scope_stage };
  }

  /** Deletes sets past their expiry; returns how many. */
  async purgeExpired(): Promise<number> {
    try {
      const result = await this.#o.db
        .deleteFrom('session_credentials')
        .where('expires_at', '<=', this.#o.clock.now())
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    } finally {
      this.#rows.invalidateAll();
    }
  }
}

/** What the SigV4 verifier and scope checks consult: access keys and session credentials. */
export type CredentialLookup = Pick<AccessKeyStore, 'findSecret' | 'markUsed' | 'scopeOf'>;

/**
 * Access keys and session credentials behind one lookup, told apart by their id's prefix. A
 * session key is never marked used (it is short-lived and may be used on every request).
 */
export function credentialLookup(
  keys: CredentialLookup,
  sessions: Pick<SessionCredentialStore, 'findSecret' | 'scopeOf'>,
): CredentialLookup {
  return {
    findSecret: (id, sessionToken) =>
      isSessionKeyId(id) ? sessions.findSecret(id, sessionToken) : keys.findSecret(id),
    markUsed: async (id, atMs) => {
      if (!isSessionKeyId(id)) await keys.markUsed(id, atMs);
    },
    scopeOf: (id) => (isSessionKeyId(id) ? sessions.scopeOf(id) : keys.scopeOf(id)),
  };
}
