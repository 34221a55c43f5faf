/**
 * The point of TLS on the platform: a WebSocket client on `wss://` and a function that posts
 * back through `https://${domainName}/${stage}`, as users write it, with no proxy in between.
 */
import assert from 'node:assert/strict';
import { chmod, readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import {
  type AwsPlatform,
  awsPlatformVariants,
  deployService,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';
import { sdkSkip } from '../../helpers/function-reach.js';
import { makeSelfSignedCert } from '../../helpers/self-signed-cert.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

// A self-signed certificate is trusted the way a user would: an https agent given the CA.
// (NODE_EXTRA_CA_CERTS is read when node starts, before a prewarmed runtime knows its function.)
const chat = `
const { readFileSync } = require('node:fs');
const { Agent } = require('node:https');
const { ApiGatewayManagementApiClient, PostToConnectionCommand } = require('@aws-sdk/client-apigatewaymanagementapi');
const httpsAgent = new Agent({ ca: readFileSync(process.env.PLATFORM_CA) });
exports.echo = async (event) => {
  const { domainName, stage, connectionId } = event.requestContext;
  const client = new ApiGatewayManagementApiClient({
    endpoint: 'https://' + domainName + '/' + stage,
    requestHandler: { httpsAgent },
  });
  await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'pushed:' + event.body }));
  return { statusCode: 200 };
};
`;

describe('wss:// and the https:// @connections endpoint on the TLS port', { skip: sdkSkip }, () => {
  let aws: AwsPlatform;
  let certDir: Awaited<ReturnType<typeof makeTempDir>>;
  let ca: string;

  before(async () => {
    certDir = await makeTempDir();
    // Function uids read the certificate (PLATFORM_CA); only the key stays private.
    await chmod(certDir.dir, 0o755);
    const { cert, key } = await makeSelfSignedCert(certDir.dir, 'localhost', 'localhost', [
      'localhost',
      '127.0.0.1',
    ]);
    await chmod(cert, 0o644);
    ca = await readFile(cert, 'utf8');
    aws = await startAwsPlatform(awsPlatformVariants[0], {
      runFunctions: true,
      label: 'wss',
      options: { tls: { certFile: cert, keyFile: key, port: 0 } },
    });
    await deployService(
      aws.platform,
      serviceDef([
        fnDef('echo', {
          handler: 'chat.echo',
          handlerFile: 'chat.js',
          environment: { PLATFORM_CA: cert },
          events: [{ kind: 'websocket', config: { route: '$default' } }],
        }),
      ]),
      { 'chat.js': chat },
    );
  });
  after(async () => {
    await aws?.close();
    await certDir?.cleanup();
  });

  test('a message over wss:// is answered by PostToConnection through https://', async () => {
    const port = new URL(aws.platform.tlsUrl!).port;
    const socket = new WebSocket(`wss://localhost:${port}/svc-dev`, { ca });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const got = new Promise<string>((resolve) => socket.once('message', (d) => resolve(String(d))));
    socket.send('hello');
    assert.equal(await got, 'pushed:hello');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.close();
    await closed;
  });
});
