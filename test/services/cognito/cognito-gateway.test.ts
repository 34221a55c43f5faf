/**
 * Tokens of a Nimbus user pool open an httpApi route behind a JWT authorizer whose issuerUrl is
 * the pool (`<platform URL>/<poolId>`), with no other configuration: the gateway finds the keys
 * by OpenID discovery on the platform itself. A real platform, a deployed function, the SDK.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  GlobalSignOutCommand,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import pino from 'pino';
import { type RunningPlatform, startPlatform } from '../../../src/platform/server.js';
import { runCli } from '../../helpers/run-cli.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

const handler = [
  'exports.me = async (event) => ({ statusCode: 200, body: JSON.stringify(',
  '  event.requestContext.authorizer ?? null) });',
  '',
].join('\n');

describe('a Nimbus user pool as the issuer of an httpApi JWT authorizer', () => {
  let platform: RunningPlatform;
  let cleanup: () => Promise<void>;
  let idToken: string;
  let accessToken: string;
  let clientId: string;
  let base: string;

  before(async () => {
    const tmp = await makeTempDir();
    const cwd = join(tmp.dir, 'svc');
    await mkdir(cwd);
    platform = await startPlatform({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(tmp.dir, 'data'),
      logger: pino({ level: 'silent' }),
    });
    cleanup = async () => {
      await platform.close();
      await tmp.cleanup();
    };
    const keyRes = await fetch(`${platform.url}/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.adminToken}` },
      body: '{}',
    });
    const { key } = (await keyRes.json()) as { key: { id: string; secret: string } };
    const cognito = new CognitoIdentityProviderClient({
      endpoint: platform.url,
      region: 'us-east-1',
      credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
      maxAttempts: 1,
    });
    const pool = await cognito.send(new CreateUserPoolCommand({ PoolName: 'api-users' }));
    const poolId = pool.UserPool!.Id!;
    const client = await cognito.send(
      new CreateUserPoolClientCommand({
        UserPoolId: poolId,
        ClientName: 'web',
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      }),
    );
    clientId = client.UserPoolClient!.ClientId!;
    await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: poolId,
        Username: 'ada',
        MessageAction: 'SUPPRESS',
      }),
    );
    await cognito.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: poolId,
        Username: 'ada',
        Password: 'Analytical-Engine-1',
        Permanent: true,
      }),
    );
    const auth = await cognito.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: 'ada', PASSWORD: 'Analytical-Engine-1' },
      }),
    );
    idToken = auth.AuthenticationResult!.IdToken!;
    accessToken = auth.AuthenticationResult!.AccessToken!;
    cognito.destroy();

    await writeFile(
      join(cwd, 'serverless.yml'),
      [
        'service: pooled',
        'provider:',
        '  name: aws',
        '  runtime: nodejs20.x',
        '  httpApi:',
        '    authorizers:',
        '      pool:',
        '        type: jwt',
        '        identitySource: $request.header.Authorization',
        `        issuerUrl: ${platform.url}/${poolId}`,
        `        audience: [${clientId}]`,
        'functions:',
        '  me:',
        '    handler: handler.me',
        '    events:',
        '      - httpApi: { path: /me, method: get, authorizer: { name: pool } }',
        '',
      ].join('\n'),
    );
    await writeFile(join(cwd, 'handler.js'), handler);
    const env = {
      HOME: tmp.dir,
      NIMBUS_ENDPOINT: platform.url,
      NIMBUS_TOKEN: platform.adminToken,
    };
    const deployed = await runCli(['deploy'], { cwd, env });
    assert.equal(deployed.code, 0, deployed.stderr);
    base = `${platform.url}/pooled-dev`;
  });
  after(() => cleanup?.());

  const get = (token?: string) =>
    fetch(`${base}/me`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  test('ID and access tokens pass; their claims reach the function', async () => {
    const byId = await get(idToken);
    assert.equal(byId.status, 200);
    const claims = ((await byId.json()) as { jwt: { claims: Record<string, string> } }).jwt.claims;
    assert.equal(claims['cognito:username'], 'ada');
    assert.equal(claims.token_use, 'id');
    assert.equal(claims.aud, clientId);
    const byAccess = await get(accessToken);
    assert.equal(byAccess.status, 200);
    const access = (await byAccess.json()) as {
      jwt: { claims: Record<string, string>; scopes: string[] };
    };
    assert.equal(access.jwt.claims.client_id, clientId);
    assert.deepEqual(access.jwt.scopes, ['aws.cognito.signin.user.admin']);
  });

  test('no token, a tampered token, another issuer: 401', async () => {
    assert.equal((await get()).status, 401);
    const [h, b, s] = idToken.split('.');
    const claims = JSON.parse(Buffer.from(b!, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, 'cognito:username': 'root' })).toString(
      'base64url',
    );
    assert.equal((await get(`${h}.${forged}.${s}`)).status, 401);
    const flipped = `${h}.${b}.${s!.slice(0, -2)}${s!.endsWith('AA') ? 'BB' : 'AA'}`;
    assert.equal((await get(flipped)).status, 401);
  });

  test('signing out does not reach the gateway: access tokens stay valid until they expire (as on AWS)', async () => {
    const app = new CognitoIdentityProviderClient({
      endpoint: platform.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
      maxAttempts: 1,
    });
    await app.send(new GlobalSignOutCommand({ AccessToken: accessToken }));
    app.destroy();
    assert.equal((await get(accessToken)).status, 200);
  });
});
