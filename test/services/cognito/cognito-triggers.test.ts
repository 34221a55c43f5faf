/**
 * User-pool Lambda triggers with real function processes: `cognitoUserPool` events (a pool the
 * deploy makes, and `existing: true` on a pool made through the API), LambdaConfig through
 * CreateUserPool/UpdateUserPool, Cognito's event shape, and each trigger's answer honoured
 * (auto-confirm, rejections, claim overrides, custom messages). SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AdminAddUserToGroupCommand,
  AdminConfirmSignUpCommand,
  AdminCreateUserCommand,
  AdminGetUserCommand,
  type CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DescribeUserPoolCommand,
  InitiateAuthCommand,
  ListUserPoolsCommand,
  SignUpCommand,
  UpdateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { decodeJwt } from 'jose';
import { deployService } from '../../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';
import { type CognitoPlatform, cognitoVariants, startCognitoPlatform } from './cognito-platform.js';

const handlers = `
exports.preSignUp = async (event) => {
  const email = event.request.userAttributes.email || '';
  if (email.endsWith('@blocked.example')) throw new Error('domain not allowed');
  if (event.triggerSource === 'PreSignUp_SignUp' && email.endsWith('@auto.example')) {
    event.response.autoConfirmUser = true;
    event.response.autoVerifyEmail = true;
  }
  return event;
};
exports.postConfirmation = async (event) => {
  if (event.userName === 'postfail') throw new Error('no profile for ' + event.userName);
  return event;
};
exports.preAuthentication = async (event) => {
  if (event.request.userAttributes.email === 'mallory@example.com') {
    throw new Error('blocked user');
  }
  return event;
};
exports.postAuthentication = async (event) => {
  if (event.request.clientMetadata && event.request.clientMetadata.fail === 'yes') {
    throw new Error('audit log down');
  }
  return event;
};
exports.preToken = async (event) => {
  event.response = { claimsOverrideDetails: {
    claimsToAddOrOverride: {
      trigger_source: event.triggerSource,
      seen_groups: JSON.stringify(event.request.groupConfiguration.groupsToOverride),
      caller: event.callerContext.clientId,
      pool: event.userPoolId + ' ' + event.region + ' v' + event.version,
      sub: 'forged',
    },
    claimsToSuppress: ['email_verified', 'aud'],
    groupOverrideDetails: { groupsToOverride: ['readers'], preferredRole: 'arn:aws:iam::1:role/r' },
  } };
  return event;
};
exports.customMessage = async (event) => {
  const who = event.userName + ' ' + event.triggerSource + ' ' + event.callerContext.clientId;
  if (event.request.userAttributes.email === 'nocode@example.com') {
    event.response.emailMessage = 'forgot the code for ' + who;
    return event;
  }
  event.response.emailSubject = 'Welcome aboard';
  event.response.emailMessage = 'Hi ' + who + ', your code is ' + event.request.codeParameter;
  return event;
};
exports.slow = async (event) => {
  await new Promise((r) => setTimeout(r, 3000));
  return event;
};
exports.broken = async () => 'not an event';
`;

const fn = (key: string, events: Record<string, unknown>[] = []) =>
  fnDef(key, { handler: `handler.${key}`, events: events as never });

for (const variant of cognitoVariants) {
  describe(`user-pool triggers (${variant.name})`, () => {
    let p: CognitoPlatform;
    let admin: CognitoIdentityProviderClient;
    let app: CognitoIdentityProviderClient;
    let poolId: string;
    let clientId: string;
    const arn = (key: string) => `arn:aws:lambda:us-east-1:000000000000:function:svc-dev-${key}`;

    before(async () => {
      p = await startCognitoPlatform(variant, {
        runFunctions: true,
        options: { userPoolTriggerTimeoutMs: 1000 },
      });
      admin = p.client();
      app = p.anonymous();
      // A pool made before the deploy, for an `existing: true` event.
      await admin.send(new CreateUserPoolCommand({ PoolName: 'shared-pool' }));
      const pool = (t: string) => ({
        kind: 'cognitoUserPool',
        config: { pool: 'trigger-users', trigger: t },
      });
      await deployService(
        p.platform,
        serviceDef([
          fn('preSignUp', [
            pool('PreSignUp'),
            {
              kind: 'cognitoUserPool',
              config: { pool: 'shared-pool', trigger: 'PreSignUp', existing: true },
            },
          ]),
          fn('postConfirmation', [pool('PostConfirmation')]),
          fn('preAuthentication', [pool('PreAuthentication')]),
          fn('postAuthentication', [pool('PostAuthentication')]),
          fn('preToken', [pool('PreTokenGeneration')]),
          fn('customMessage', [pool('CustomMessage')]),
          fn('slow'),
          fn('broken'),
        ]),
        { 'handler.js': handlers },
      );
      const pools = await admin.send(new ListUserPoolsCommand({ MaxResults: 60 }));
      poolId = pools.UserPools!.find((x) => x.Name === 'trigger-users')!.Id!;
      await admin.send(
        new UpdateUserPoolCommand({
          UserPoolId: poolId,
          AutoVerifiedAttributes: ['email'],
          LambdaConfig: (await admin.send(new DescribeUserPoolCommand({ UserPoolId: poolId })))
            .UserPool!.LambdaConfig,
        }),
      );
      const client = await admin.send(
        new CreateUserPoolClientCommand({
          UserPoolId: poolId,
          ClientName: 'web',
          ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        }),
      );
      clientId = client.UserPoolClient!.ClientId!;
    });
    after(() => p.close());

    const signUp = (username: string, email: string, extra: Record<string, unknown> = {}) =>
      app.send(
        new SignUpCommand({
          ClientId: clientId,
          Username: username,
          Password: 'Correct-Horse-9',
          UserAttributes: [{ Name: 'email', Value: email }],
          ...extra,
        }),
      );
    const signIn = (username: string, metadata?: Record<string, string>) =>
      app.send(
        new InitiateAuthCommand({
          ClientId: clientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: username, PASSWORD: 'Correct-Horse-9' },
          ...(metadata ? { ClientMetadata: metadata } : {}),
        }),
      );
    const rejects = (promise: Promise<unknown>, name: string, message: string) =>
      assert.rejects(promise, (e: Error) => {
        assert.equal(e.name, name);
        assert.equal(e.message, message);
        return true;
      });

    test('the events made the pool with its LambdaConfig, as the Framework does', async () => {
      const { UserPool } = await admin.send(new DescribeUserPoolCommand({ UserPoolId: poolId }));
      assert.deepEqual(UserPool!.LambdaConfig, {
        PreSignUp: arn('preSignUp'),
        PostConfirmation: arn('postConfirmation'),
        PreAuthentication: arn('preAuthentication'),
        PostAuthentication: arn('postAuthentication'),
        PreTokenGeneration: arn('preToken'),
        CustomMessage: arn('customMessage'),
      });
    });

    test('PreSignUp refuses a sign-up with its message; no user is made', async () => {
      await rejects(
        signUp('eve', 'eve@blocked.example'),
        'UserLambdaValidationException',
        'PreSignUp failed with error domain not allowed.',
      );
      await assert.rejects(
        admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'eve' })),
        { name: 'UserNotFoundException' },
      );
    });

    test('PreSignUp auto-confirms and verifies: no code is sent, the user signs in', async () => {
      const out = await signUp('otto', 'otto@auto.example');
      assert.equal(out.UserConfirmed, true);
      assert.equal(out.CodeDeliveryDetails, undefined);
      const user = await admin.send(
        new AdminGetUserCommand({ UserPoolId: poolId, Username: 'otto' }),
      );
      assert.equal(user.UserStatus, 'CONFIRMED');
      assert.equal(user.UserAttributes!.find((a) => a.Name === 'email_verified')?.Value, 'true');
      assert.ok((await signIn('otto')).AuthenticationResult?.IdToken);
    });

    test('CustomMessage writes the code mail (subject, body, event fields); the code confirms', async () => {
      await signUp('cora', 'cora@example.com');
      const message = (await p.outbox(poolId)).find((m) => m.destination === 'cora@example.com')!;
      assert.match(
        message.message,
        /^Hi cora CustomMessage_SignUp [a-z0-9]{26}, your code is \d{6}$/,
      );
      const code = await p.lastCode(poolId, 'cora@example.com');
      await app.send(
        new ConfirmSignUpCommand({ ClientId: clientId, Username: 'cora', ConfirmationCode: code }),
      );
    });

    test('a CustomMessage without the code placeholder is not used: the default goes out', async () => {
      await signUp('nocode', 'nocode@example.com');
      const message = (await p.outbox(poolId)).find((m) => m.destination === 'nocode@example.com')!;
      assert.match(message.message, /^Your verification code is \d{6}\.$/);
    });

    test('PostConfirmation: its error is the answer, and the user stays confirmed', async () => {
      await signUp('postfail', 'postfail@example.com');
      const code = await p.lastCode(poolId, 'postfail@example.com');
      await rejects(
        app.send(
          new ConfirmSignUpCommand({
            ClientId: clientId,
            Username: 'postfail',
            ConfirmationCode: code,
          }),
        ),
        'UserLambdaValidationException',
        'PostConfirmation failed with error no profile for postfail.',
      );
      const user = await admin.send(
        new AdminGetUserCommand({ UserPoolId: poolId, Username: 'postfail' }),
      );
      assert.equal(user.UserStatus, 'CONFIRMED');
    });

    test('PreAuthentication refuses a sign-in before the password is checked', async () => {
      await admin.send(
        new AdminCreateUserCommand({
          UserPoolId: poolId,
          Username: 'mallory',
          TemporaryPassword: 'Correct-Horse-9',
          UserAttributes: [{ Name: 'email', Value: 'mallory@example.com' }],
          MessageAction: 'SUPPRESS',
        }),
      );
      await rejects(
        signIn('mallory'),
        'UserLambdaValidationException',
        'PreAuthentication failed with error blocked user.',
      );
    });

    test('PostAuthentication failing refuses the tokens', async () => {
      await rejects(
        signIn('otto', { fail: 'yes' }),
        'UserLambdaValidationException',
        'PostAuthentication failed with error audit log down.',
      );
    });

    test('PreTokenGeneration: claims added, suppressed and groups overridden; protected claims kept', async () => {
      await admin.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: 'admins' }));
      await admin.send(
        new AdminAddUserToGroupCommand({
          UserPoolId: poolId,
          Username: 'otto',
          GroupName: 'admins',
        }),
      );
      const result = (await signIn('otto')).AuthenticationResult!;
      const id = decodeJwt(result.IdToken!);
      const access = decodeJwt(result.AccessToken!);
      assert.equal(id.trigger_source, 'TokenGeneration_Authentication');
      assert.equal(id.seen_groups, '["admins"]');
      assert.equal(id.caller, clientId);
      assert.equal(id.pool, `${poolId} us-east-1 v1`);
      assert.notEqual(id.sub, 'forged');
      assert.equal(id.aud, clientId);
      assert.equal(id.email_verified, undefined);
      assert.deepEqual(id['cognito:groups'], ['readers']);
      assert.equal(id['cognito:preferred_role'], 'arn:aws:iam::1:role/r');
      assert.deepEqual(access['cognito:groups'], ['readers']);
      assert.equal(access.trigger_source, undefined);
      const refreshed = await app.send(
        new InitiateAuthCommand({
          ClientId: clientId,
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          AuthParameters: { REFRESH_TOKEN: result.RefreshToken! },
        }),
      );
      assert.equal(
        decodeJwt(refreshed.AuthenticationResult!.IdToken!).trigger_source,
        'TokenGeneration_RefreshTokens',
      );
    });

    test('AdminCreateUser: PreSignUp_AdminCreateUser may refuse; PostConfirmation on AdminConfirmSignUp', async () => {
      await rejects(
        admin.send(
          new AdminCreateUserCommand({
            UserPoolId: poolId,
            Username: 'blocked',
            UserAttributes: [{ Name: 'email', Value: 'b@blocked.example' }],
          }),
        ),
        'UserLambdaValidationException',
        'PreSignUp failed with error domain not allowed.',
      );
      await signUp('confirmme', 'confirmme@example.com');
      await admin.send(
        new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: 'confirmme' }),
      );
    });

    test('`existing: true` attaches to a pool by name; LambdaConfig through the API', async () => {
      const pools = await admin.send(new ListUserPoolsCommand({ MaxResults: 60 }));
      const shared = pools.UserPools!.find((x) => x.Name === 'shared-pool')!.Id!;
      const client = await admin.send(
        new CreateUserPoolClientCommand({ UserPoolId: shared, ClientName: 'c' }),
      );
      await assert.rejects(
        app.send(
          new SignUpCommand({
            ClientId: client.UserPoolClient!.ClientId!,
            Username: 'x',
            Password: 'Correct-Horse-9',
            UserAttributes: [{ Name: 'email', Value: 'x@blocked.example' }],
          }),
        ),
        { name: 'UserLambdaValidationException' },
      );
      const made = await admin.send(
        new CreateUserPoolCommand({
          PoolName: 'api-pool',
          LambdaConfig: { PreSignUp: arn('slow') },
        }),
      );
      const apiClient = await admin.send(
        new CreateUserPoolClientCommand({ UserPoolId: made.UserPool!.Id!, ClientName: 'c' }),
      );
      const apiSignUp = () =>
        app.send(
          new SignUpCommand({
            ClientId: apiClient.UserPoolClient!.ClientId!,
            Username: 'y',
            Password: 'Correct-Horse-9',
          }),
        );
      // The trigger takes longer than the pool's limit (1 s here, Cognito's 5 s by default).
      await rejects(
        apiSignUp(),
        'UnexpectedLambdaException',
        'PreSignUp invocation failed due to a timeout.',
      );
      await admin.send(
        new UpdateUserPoolCommand({
          UserPoolId: made.UserPool!.Id!,
          LambdaConfig: { PreSignUp: arn('broken') },
        }),
      );
      await rejects(
        apiSignUp(),
        'InvalidLambdaResponseException',
        'Invalid lambda response received',
      );
    });

    test('triggers Nimbus does not call are refused by name', async () => {
      await assert.rejects(
        admin.send(
          new CreateUserPoolCommand({
            PoolName: 'custom-auth',
            LambdaConfig: { DefineAuthChallenge: arn('slow') },
          }),
        ),
        (e: Error) =>
          e.name === 'InvalidParameterException' && /DefineAuthChallenge/.test(e.message),
      );
    });
  });
}
