/**
 * User pools in the Store's database (migration 019), on SQLite and PostgreSQL alike. Secrets
 * never reach these rows in the clear: passwords are argon2id hashes, codes, refresh tokens and
 * challenge sessions are SHA-256 hashes, private keys and client secrets are sealed.
 */
import type { Kysely } from 'kysely';

interface CognitoTables {
  cognito_pools: {
    id: string;
    name: string;
    config: string;
    created_at: number;
    modified_at: number;
  };
  cognito_clients: {
    id: string;
    pool_id: string;
    name: string;
    secret: string | null;
    config: string;
    created_at: number;
    modified_at: number;
  };
  cognito_users: {
    pool_id: string;
    username_key: string;
    username: string;
    sub: string;
    email: string | null;
    status: string;
    enabled: number;
    password_hash: string | null;
    srp_verifier: string | null;
    attributes: string;
    failed_attempts: number;
    last_failure_at: number | null;
    locked_until: number | null;
    created_at: number;
    modified_at: number;
  };
  cognito_groups: {
    pool_id: string;
    name: string;
    description: string | null;
    precedence: number | null;
    created_at: number;
  };
  cognito_group_members: { pool_id: string; group_name: string; sub: string };
  cognito_codes: {
    pool_id: string;
    sub: string;
    purpose: string;
    code_hash: string;
    attempts: number;
    expires_at: number;
  };
  cognito_sessions: {
    id: string;
    pool_id: string;
    client_id: string;
    sub: string;
    refresh_hash: string;
    auth_time: number;
    expires_at: number;
    revoked_at: number | null;
  };
  cognito_challenges: {
    session_hash: string;
    pool_id: string;
    client_id: string;
    sub: string;
    challenge: string;
    data: string;
    expires_at: number;
  };
  cognito_keys: {
    kid: string;
    pool_id: string;
    public_jwk: string;
    private_jwk: string;
    created_at: number;
  };
  cognito_outbox: {
    id: string;
    pool_id: string;
    username: string;
    destination: string;
    kind: string;
    message: string;
    created_at: number;
  };
}

export interface PoolRow {
  id: string;
  name: string;
  config: Record<string, unknown>;
  createdAt: number;
  modifiedAt: number;
}

export interface ClientRow {
  id: string;
  poolId: string;
  name: string;
  sealedSecret?: string;
  config: Record<string, unknown>;
  createdAt: number;
  modifiedAt: number;
}

export type UserStatus = 'UNCONFIRMED' | 'CONFIRMED' | 'FORCE_CHANGE_PASSWORD' | 'RESET_REQUIRED';

export interface UserRow {
  poolId: string;
  usernameKey: string;
  username: string;
  sub: string;
  email?: string;
  status: UserStatus;
  enabled: boolean;
  passwordHash?: string;
  /** The SRP salt and verifier, sealed (srp-verifiers.ts); absent for older passwords. */
  srpVerifier?: string;
  attributes: Record<string, string>;
  failedAttempts: number;
  lastFailureAt?: number;
  lockedUntil?: number;
  createdAt: number;
  modifiedAt: number;
}

export interface SessionRow {
  id: string;
  poolId: string;
  clientId: string;
  sub: string;
  authTime: number;
  expiresAt: number;
  revokedAt?: number;
}

export interface ChallengeRow {
  poolId: string;
  clientId: string;
  sub: string;
  challenge: string;
  data: Record<string, string>;
  expiresAt: number;
}

export interface KeyRow {
  kid: string;
  poolId: string;
  publicJwk: Record<string, unknown>;
  sealedPrivateJwk: string;
  createdAt: number;
}

export interface OutboxMessage {
  id: string;
  poolId: string;
  username: string;
  destination: string;
  kind: string;
  message: string;
  createdAt: number;
}

export interface GroupRow {
  poolId: string;
  name: string;
  description?: string;
  precedence?: number;
  createdAt: number;
}

export class CognitoStore {
  readonly #db: Kysely<CognitoTables>;

  constructor(db: unknown) {
    this.#db = db as Kysely<CognitoTables>;
  }

  // Pools

  async insertPool(row: PoolRow): Promise<void> {
    await this.#db
      .insertInto('cognito_pools')
      .values({
        id: row.id,
        name: row.name,
        config: JSON.stringify(row.config),
        created_at: row.createdAt,
        modified_at: row.modifiedAt,
      })
      .execute();
  }

  async findPool(id: string): Promise<PoolRow | undefined> {
    const r = await this.#db
      .selectFrom('cognito_pools')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return r && poolRow(r);
  }

  async listPools(): Promise<PoolRow[]> {
    const rows = await this.#db.selectFrom('cognito_pools').selectAll().orderBy('id').execute();
    return rows.map(poolRow);
  }

  /** Deletes the pool and everything in it, in one transaction. */
  async deletePool(id: string): Promise<boolean> {
    return this.#db.transaction().execute(async (tx) => {
      for (const table of [
        'cognito_outbox',
        'cognito_challenges',
        'cognito_sessions',
        'cognito_codes',
        'cognito_group_members',
        'cognito_groups',
        'cognito_keys',
        'cognito_users',
        'cognito_clients',
      ] as const) {
        await tx.deleteFrom(table).where('pool_id', '=', id).execute();
      }
      const r = await tx.deleteFrom('cognito_pools').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async updatePool(id: string, name: string, config: Record<string, unknown>, now: number) {
    await this.#db
      .updateTable('cognito_pools')
      .set({ name, config: JSON.stringify(config), modified_at: now })
      .where('id', '=', id)
      .execute();
  }

  // Clients

  async insertClient(row: ClientRow): Promise<void> {
    await this.#db
      .insertInto('cognito_clients')
      .values({
        id: row.id,
        pool_id: row.poolId,
        name: row.name,
        secret: row.sealedSecret ?? null,
        config: JSON.stringify(row.config),
        created_at: row.createdAt,
        modified_at: row.modifiedAt,
      })
      .execute();
  }

  async findClient(id: string): Promise<ClientRow | undefined> {
    const r = await this.#db
      .selectFrom('cognito_clients')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return r && clientRow(r);
  }

  async listClients(poolId: string): Promise<ClientRow[]> {
    const rows = await this.#db
      .selectFrom('cognito_clients')
      .selectAll()
      .where('pool_id', '=', poolId)
      .orderBy('id')
      .execute();
    return rows.map(clientRow);
  }

  async updateClient(id: string, name: string, config: Record<string, unknown>, now: number) {
    await this.#db
      .updateTable('cognito_clients')
      .set({ name, config: JSON.stringify(config), modified_at: now })
      .where('id', '=', id)
      .execute();
  }

  async deleteClient(id: string): Promise<boolean> {
    const r = await this.#db.deleteFrom('cognito_clients').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // Users

  /** False when the username is taken. */
  async insertUser(row: UserRow): Promise<boolean> {
    const r = await this.#db
      .insertInto('cognito_users')
      .values(userValues(row))
      .onConflict((oc) => oc.columns(['pool_id', 'username_key']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async findUser(poolId: string, usernameKey: string): Promise<UserRow | undefined> {
    const r = await this.#db
      .selectFrom('cognito_users')
      .selectAll()
      .where('pool_id', '=', poolId)
      .where('username_key', '=', usernameKey)
      .executeTakeFirst();
    return r && userRow(r);
  }

  async findUserBySub(poolId: string, sub: string): Promise<UserRow | undefined> {
    const r = await this.#db
      .selectFrom('cognito_users')
      .selectAll()
      .where('pool_id', '=', poolId)
      .where('sub', '=', sub)
      .executeTakeFirst();
    return r && userRow(r);
  }

  async findUsersByEmail(poolId: string, email: string): Promise<UserRow[]> {
    const rows = await this.#db
      .selectFrom('cognito_users')
      .selectAll()
      .where('pool_id', '=', poolId)
      .where('email', '=', email.toLowerCase())
      .execute();
    return rows.map(userRow);
  }

  async listUsers(poolId: string): Promise<UserRow[]> {
    const rows = await this.#db
      .selectFrom('cognito_users')
      .selectAll()
      .where('pool_id', '=', poolId)
      .orderBy('username_key')
      .execute();
    return rows.map(userRow);
  }

  async updateUser(row: UserRow): Promise<void> {
    const { pool_id, username_key, ...rest } = userValues(row);
    await this.#db
      .updateTable('cognito_users')
      .set(rest)
      .where('pool_id', '=', pool_id)
      .where('username_key', '=', username_key)
      .execute();
  }

  /**
   * Counts one wrong password atomically (parallel attempts each count), starting again after
   * `quietMs` without failures; returns the count.
   */
  async recordFailure(poolId: string, usernameKey: string, now: number, quietMs: number) {
    const row = await this.#db
      .updateTable('cognito_users')
      .set((eb) => ({
        failed_attempts: eb
          .case()
          .when('last_failure_at', 'is', null)
          .then(1)
          .when('last_failure_at', '<=', now - quietMs)
          .then(1)
          .else(eb('failed_attempts', '+', 1))
          .end(),
        last_failure_at: now,
      }))
      .where('pool_id', '=', poolId)
      .where('username_key', '=', usernameKey)
      .returning('failed_attempts')
      .executeTakeFirst();
    return Number(row?.failed_attempts ?? 0);
  }

  /**
   * Locks the user until `until` unless already locked longer: parallel failures finish in any
   * order, and the tenth's longer lock must not be cut short by the ninth's landing after it.
   */
  async lockUser(poolId: string, usernameKey: string, until: number): Promise<void> {
    await this.#db
      .updateTable('cognito_users')
      .set({ locked_until: until })
      .where('pool_id', '=', poolId)
      .where('username_key', '=', usernameKey)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', until)]))
      .execute();
  }

  /** Deletes the user with its codes, sessions and memberships, in one transaction. */
  async deleteUser(poolId: string, sub: string): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      for (const table of [
        'cognito_codes',
        'cognito_sessions',
        'cognito_challenges',
        'cognito_group_members',
      ] as const) {
        await tx.deleteFrom(table).where('pool_id', '=', poolId).where('sub', '=', sub).execute();
      }
      await tx
        .deleteFrom('cognito_users')
        .where('pool_id', '=', poolId)
        .where('sub', '=', sub)
        .execute();
    });
  }

  // Codes

  async putCode(poolId: string, sub: string, purpose: string, codeHash: string, expiresAt: number) {
    await this.#db
      .insertInto('cognito_codes')
      .values({
        pool_id: poolId,
        sub,
        purpose,
        code_hash: codeHash,
        attempts: 0,
        expires_at: expiresAt,
      })
      .onConflict((oc) =>
        oc
          .columns(['pool_id', 'sub', 'purpose'])
          .doUpdateSet({ code_hash: codeHash, attempts: 0, expires_at: expiresAt }),
      )
      .execute();
  }

  async findCode(poolId: string, sub: string, purpose: string) {
    const r = await this.#db
      .selectFrom('cognito_codes')
      .selectAll()
      .where('pool_id', '=', poolId)
      .where('sub', '=', sub)
      .where('purpose', '=', purpose)
      .executeTakeFirst();
    return (
      r && { codeHash: r.code_hash, attempts: Number(r.attempts), expiresAt: Number(r.expires_at) }
    );
  }

  async countCodeAttempt(poolId: string, sub: string, purpose: string): Promise<void> {
    await this.#db
      .updateTable('cognito_codes')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('pool_id', '=', poolId)
      .where('sub', '=', sub)
      .where('purpose', '=', purpose)
      .execute();
  }

  /** Consumes the code: true for exactly one caller, so a code works once. */
  async takeCode(poolId: string, sub: string, purpose: string, codeHash: string): Promise<boolean> {
    const r = await this.#db
      .deleteFrom('cognito_codes')
      .where('pool_id', '=', poolId)
      .where('sub', '=', sub)
      .where('purpose', '=', purpose)
      .where('code_hash', '=', codeHash)
      .executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  // Sessions (one per sign-in; the refresh token's hash)

  async insertSession(row: SessionRow & { refreshHash: string }): Promise<void> {
    await this.#db
      .insertInto('cognito_sessions')
      .values({
        id: row.id,
        pool_id: row.poolId,
        client_id: row.clientId,
        sub: row.sub,
        refresh_hash: row.refreshHash,
        auth_time: row.authTime,
        expires_at: row.expiresAt,
        revoked_at: null,
      })
      .execute();
  }

  async findSessionByRefresh(refreshHash: string): Promise<SessionRow | undefined> {
    const r = await this.#db
      .selectFrom('cognito_sessions')
      .selectAll()
      .where('refresh_hash', '=', refreshHash)
      .executeTakeFirst();
    return r && sessionRow(r);
  }

  async findSession(id: string): Promise<SessionRow | undefined> {
    const r = await this.#db
      .selectFrom('cognito_sessions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return r && sessionRow(r);
  }

  async revokeSession(id: string, now: number): Promise<void> {
    await this.#db
      .updateTable('cognito_sessions')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /** Ends every sign-in of the user (but `keep`, the one asking, when given). */
  async revokeUserSessions(poolId: string, sub: string, now: number, keep?: string): Promise<void> {
    let q = this.#db
      .updateTable('cognito_sessions')
      .set({ revoked_at: now })
      .where('pool_id', '=', poolId)
      .where('sub', '=', sub)
      .where('revoked_at', 'is', null);
    if (keep !== undefined) q = q.where('id', '!=', keep);
    await q.execute();
  }

  // Challenges (the `Session` of an auth challenge)

  async putChallenge(sessionHash: string, row: ChallengeRow): Promise<void> {
    await this.#db
      .insertInto('cognito_challenges')
      .values({
        session_hash: sessionHash,
        pool_id: row.poolId,
        client_id: row.clientId,
        sub: row.sub,
        challenge: row.challenge,
        data: JSON.stringify(row.data),
        expires_at: row.expiresAt,
      })
      .execute();
  }

  /** Reads and deletes: a challenge session answers once. */
  async takeChallenge(sessionHash: string): Promise<ChallengeRow | undefined> {
    return this.#db.transaction().execute(async (tx) => {
      const r = await tx
        .selectFrom('cognito_challenges')
        .selectAll()
        .where('session_hash', '=', sessionHash)
        .executeTakeFirst();
      if (!r) return undefined;
      const d = await tx
        .deleteFrom('cognito_challenges')
        .where('session_hash', '=', sessionHash)
        .executeTakeFirst();
      if (Number(d.numDeletedRows) !== 1) return undefined;
      return {
        poolId: r.pool_id,
        clientId: r.client_id,
        sub: r.sub,
        challenge: r.challenge,
        data: JSON.parse(r.data) as Record<string, string>,
        expiresAt: Number(r.expires_at),
      };
    });
  }

  // Keys

  async insertKey(row: KeyRow): Promise<void> {
    await this.#db
      .insertInto('cognito_keys')
      .values({
        kid: row.kid,
        pool_id: row.poolId,
        public_jwk: JSON.stringify(row.publicJwk),
        private_jwk: row.sealedPrivateJwk,
        created_at: row.createdAt,
      })
      .execute();
  }

  /** Newest first. */
  async listKeys(poolId: string): Promise<KeyRow[]> {
    const rows = await this.#db
      .selectFrom('cognito_keys')
      .selectAll()
      .where('pool_id', '=', poolId)
      .orderBy('created_at', 'desc')
      .orderBy('kid')
      .execute();
    return rows.map((r) => ({
      kid: r.kid,
      poolId: r.pool_id,
      publicJwk: JSON.parse(r.public_jwk) as Record<string, unknown>,
      sealedPrivateJwk: r.private_jwk,
      createdAt: Number(r.created_at),
    }));
  }

  // Groups

  async insertGroup(row: GroupRow): Promise<boolean> {
    const r = await this.#db
      .insertInto('cognito_groups')
      .values({
        pool_id: row.poolId,
        name: row.name,
        description: row.description ?? null,
        precedence: row.precedence ?? null,
        created_at: row.createdAt,
      })
      .onConflict((oc) => oc.columns(['pool_id', 'name']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async listGroups(poolId: string): Promise<GroupRow[]> {
    const rows = await this.#db
      .selectFrom('cognito_groups')
      .selectAll()
      .where('pool_id', '=', poolId)
      .orderBy('name')
      .execute();
    return rows.map((r) => ({
      poolId: r.pool_id,
      name: r.name,
      ...(r.description === null ? {} : { description: r.description }),
      ...(r.precedence === null ? {} : { precedence: Number(r.precedence) }),
      createdAt: Number(r.created_at),
    }));
  }

  async addMember(poolId: string, group: string, sub: string): Promise<void> {
    await this.#db
      .insertInto('cognito_group_members')
      .values({ pool_id: poolId, group_name: group, sub })
      .onConflict((oc) => oc.columns(['pool_id', 'group_name', 'sub']).doNothing())
      .execute();
  }

  async groupsOf(poolId: string, sub: string): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('cognito_group_members')
      .select('group_name')
      .where('pool_id', '=', poolId)
      .where('sub', '=', sub)
      .orderBy('group_name')
      .execute();
    return rows.map((r) => r.group_name);
  }

  // Outbox

  async addMessage(m: OutboxMessage): Promise<void> {
    await this.#db
      .insertInto('cognito_outbox')
      .values({
        id: m.id,
        pool_id: m.poolId,
        username: m.username,
        destination: m.destination,
        kind: m.kind,
        message: m.message,
        created_at: m.createdAt,
      })
      .execute();
  }

  async listMessages(filter: { poolId?: string; limit: number }): Promise<OutboxMessage[]> {
    let q = this.#db.selectFrom('cognito_outbox').selectAll();
    if (filter.poolId) q = q.where('pool_id', '=', filter.poolId);
    const rows = await q.orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map((r) => ({
      id: r.id,
      poolId: r.pool_id,
      username: r.username,
      destination: r.destination,
      kind: r.kind,
      message: r.message,
      createdAt: Number(r.created_at),
    }));
  }
}

function poolRow(r: CognitoTables['cognito_pools']): PoolRow {
  return {
    id: r.id,
    name: r.name,
    config: JSON.parse(r.config) as Record<string, unknown>,
    createdAt: Number(r.created_at),
    modifiedAt: Number(r.modified_at),
  };
}

function clientRow(r: CognitoTables['cognito_clients']): ClientRow {
  return {
    id: r.id,
    poolId: r.pool_id,
    name: r.name,
    ...(r.secret === null ? {} : { sealedSecret: r.secret }),
    config: JSON.parse(r.config) as Record<string, unknown>,
    createdAt: Number(r.created_at),
    modifiedAt: Number(r.modified_at),
  };
}

function userRow(r: CognitoTables['cognito_users']): UserRow {
  return {
    poolId: r.pool_id,
    usernameKey: r.username_key,
    username: r.username,
    sub: r.sub,
    ...(r.email === null ? {} : { email: r.email }),
    status: r.status as UserStatus,
    enabled: Number(r.enabled) === 1,
    ...(r.password_hash === null ? {} : { passwordHash: r.password_hash }),
    ...(r.srp_verifier === null ? {} : { srpVerifier: r.srp_verifier }),
    attributes: JSON.parse(r.attributes) as Record<string, string>,
    failedAttempts: Number(r.failed_attempts),
    ...(r.last_failure_at === null ? {} : { lastFailureAt: Number(r.last_failure_at) }),
    ...(r.locked_until === null ? {} : { lockedUntil: Number(r.locked_until) }),
    createdAt: Number(r.created_at),
    modifiedAt: Number(r.modified_at),
  };
}

function userValues(row: UserRow): CognitoTables['cognito_users'] {
  return {
    pool_id: row.poolId,
    username_key: row.usernameKey,
    username: row.username,
    sub: row.sub,
    email: row.attributes.email?.toLowerCase() ?? null,
    status: row.status,
    enabled: row.enabled ? 1 : 0,
    password_hash: row.passwordHash ?? null,
    srp_verifier: row.srpVerifier ?? null,
    attributes: JSON.stringify(row.attributes),
    failed_attempts: row.failedAttempts,
    last_failure_at: row.lastFailureAt ?? null,
    locked_until: row.lockedUntil ?? null,
    created_at: row.createdAt,
    modified_at: row.modifiedAt,
  };
}

function sessionRow(r: CognitoTables['cognito_sessions']): SessionRow {
  return {
    id: r.id,
    poolId: r.pool_id,
    clientId: r.client_id,
    sub: r.sub,
    authTime: Number(r.auth_time),
    expiresAt: Number(r.expires_at),
    ...(r.revoked_at === null ? {} : { revokedAt: Number(r.revoked_at) }),
  };
}
