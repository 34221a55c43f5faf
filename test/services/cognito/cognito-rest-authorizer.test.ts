/**
 * REST `cognito_user_pools` authorizers: a service whose pool and client are in `resources`
 * and whose `http` route names the pool by `Fn::GetAtt UserPool.Arn`, deployed to a platform
 * running real functions (SQLite and PostgreSQL). ID tokens of that pool pass with the claims
 * under `requestContext.authorizer.claims` as strings; tampered, expired, another pool's and
 * access tokens (without scopes) are 401; a route with `scopes` takes access tokens.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InitiateAuthCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  type AwsPlatform,
  awsPlatformVariants,
  deployService,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';

const password = 'Analytical-Engine-1';
const handler = [
  'exports.me = async (event) => ({ statusCode: 200, body: JSON.stringify(',
  '  event.requestContext.authorizer ?? null) });',
  '',
].join('\n');

for (const variant of awsPlatformVariants)
  describe(`REST cognito_user_pools authorizers on ${variant.name}`, () => {
    let aws: AwsPlatform;
    let cognito: CognitoIdentityProviderClient;
    let now = Date.now();
    const clock = { now: () => now };
    let ids: { id: string; access: string; other: string };
    let base: string;

    const tokensOf = async (poolId: string, clientId: string, username: string) => {
      await cognito.send(
        new AdminCreateUserCommand({
          UserPoolId: poolId,
          Username: username,
          MessageAction: 'SUPPRESS',
        }),
      );
      await cognito.send(
        new AdminSetUserPasswordCommand({
          UserPoolId: poolId,
          Username: username,
          Password: password,
          Permanent: true,
        }),
      );
      const auth = await cognito.send(
        new InitiateAuthCommand({
          ClientId: clientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: username, PASSWORD: password },
        }),
      );
      return auth.AuthenticationResult!;
    };

    before(async () => {
      aws = await startAwsPlatform(variant, { clock, runFunctions: true, label: 'cognito-rest' });
      cognito = new CognitoIdentityProviderClient({
        endpoint: aws.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
        maxAttempts: 1,
      });
      const arn = { 'Fn::GetAtt': ['UserPool', 'Arn'] };
      await deployService(
        aws.platform,
        serviceDef(
          [
            fnDef('me', {
              handler: 'handler.me',
              events: [
                {
                  kind: 'http',
                  method: 'GET',
                  path: 'me',
                  authorizer: { type: 'COGNITO_USER_POOLS', arn },
                },
                {
                  kind: 'http',
                  method: 'GET',
                  path: 'scoped',
                  authorizer: {
                    type: 'COGNITO_USER_POOLS',
                    arn,
                    scopes: ['aws.cognito.signin.user.admin'],
                  },
                },
              ],
            }),
          ],
          {
            resources: {
              Resources: {
                UserPool: {
                  Type: 'AWS::Cognito::UserPool',
                  Properties: { UserPoolName: 'rest-users' },
                },
                UserPoolClient: {
                  Type: 'AWS::Cognito::UserPoolClient',
                  Properties: {
                    UserPoolId: { Ref: 'UserPool' },
                    ClientName: 'web',
                    ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
                  },
                },
              },
            },
          },
        ),
        { 'handler.js': handler },
      );
      const pools = await cognito.send(new ListUserPoolsCommand({ MaxResults: 60 }));
      const poolId = pools.UserPools!.find((p) => p.Name === 'rest-users')!.Id!;
      const clients = await cognito.send(new ListUserPoolClientsCommand({ UserPoolId: poolId }));
      const clientId = clients.UserPoolClients![0]!.ClientId!;
      await cognito.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: 'admins' }));
      await cognito.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: 'editors' }));
      const mine = await tokensOf(poolId, clientId, 'ada');
      for (const GroupName of ['admins', 'editors']) {
        await cognito.send(
          new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: 'ada', GroupName }),
        );
      }
      const grouped = await cognito.send(
        new InitiateAuthCommand({
          ClientId: clientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: 'ada', PASSWORD: password },
        }),
      );
      const other = await cognito.send(new CreateUserPoolCommand({ PoolName: 'other' }));
      const otherClient = await cognito.send(
        new CreateUserPoolClientCommand({
          UserPoolId: other.UserPool!.Id!,
          ClientName: 'web',
          ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        }),
      );
      const theirs = await tokensOf(
        other.UserPool!.Id!,
        otherClient.UserPoolClient!.ClientId!,
        'ada',
      );
      ids = {
        id: grouped.AuthenticationResult!.IdToken!,
        access: mine.AccessToken!,
        other: theirs.IdToken!,
      };
      base = `${aws.platform.url}/svc-dev`;
    });
    after(async () => {
      cognito?.destroy();
      await aws?.close();
    });

    const get = (path: string, authorization?: string) =>
      fetch(`${base}/${path}`, authorization ? { headers: { authorization } } : {});

    test('an ID token of the pool passes, with API Gateway claims (strings)', async () => {
      for (const header of [ids.id, `Bearer ${ids.id}`]) {
        const res = await get('me', header);
        assert.equal(res.status, 200);
        const { claims } = (await res.json()) as { claims: Record<string, unknown> };
        assert.equal(claims['cognito:username'], 'ada');
        assert.equal(claims.token_use, 'id');
        assert.equal(claims['cognito:groups'], 'admins,editors');
        assert.match(
          String(claims.exp),
          /^[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4}$/,
        );
        assert.match(String(claims.auth_time), /^\d+$/);
        for (const value of Object.values(claims)) assert.equal(typeof value, 'string');
      }
    });

    test('no token, tampered, another pool, an access token without scopes: 401', async () => {
      const unauthorized = async (res: Response) => {
        assert.equal(res.status, 401);
        assert.deepEqual(await res.json(), { message: 'Unauthorized' });
      };
      await unauthorized(await get('me'));
      await unauthorized(await get('me', 'garbage'));
      const [h, b, s] = ids.id.split('.');
      const claims = JSON.parse(Buffer.from(b!, 'base64url').toString()) as Record<string, unknown>;
      const forged = Buffer.from(
        JSON.stringify({ ...claims, 'cognito:username': 'root' }),
      ).toString('base64url');
      await unauthorized(await get('me', `${h}.${forged}.${s}`));
      await unauthorized(await get('me', ids.other));
      await unauthorized(await get('me', ids.access));
    });

    test('a route with scopes takes access tokens holding one, not ID tokens', async () => {
      const res = await get('scoped', ids.access);
      assert.equal(res.status, 200);
      const { claims } = (await res.json()) as { claims: Record<string, string> };
      assert.equal(claims.token_use, 'access');
      assert.equal((await get('scoped', ids.id)).status, 401);
    });

    test('an expired token is refused', async () => {
      now += 2 * 3600_000;
      assert.equal((await get('me', ids.id)).status, 401);
    });
  });
