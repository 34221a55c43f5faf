import type { Kysely, Migration } from 'kysely';

/**
 * Open WebSocket connections (docs/websockets.md): which API and which node holds each, so the
 * @connections API on any node can tell a live connection from a gone one. Times: epoch ms.
 */
export function websocketConnectionsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('websocket_connections')
        .addColumn('connection_id', 'text', (c) => c.primaryKey())
        // `<service>-<stage>`
        .addColumn('api', 'text', (c) => c.notNull())
        .addColumn('node', 'text', (c) => c.notNull())
        .addColumn('source_ip', 'text', (c) => c.notNull())
        .addColumn('user_agent', 'text')
        .addColumn('connected_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('websocket_connections_node_idx')
        .on('websocket_connections')
        .column('node')
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('websocket_connections').execute();
    },
  };
}
