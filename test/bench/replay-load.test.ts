/**
 * The bench's replaying load generator (bench/lib/replay-load.mjs): the bytes it sends are the
 * ones node:http would send, its minimal response parser finds every response however the bytes
 * arrive, and Nimbus answers SDK-signed requests sent again and again (as AWS does within the
 * signature's 15 minutes) while refusing one whose body changed after signing.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type AwsPlatform, startAwsPlatform } from '../helpers/aws-platform.js';
import { repoRoot } from '../helpers/repo-root.js';

type Signed = { headers: Record<string, string | number>; body: string };
type Replayed = {
  calls: number;
  errors: number;
  errorNames: Record<string, number>;
  bodies: Map<number, Buffer>;
};
interface ReplayLoad {
  rawRequest(method: string, path: string, headers: Signed['headers'], body: string): Buffer;
  responseParser(
    onResponse: (status: number, body: Buffer | undefined) => void,
    keepBody: (status: number) => boolean,
  ): (chunk: Buffer) => void;
  replay(
    url: string,
    requests: Buffer[],
    width: number,
    next: () => number,
    keep?: (index: number) => boolean,
  ): Promise<Replayed>;
  eachOf(indexes: number[]): () => number;
}
interface LeanClient {
  send(operation: string, input: unknown): Promise<Record<string, unknown>>;
  sign(operation: string, input: unknown): Signed;
  destroy(): void;
}

const load = async <T>(path: string) =>
  (await import(pathToFileURL(join(repoRoot, 'bench', 'lib', path)).href)) as T;
const { rawRequest, responseParser, replay, eachOf } = await load<ReplayLoad>('replay-load.mjs');
const { leanDynamoClient } = await load<{
  leanDynamoClient(url: string, credentials: unknown, opts?: { sockets?: number }): LeanClient;
}>('dynamodb-lean-client.mjs');

test('rawRequest is byte for byte what node:http writes for the same signed request', async () => {
  let seen = Buffer.alloc(0);
  const server = createServer((socket: Socket) => {
    socket.on('data', (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      if (seen.includes('"bench"}')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const lean = leanDynamoClient(`http://127.0.0.1:${port}`, {
    accessKeyId: 'a',
    secretAccessKey: 'b',
  });
  // The keep-alive agent the lean client (and the SDK) send through.
  const agent = new Agent({ keepAlive: true });
  try {
    const { headers, body } = lean.sign('GetItem', { TableName: 'bench' });
    await new Promise<void>((resolve, reject) => {
      const req = request(
        { agent, host: '127.0.0.1', port, method: 'POST', path: '/', headers },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(
      seen.toString('latin1'),
      rawRequest('POST', '/', headers, body).toString('latin1'),
    );
  } finally {
    agent.destroy();
    lean.destroy();
    server.close();
  }
});

/** Feeds `bytes` to a parser in pieces cut at `cuts`; answers what it reported. */
function parseInPieces(bytes: string, cuts: number[], keep: (status: number) => boolean) {
  const seen: Array<[number, string | undefined]> = [];
  const feed = responseParser((status, body) => seen.push([status, body?.toString()]), keep);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    feed(Buffer.from(bytes.slice(from, cut), 'latin1'));
    from = cut;
  }
  return seen;
}

test('the response parser finds each response whether the bytes come split or together', () => {
  const ok =
    'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"Item":{}}';
  const empty = 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n';
  const bad =
    'HTTP/1.1 400 Bad Request\r\nCONTENT-LENGTH:14\r\nConnection: keep-alive\r\n\r\n{"__type":"x"}';
  const all = ok + empty + bad + ok;
  const expected: Array<[number, string | undefined]> = [
    [200, undefined],
    [200, undefined],
    [400, '{"__type":"x"}'],
    [200, undefined],
  ];
  const keepErrors = (status: number) => status !== 200;
  // Every response in one chunk; one byte at a time; cut inside a head's CRLF CRLF and a body.
  assert.deepEqual(parseInPieces(all, [], keepErrors), expected);
  assert.deepEqual(
    parseInPieces(
      all,
      Array.from({ length: all.length - 1 }, (_, i) => i + 1),
      keepErrors,
    ),
    expected,
  );
  const inHeadEnd = ok.indexOf('\r\n\r\n') + 2;
  assert.deepEqual(
    parseInPieces(all, [inHeadEnd, ok.length - 3, ok.length + empty.length + 20], keepErrors),
    expected,
  );
  // A kept 200 body is whole, even when it came in pieces.
  assert.deepEqual(
    parseInPieces(ok, [ok.length - 5], () => true),
    [[200, '{"Item":{}}']],
  );
  assert.throws(
    () => parseInPieces('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', [], keepErrors),
    /without content-length/,
  );
});

let aws: AwsPlatform;
let lean: LeanClient;
before(async () => {
  aws = await startAwsPlatform(undefined, { label: 'replay' });
  const { endpoint, credentials } = aws.clientConfig();
  lean = leanDynamoClient(endpoint, credentials, { sockets: 2 });
  await lean.send('CreateTable', {
    TableName: 'replay',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
});
after(async () => {
  lean?.destroy();
  await aws?.close();
});

test('Nimbus answers pre-signed requests sent again and again, and refuses an altered one', async () => {
  const { endpoint } = aws.clientConfig();
  const item = (i: number) => ({ pk: { S: `k${i}` }, n: { N: String(i) } });
  const toBytes = ({ headers, body }: Signed) => rawRequest('POST', '/', headers, body);
  const puts = [0, 1, 2].map((i) =>
    toBytes(lean.sign('PutItem', { TableName: 'replay', Item: item(i) })),
  );
  const wrote = await replay(endpoint, puts, 2, eachOf([0, 1, 2, 0, 1, 2, 2, 1, 0]));
  assert.deepEqual([wrote.calls, wrote.errors], [9, 0]);

  const gets = [0, 1, 2].map((i) =>
    toBytes(lean.sign('GetItem', { TableName: 'replay', Key: { pk: item(i).pk } })),
  );
  const read = await replay(endpoint, gets, 3, eachOf([2, 1, 0, 0]), () => true);
  assert.equal(read.errors, 0);
  for (const i of [0, 1, 2]) {
    assert.deepEqual(JSON.parse(read.bodies.get(i)!.toString()), { Item: item(i) });
  }

  // The signature covers the body: the same request asking for another key is refused, and
  // counted by the error's name, not as a call.
  const signed = lean.sign('GetItem', { TableName: 'replay', Key: { pk: { S: 'k1' } } });
  const altered = toBytes({ ...signed, body: signed.body.replace('k1', 'k2') });
  const refused = await replay(endpoint, [altered], 1, eachOf([0, 0]));
  assert.deepEqual([refused.calls, refused.errorNames], [0, { InvalidSignatureException: 2 }]);
});
