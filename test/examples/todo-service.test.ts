/**
 * The shipped to-do example end to end through the CLI: `nimbus deploy` makes the user pool,
 * its client (with the PreSignUp trigger from a `cognitoUserPool` event) and the table; a user
 * signs up (confirmed by the trigger) and in with the official Cognito SDK, and the JWT-protected
 * httpApi keeps their to-dos apart from another user's.
 */
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CognitoIdentityProviderClient,
  GlobalSignOutCommand,
  InitiateAuthCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { type CliPlatform, startCliPlatform } from '../helpers/cli-platform.js';
import { sdkSkip } from '../helpers/function-reach.js';
import { repoRoot } from '../helpers/repo-root.js';
import { runCli } from '../helpers/run-cli.js';

describe('examples/todo-service: sign up, sign in, call the protected API', {
  skip: sdkSkip,
}, () => {
  let cli: CliPlatform;
  let cognito: CognitoIdentityProviderClient;
  let clientId: string;
  let base: string;

  before(async () => {
    cli = await startCliPlatform();
    const dir = join(cli.root, 'todo-service');
    await cp(join(repoRoot, 'examples', 'todo-service'), dir, { recursive: true });
    const deployed = await runCli(['deploy'], { cwd: dir, env: cli.env });
    assert.equal(deployed.code, 0, deployed.stderr);
    clientId = /UserPoolClientId: (\S+)/.exec(deployed.stdout)?.[1] ?? '';
    assert.match(clientId, /^[a-z0-9]{26}$/, deployed.stdout);
    base = `${cli.platform.url}/todo-dev`;
    // An app's client: no credentials, as in a browser.
    cognito = new CognitoIdentityProviderClient({
      endpoint: cli.platform.url,
      region: 'us-east-1',
      credentials: async () => {
        throw new Error('the public operations need no credentials');
      },
      maxAttempts: 1,
    });
  });
  after(() => cli?.close());

  const signUpAndIn = async (email: string) => {
    const out = await cognito.send(
      new SignUpCommand({ ClientId: clientId, Username: email, Password: 'Correct-Horse-9' }),
    );
    // Confirmed by the PreSignUp trigger: no code to read.
    assert.equal(out.UserConfirmed, true);
    const auth = await cognito.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: 'Correct-Horse-9' },
      }),
    );
    return auth.AuthenticationResult!;
  };
  const call = (method: string, token: string | undefined, body?: unknown) =>
    fetch(`${base}/todos`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        'content-type': 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  test('each user sees their own to-dos; no token or a signed-out one is refused', async () => {
    const ada = await signUpAndIn('ada@example.com');
    const bob = await signUpAndIn('bob@example.com');

    const made = await call('POST', ada.IdToken, { title: 'write the report' });
    assert.equal(made.status, 201, await made.clone().text());
    const todo = (await made.json()) as { id: string; title: string; done: boolean };
    assert.equal(todo.title, 'write the report');

    // The access token opens the route too (audience: the client id).
    const adaList = await call('GET', ada.AccessToken);
    assert.equal(adaList.status, 200);
    assert.deepEqual(await adaList.json(), { todos: [todo] });
    const bobList = await call('GET', bob.IdToken);
    assert.deepEqual(await bobList.json(), { todos: [] });

    assert.equal((await call('POST', bob.IdToken, { title: '' })).status, 400);
    assert.equal((await call('GET', undefined)).status, 401);
    assert.equal((await call('GET', `${ada.IdToken!.slice(0, -4)}AAAA`)).status, 401);

    // Signing out ends the refresh token (the gateway, as AWS's, checks signature and expiry).
    await cognito.send(new GlobalSignOutCommand({ AccessToken: ada.AccessToken }));
    await assert.rejects(
      cognito.send(
        new InitiateAuthCommand({
          ClientId: clientId,
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          AuthParameters: { REFRESH_TOKEN: ada.RefreshToken! },
        }),
      ),
      { name: 'NotAuthorizedException' },
    );
  });

  test('the trigger refuses a domain it does not serve, with its message', async () => {
    await assert.rejects(
      cognito.send(
        new SignUpCommand({
          ClientId: clientId,
          Username: 'eve@example.invalid',
          Password: 'Correct-Horse-9',
        }),
      ),
      {
        name: 'UserLambdaValidationException',
        message: 'PreSignUp failed with error this domain cannot sign up.',
      },
    );
  });
});
