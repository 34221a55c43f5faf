/**
 * A chat service over a WebSocket API, end to end: real `ws` clients through the platform port,
 * a `$connect` REQUEST authorizer, custom and two-way routes, PostToConnection from inside a
 * function with the official SDK, 410 for gone connections, the 128 KB message cap.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import WebSocket from 'ws';
import {
  type AwsPlatform,
  awsPlatformVariants,
  deployService,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';
import { sdkSkip } from '../../helpers/function-reach.js';
import { childrenOf } from '../../helpers/processes.js';

const auth = `
exports.auth = async (event) => ({
  principalId: 'user-' + (event.queryStringParameters.token ?? ''),
  policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke',
    Effect: event.queryStringParameters.token === 'good' ? 'Allow' : 'Deny', Resource: event.methodArn }] },
  context: { room: 'lobby' },
});`;
const chat = `
const { ApiGatewayManagementApiClient, PostToConnectionCommand } = require('@aws-sdk/client-apigatewaymanagementapi');
exports.connect = async (event) => {
  if (event.requestContext.eventType !== 'CONNECT') throw new Error('not a connect event');
  return { statusCode: 200 };
};
exports.whoami = async (event) => ({ statusCode: 200, body: JSON.stringify({
  connectionId: event.requestContext.connectionId, routeKey: event.requestContext.routeKey,
  eventType: event.requestContext.eventType, principalId: event.requestContext.authorizer?.principalId,
  room: event.requestContext.authorizer?.room, stage: event.requestContext.stage,
  hasMessageId: typeof event.requestContext.messageId === 'string' }) });
exports.broadcast = async (event) => {
  const { domainName, stage, connectionId } = event.requestContext;
  const client = new ApiGatewayManagementApiClient({ endpoint: 'http://' + domainName + '/' + stage });
  const { to, text } = JSON.parse(event.body);
  const sent = [], gone = [];
  for (const id of to.filter((id) => id !== connectionId)) {
    try {
      await client.send(new PostToConnectionCommand({ ConnectionId: id, Data: JSON.stringify({ from: connectionId, text }) }));
      sent.push(id);
    } catch (e) {
      if (e.name === 'GoneException' && e.$metadata.httpStatusCode === 410) gone.push(id); else throw e;
    }
  }
  return { statusCode: 200, body: JSON.stringify({ sent, gone }) };
};
exports.fallback = async (event) => ({ statusCode: 200, body: 'default:' + event.body });
exports.disconnect = async () => ({ statusCode: 200 });
`;

function definition() {
  const ws = (config: Record<string, unknown>) => ({ kind: 'websocket' as const, config });
  return serviceDef([
    fnDef('auth', { handler: 'auth.auth', handlerFile: 'auth.js' }),
    fnDef('connect', {
      handler: 'chat.connect',
      handlerFile: 'chat.js',
      events: [
        ws({
          route: '$connect',
          authorizer: { name: 'auth', identitySource: ['route.request.querystring.token'] },
        }),
      ],
    }),
    fnDef('whoami', {
      handler: 'chat.whoami',
      handlerFile: 'chat.js',
      events: [ws({ route: 'whoami', routeResponseSelectionExpression: '$default' })],
    }),
    fnDef('broadcast', {
      handler: 'chat.broadcast',
      handlerFile: 'chat.js',
      events: [ws({ route: 'broadcast', routeResponseSelectionExpression: '$default' })],
    }),
    fnDef('fallback', {
      handler: 'chat.fallback',
      handlerFile: 'chat.js',
      events: [ws({ route: '$default', routeResponseSelectionExpression: '$default' })],
    }),
    fnDef('disconnect', {
      handler: 'chat.disconnect',
      handlerFile: 'chat.js',
      events: [ws({ route: '$disconnect' })],
    }),
  ]);
}

interface Client {
  socket: WebSocket;
  next(): Promise<string>;
  ask(message: unknown): Promise<Record<string, unknown>>;
}

function open(url: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const queue: string[] = [];
    const waiting: ((text: string) => void)[] = [];
    socket.on('message', (data) => {
      const text = data.toString();
      const waiter = waiting.shift();
      if (waiter) waiter(text);
      else queue.push(text);
    });
    const next = () =>
      new Promise<string>((r) => {
        const queued = queue.shift();
        if (queued !== undefined) r(queued);
        else waiting.push(r);
      });
    socket.once('open', () =>
      resolve({
        socket,
        next,
        ask: async (message) => {
          socket.send(JSON.stringify(message));
          return JSON.parse(await next()) as Record<string, unknown>;
        },
      }),
    );
    socket.once('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error(`refused ${res.statusCode}`), { status: res.statusCode })),
    );
    socket.once('error', reject);
  });
}

const closed = (socket: WebSocket) =>
  new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

for (const variant of awsPlatformVariants) {
  describe(`websocket chat (${variant.name})`, { skip: sdkSkip }, () => {
    let aws: AwsPlatform;
    let url: string;
    before(async () => {
      aws = await startAwsPlatform(variant, { runFunctions: true, label: 'ws' });
      await deployService(aws.platform, definition(), { 'auth.js': auth, 'chat.js': chat });
      url = `${aws.platform.url.replace('http', 'ws')}/svc-dev`;
    });
    after(async () => aws?.close());

    test('the $connect authorizer refuses a missing or denied token and admits a good one', async () => {
      await assert.rejects(open(url), { status: 401 });
      await assert.rejects(open(`${url}?token=bad`), { status: 403 });
      const client = await open(`${url}?token=good`);
      const me = await client.ask({ action: 'whoami' });
      assert.equal(me.routeKey, 'whoami');
      assert.equal(me.eventType, 'MESSAGE');
      assert.equal(me.principalId, 'user-good');
      assert.equal(me.room, 'lobby');
      assert.equal(me.stage, 'dev');
      assert.equal(me.hasMessageId, true);
      assert.match(String(me.connectionId), /^[A-Za-z0-9_-]{15}=$/);
      client.socket.close();
    });

    test('an unrouted message goes to $default; the host form reaches the same API', async () => {
      const port = new URL(aws.platform.url).port;
      const client = await new Promise<Client>((resolve, reject) => {
        // Host `<service>-<stage>.ws.localhost`, connecting to the loopback address.
        const socket = new WebSocket(`ws://127.0.0.1:${port}/?token=good`, {
          headers: { host: `svc-dev.ws.localhost:${port}` },
        });
        socket.once('error', reject);
        socket.once('open', () =>
          resolve({
            socket,
            next: () => new Promise((r) => socket.once('message', (d) => r(d.toString()))),
            ask: async () => ({}),
          }),
        );
      });
      client.socket.send('hello there');
      assert.equal(await client.next(), 'default:hello there');
      client.socket.close();
    });

    test('broadcast posts to every other connection; a closed one is 410 Gone', async () => {
      const [a, b, c] = await Promise.all([1, 2, 3].map(() => open(`${url}?token=good`)));
      const ids = [];
      for (const client of [a!, b!, c!])
        ids.push((await client.ask({ action: 'whoami' })).connectionId);
      const bGot = b!.next();
      const cGot = c!.next();
      const result = await a!.ask({ action: 'broadcast', to: ids, text: 'hi all' });
      assert.deepEqual(result, { sent: [ids[1], ids[2]], gone: [] });
      assert.deepEqual(JSON.parse(await bGot), { from: ids[0], text: 'hi all' });
      assert.deepEqual(JSON.parse(await cGot), { from: ids[0], text: 'hi all' });

      const cClosed = closed(c!.socket);
      c!.socket.close();
      await cClosed;
      // Disconnect cleanup runs as the close lands: poll until the connection is gone.
      let after: Record<string, unknown> = {};
      for (let i = 0; i < 50; i += 1) {
        after = await a!.ask({ action: 'broadcast', to: ids, text: 'again' });
        if ((after.gone as string[]).length > 0) break;
        await b!.next();
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(after, { sent: [ids[1]], gone: [ids[2]] });
      a!.socket.close();
      b!.socket.close();
    });

    test('the official SDK gets, posts to and deletes a connection; gone ones are GoneException', async () => {
      const client = await open(`${url}?token=good`);
      const id = String((await client.ask({ action: 'whoami' })).connectionId);
      const api = new ApiGatewayManagementApiClient({
        endpoint: `${aws.platform.url}/dev`,
        region: 'us-east-1',
        credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
      });
      try {
        const got = await api.send(new GetConnectionCommand({ ConnectionId: id }));
        assert.ok(got.ConnectedAt instanceof Date);
        assert.equal(got.Identity?.SourceIp, '127.0.0.1');
        const message = client.next();
        await api.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'from the test' }));
        assert.equal(await message, 'from the test');
        await assert.rejects(
          api.send(
            new PostToConnectionCommand({ ConnectionId: id, Data: Buffer.alloc(129 * 1024) }),
          ),
          { name: 'PayloadTooLargeException' },
        );
        const done = closed(client.socket);
        await api.send(new DeleteConnectionCommand({ ConnectionId: id }));
        await done;
        await assert.rejects(
          api.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'late' })),
          (e: unknown) => e instanceof GoneException && e.$metadata.httpStatusCode === 410,
        );
        const unsigned = await fetch(`${aws.platform.url}/dev/@connections/${id}`, {
          method: 'POST',
          body: 'x',
        });
        assert.notEqual(unsigned.status, 200);
      } finally {
        api.destroy();
      }
    });

    test('a message over 128 KB closes the connection with 1009', async () => {
      const client = await open(`${url}?token=good`);
      const code = closed(client.socket);
      client.socket.send('x'.repeat(128 * 1024 + 1));
      assert.equal(await code, 1009);
    });
  });
}

describe('websocket idle limit', { skip: sdkSkip }, () => {
  let aws: AwsPlatform;
  before(async () => {
    aws = await startAwsPlatform(awsPlatformVariants[0], {
      runFunctions: true,
      label: 'ws-idle',
      options: { websocketIdleTimeoutMs: 300 },
    });
    await deployService(aws.platform, definition(), { 'auth.js': auth, 'chat.js': chat });
  });
  after(async () => aws?.close());

  test('an idle connection is closed with 1001 Going away', async () => {
    const client = await open(`${aws.platform.url.replace('http', 'ws')}/svc-dev?token=good`);
    const code = await new Promise<[number, string]>((resolve) =>
      client.socket.once('close', (c, reason) => resolve([c, reason.toString()])),
    );
    assert.deepEqual(code, [1001, 'Going away']);
  });
});

// Known issue (see the session note): a runtime prewarmed while a platform of this file closes
// can outlive it and keep the test process from exiting. Nothing of the assertions depends on
// it; kill what is left so the file ends.
after(() => {
  for (const pid of childrenOf(process.pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
