import type { Kysely } from 'kysely';

export interface ConnectionRow {
  connection_id: string;
  api: string;
  node: string;
  source_ip: string;
  user_agent: string | null;
  connected_at: number;
}

interface ConnectionTables {
  websocket_connections: ConnectionRow;
}

/** The Store's record of open WebSocket connections (migration 022). */
export class ConnectionStore {
  readonly #db: Kysely<ConnectionTables>;

  constructor(db: unknown) {
    this.#db = db as Kysely<ConnectionTables>;
  }

  async add(row: ConnectionRow): Promise<void> {
    await this.#db.insertInto('websocket_connections').values(row).execute();
  }

  async remove(connectionId: string): Promise<void> {
    await this.#db
      .deleteFrom('websocket_connections')
      .where('connection_id', '=', connectionId)
      .execute();
  }

  async find(connectionId: string): Promise<ConnectionRow | undefined> {
    const row = await this.#db
      .selectFrom('websocket_connections')
      .selectAll()
      .where('connection_id', '=', connectionId)
      .executeTakeFirst();
    return row ? { ...row, connected_at: Number(row.connected_at) } : undefined;
  }

  /** A node that starts holds no connection yet: rows a crash left behind are gone. */
  async removeNode(node: string): Promise<void> {
    await this.#db.deleteFrom('websocket_connections').where('node', '=', node).execute();
  }
}
