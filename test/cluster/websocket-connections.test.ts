/**
 * @connections across a cluster (issue 20): two nodes on one PostgreSQL schema; a `ws` client
 * holds its connection on node 1, and PostToConnection / GetConnection / DeleteConnection sent
 * to node 2 reach it (relayed over LISTEN/NOTIFY); a closed connection answers 410 on any node.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import pg from 'pg';
import pino from 'pino';
import WebSocket from 'ws';
import { type RunningPlatform, startPlatform } from '../../src/platform/server.js';
import { deployService } from '../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../helpers/definitions.js';
import { sdkSkip } from '../helpers/function-reach.js';
import { makeTestSchema } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait-for.js';

describe('@connections across two nodes on one PostgreSQL schema', { skip: sdkSkip }, () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let schema: Awaited<ReturnType<typeof makeTestSchema>>;
  let n1: RunningPlatform;
  let n2: RunningPlatform;
  let key: { id: string; secret: string };
  const sockets: WebSocket[] = [];

  before(async () => {
    tmp = await makeTempDir();
    schema = await makeTestSchema();
    const shared = {
      host: '127.0.0.1',
      port: 0,
      databaseUrl: `${schema.url}?schema=${schema.schema}`,
      adminToken: randomBytes(24).toString('hex'),
      masterKey: randomBytes(32).toString('base64'),
      logger: pino({ level: process.env.AWS_TEST_LOG ?? 'silent' }),
    };
    n1 = await startPlatform({ ...shared, dataDir: join(tmp.dir, 'n1'), nodeName: 'n1' });
    n2 = await startPlatform({ ...shared, dataDir: join(tmp.dir, 'n2'), nodeName: 'n2' });
    const res = await fetch(`${n1.url}/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${n1.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ description: 'ws cluster test' }),
    });
    key = ((await res.json()) as { key: { id: string; secret: string } }).key;
    await deployService(
      n1,
      serviceDef([fnDef('ws', { events: [{ kind: 'websocket', config: { route: '$default' } }] })]),
      { 'handler.js': 'exports.ws = async () => ({ statusCode: 200 });\n' },
    );
  });
  after(async () => {
    for (const s of sockets) s.terminate();
    await n2?.close();
    await n1?.close();
    await schema?.drop();
    await tmp?.cleanup();
  });

  const clientOf = (node: RunningPlatform) =>
    new ApiGatewayManagementApiClient({
      region: 'us-east-1',
      endpoint: `${node.url}/svc-dev`,
      credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
    });

  /** A `ws` client on node 1, and its connection id as the Store recorded it. */
  async function connectToNode1(): Promise<{ socket: WebSocket; id: string }> {
    const socket = new WebSocket(`${n1.url.replace('http', 'ws')}/svc-dev`);
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const db = new pg.Client({ connectionString: schema.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ connection_id: string; node: string }>(
        `select connection_id, node from "${schema.schema}".websocket_connections order by connected_at desc limit 1`,
      );
      assert.equal(rows[0]!.node, 'n1');
      return { socket, id: rows[0]!.connection_id };
    } finally {
      await db.end();
    }
  }

  test('PostToConnection through node 2 reaches a client on node 1; so do Get and Delete', async () => {
    const { socket, id } = await connectToNode1();
    const client = clientOf(n2);
    const got: string[] = [];
    socket.on('message', (d) => got.push(String(d)));
    // Node 2 learns of the deploy through node 1 from the stage change feed.
    await waitUntil(
      async () =>
        client.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'hello from n2' })).then(
          () => true,
          (error: Error) => {
            if (error.name !== 'ForbiddenException') throw error;
            return false;
          },
        ),
      'node 2 serving the API',
    );
    // A message past one NOTIFY's 8000 bytes goes in parts, delivered whole and in order.
    const big = `${'x'.repeat(60_000)}end`;
    await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: big }));
    await waitUntil(async () => got.length === 2, 'both messages on node 1');
    assert.equal(got[0], 'hello from n2');
    assert.equal(got[1], big);

    const info = await client.send(new GetConnectionCommand({ ConnectionId: id }));
    assert.equal(info.Identity?.SourceIp, '127.0.0.1');
    assert.ok(info.ConnectedAt instanceof Date);

    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await client.send(new DeleteConnectionCommand({ ConnectionId: id }));
    assert.equal(await closed, 1000);
  });

  test('a closed connection is 410 GoneException on either node', async () => {
    const { socket, id } = await connectToNode1();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.close();
    await closed;
    for (const node of [n2, n1]) {
      const client = clientOf(node);
      await waitUntil(async () => {
        try {
          await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'late' }));
          return false;
        } catch (error) {
          assert.ok(error instanceof GoneException, String(error));
          assert.equal(error.$metadata.httpStatusCode, 410);
          return true;
        }
      }, 'the connection row gone');
    }
  });
});
