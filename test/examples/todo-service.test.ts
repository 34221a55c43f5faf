/**
 * The shipped to-do example end to end through the CLI: `nimbus deploy` makes the user pool,
 * its client (with the PreSignUp trigger from a `cognitoUserPool` event) and the table; a user
 * signs up (confirmed by the trigger) and in with the official Cognito SDK and with
 * amazon-cognito-identity-js (SRP), and the JWT-protected httpApi keeps their to-dos apart from
 * another user's; refresh, sign-out and a password reset by an outbox code work as on AWS.
 */
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CognitoIdentityProviderClient,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  ForgotPasswordCommand,
  GlobalSignOutCommand,
  InitiateAuthCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import identityJs, { type CognitoUserSession } from 'amazon-cognito-identity-js';
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
  let poolId: string;
  let base: string;

  before(async () => {
    cli = await startCliPlatform();
    const dir = join(cli.root, 'todo-service');
    await cp(join(repoRoot, 'examples', 'todo-service'), dir, { recursive: true });
    const deployed = await runCli(['deploy'], { cwd: dir, env: cli.env });
    assert.equal(deployed.code, 0, deployed.stderr);
    clientId = /UserPoolClientId: (\S+)/.exec(deployed.stdout)?.[1] ?? '';
    assert.match(clientId, /^[a-z0-9]{26}$/, deployed.stdout);
    poolId = /UserPoolId: (\S+)/.exec(deployed.stdout)?.[1] ?? '';
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

  /** The latest code of `kind` sent to `email`, read from the outbox as `nimbus userpools outbox` does. */
  const codeFor = async (email: string, kind: string): Promise<string> => {
    const outbox = await fetch(`${cli.platform.url}/v1/userpools/outbox?pool=${poolId}`, {
      headers: { authorization: `Bearer ${cli.platform.adminToken}` },
    });
    const { messages } = (await outbox.json()) as {
      messages: { destination: string; kind: string; message: string }[];
    };
    // Newest first.
    const sent = messages.find((m) => m.destination === email && m.kind === kind);
    const code = sent && /\b(\d{6})\b/.exec(sent.message)?.[1];
    assert.ok(code, JSON.stringify(messages));
    return code;
  };
  const signUpAndIn = async (email: string) => {
    const out = await cognito.send(
      new SignUpCommand({ ClientId: clientId, Username: email, Password: 'Correct-Horse-9' }),
    );
    // Not confirmed yet: the code went to the outbox (no SMTP configured).
    assert.equal(out.UserConfirmed, false);
    await cognito.send(
      new ConfirmSignUpCommand({
        ClientId: clientId,
        Username: email,
        ConfirmationCode: await codeFor(email, 'verification'),
      }),
    );
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

  test('confirming wrote the profile row through the PostConfirmation trigger', async () => {
    const dee = await signUpAndIn('dee@example.com');
    const res = await fetch(`${base}/profile`, {
      headers: { authorization: `Bearer ${dee.IdToken}` },
    });
    assert.equal(res.status, 200);
    const profile = (await res.json()) as { email: string; confirmedAt: number };
    assert.equal(profile.email, 'dee@example.com');
    assert.ok(profile.confirmedAt > 0);
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

  test('SRP sign-in (amazon-cognito-identity-js), refresh, and a password reset by code', async () => {
    await signUpAndIn('cy@example.com');
    const { AuthenticationDetails, CognitoUser, CognitoUserPool } = identityJs;
    const pool = new CognitoUserPool({
      UserPoolId: poolId,
      ClientId: clientId,
      endpoint: `${cli.platform.url}/`,
    });
    const srpSignIn = (password: string) =>
      new Promise<CognitoUserSession>((resolve, reject) => {
        new CognitoUser({ Username: 'cy@example.com', Pool: pool }).authenticateUser(
          new AuthenticationDetails({ Username: 'cy@example.com', Password: password }),
          { onSuccess: resolve, onFailure: reject },
        );
      });
    const session = await srpSignIn('Correct-Horse-9');
    const made = await call('POST', session.getIdToken().getJwtToken(), { title: 'via SRP' });
    assert.equal(made.status, 201);

    const refreshed = await cognito.send(
      new InitiateAuthCommand({
        ClientId: clientId,
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        AuthParameters: { REFRESH_TOKEN: session.getRefreshToken().getToken() },
      }),
    );
    const listed = await call('GET', refreshed.AuthenticationResult!.IdToken);
    assert.deepEqual(
      ((await listed.json()) as { todos: { title: string }[] }).todos.map((t) => t.title),
      ['via SRP'],
    );

    await cognito.send(
      new ForgotPasswordCommand({ ClientId: clientId, Username: 'cy@example.com' }),
    );
    const code = await codeFor('cy@example.com', 'reset');
    await cognito.send(
      new ConfirmForgotPasswordCommand({
        ClientId: clientId,
        Username: 'cy@example.com',
        ConfirmationCode: code,
        Password: 'Another-Horse-10',
      }),
    );
    assert.ok((await srpSignIn('Another-Horse-10')).isValid());
    await assert.rejects(srpSignIn('Correct-Horse-9'), { code: 'NotAuthorizedException' });
    // The reset ended the earlier sign-ins.
    await assert.rejects(
      cognito.send(
        new InitiateAuthCommand({
          ClientId: clientId,
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          AuthParameters: { REFRESH_TOKEN: session.getRefreshToken().getToken() },
        }),
      ),
      { name: 'NotAuthorizedException' },
    );
  });
});
