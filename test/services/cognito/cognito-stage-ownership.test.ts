/**
 * User pools belong to the service stage whose deploy (or whose credentials) created them: a
 * `--service/--stage`-scoped key (what a function's session credentials are) reaches its own
 * stage's pools and shared ones, never another stage's (AccessDeniedException), reads and writes
 * alike, also when a call names only an app client; ListUserPools shows only what it reaches; a
 * `--read-only` key only reads. The public operations (SignUp...) stay unsigned and open. On
 * SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  type CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DeleteUserPoolCommand,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
  ListUsersCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { type StageCallers, stageCallers } from '../../helpers/stage-callers.js';
import { failure } from '../s3/s3-platform.js';
import { type CognitoPlatform, cognitoVariants, startCognitoPlatform } from './cognito-platform.js';

const stagePool = (name: string) => ({
  Pool: { Type: 'AWS::Cognito::UserPool', Properties: { UserPoolName: name } },
  Web: {
    Type: 'AWS::Cognito::UserPoolClient',
    Properties: { UserPoolId: { Ref: 'Pool' }, ClientName: 'web' },
  },
});

for (const variant of cognitoVariants)
  describe(`Cognito user pools belong to their service stage (${variant.name})`, () => {
    let callers: StageCallers<CognitoIdentityProviderClient, CognitoPlatform>;
    const ids: Record<string, string> = {};
    let stageBClient = '';

    before(async () => {
      callers = await stageCallers(variant, {
        start: startCognitoPlatform,
        client: (config, aws) => aws.client({ credentials: config.credentials }),
        resources: (stage) => stagePool(`stage-${stage}-pool`),
      });
      const { admin } = callers;
      await admin.send(new CreateUserPoolCommand({ PoolName: 'shared-pool' }));
      for (const pool of (await admin.send(new ListUserPoolsCommand({ MaxResults: 60 })))
        .UserPools ?? []) {
        ids[pool.Name!] = pool.Id!;
      }
      const listed = await admin.send(
        new ListUserPoolClientsCommand({ UserPoolId: ids['stage-b-pool'], MaxResults: 60 }),
      );
      stageBClient = listed.UserPoolClients![0]!.ClientId!;
    });
    after(() => callers?.close());

    const denied = async (run: () => Promise<unknown>) => {
      const error = await failure(run);
      assert.equal(error.name, 'AccessDeniedException');
      assert.equal(error.$metadata?.httpStatusCode, 400);
    };
    const user = (UserPoolId: string | undefined, Username: string) =>
      new AdminCreateUserCommand({ UserPoolId, Username, MessageAction: 'SUPPRESS' });

    test("a stage's key administers its own and shared pools", async () => {
      await callers.stageA.send(user(ids['stage-a-pool'], 'alice'));
      await callers.stageA.send(user(ids['shared-pool'], 'alice'));
      await callers.stageA.send(new DescribeUserPoolCommand({ UserPoolId: ids['stage-a-pool'] }));
      const got = await callers.stageA.send(
        new AdminGetUserCommand({ UserPoolId: ids['stage-a-pool'], Username: 'alice' }),
      );
      assert.equal(got.Username, 'alice');
    });

    test("another stage's pool is refused for reads and writes", async () => {
      const b = ids['stage-b-pool'];
      await denied(() => callers.stageA.send(user(b, 'mallory')));
      await denied(() => callers.stageA.send(new DescribeUserPoolCommand({ UserPoolId: b })));
      await denied(() => callers.stageA.send(new ListUsersCommand({ UserPoolId: b })));
      await denied(() =>
        callers.stageA.send(new CreateUserPoolClientCommand({ UserPoolId: b, ClientName: 'x' })),
      );
      await denied(() => callers.stageA.send(new DeleteUserPoolCommand({ UserPoolId: b })));
      const still = await callers.admin.send(new DescribeUserPoolCommand({ UserPoolId: b }));
      assert.equal(still.UserPool?.Name, 'stage-b-pool');
    });

    test("a call naming another stage's app client is refused", async () => {
      // Only the client id: it names its pool.
      await denied(() =>
        callers.stageA.send(
          new DescribeUserPoolClientCommand({
            ClientId: stageBClient,
          } as unknown as ConstructorParameters<typeof DescribeUserPoolClientCommand>[0]),
        ),
      );
      // Its own pool beside another stage's client.
      await denied(() =>
        callers.stageA.send(
          new DescribeUserPoolClientCommand({
            UserPoolId: ids['stage-a-pool'],
            ClientId: stageBClient,
          }),
        ),
      );
    });

    test('the public operations stay open, unsigned, on every pool', async () => {
      const app = callers.track(callers.aws.anonymous());
      const out = await app.send(
        new SignUpCommand({ ClientId: stageBClient, Username: 'bob', Password: 'Correct-horse-1' }),
      );
      assert.equal(out.UserConfirmed, false);
    });

    test('ListUserPools shows a stage only what it reaches; what it creates is its own', async () => {
      const made = await callers.stageA.send(new CreateUserPoolCommand({ PoolName: 'made-by-a' }));
      const seen = await callers.stageA.send(new ListUserPoolsCommand({ MaxResults: 60 }));
      assert.deepEqual(seen.UserPools?.map((pool) => pool.Name).sort(), [
        'made-by-a',
        'shared-pool',
        'stage-a-pool',
      ]);
      const all = await callers.admin.send(new ListUserPoolsCommand({ MaxResults: 60 }));
      assert.equal(all.UserPools?.length, 4);
      const stageB = await callers.stageClient('b');
      await denied(() =>
        stageB.send(new DescribeUserPoolCommand({ UserPoolId: made.UserPool!.Id })),
      );
      await callers.stageA.send(new DeleteUserPoolCommand({ UserPoolId: made.UserPool!.Id }));
    });

    test('a read-only key reads every pool but writes none', async () => {
      await callers.readOnly.send(new DescribeUserPoolCommand({ UserPoolId: ids['stage-b-pool'] }));
      await callers.readOnly.send(
        new AdminGetUserCommand({ UserPoolId: ids['stage-a-pool'], Username: 'alice' }),
      );
      await callers.readOnly.send(new ListUserPoolsCommand({ MaxResults: 60 }));
      await denied(() => callers.readOnly.send(user(ids['shared-pool'], 'eve')));
      await denied(() =>
        callers.readOnly.send(new CreateUserPoolCommand({ PoolName: 'not-by-a-reader' })),
      );
    });
  });
