/**
 * USER_SRP_AUTH as Amplify v5 / amazon-cognito-identity-js signs in by default: the library's
 * own `authenticateUser` against a platform started in-process (its CognitoUserPool `endpoint`
 * pointed at the platform's port), on SQLite and PostgreSQL. The library's requests are watched
 * (and, for the refusals, altered) through the global fetch it calls.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AdminConfirmSignUpCommand,
  ChangePasswordCommand,
  type CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import identityJs, { type CognitoUserSession } from 'amazon-cognito-identity-js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { type CognitoPlatform, cognitoVariants, startCognitoPlatform } from './cognito-platform.js';

const { AuthenticationDetails, CognitoUser, CognitoUserPool } = identityJs;
const password = 'Correct-horse-1';

type Body = Record<string, unknown> & { ChallengeResponses?: Record<string, string> };
type Rewrite = (target: string, body: Body) => Body;

/** Calls the library makes, in order; `rewrite` may change one before it leaves. */
const seen: { target: string; body: Body; answer: Record<string, unknown> }[] = [];
let rewrite: Rewrite | undefined;
const realFetch = globalThis.fetch;

function watchFetch(): void {
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    const target = (headers.get('x-amz-target') ?? '').split('.').pop() ?? '';
    if (!target || typeof init?.body !== 'string') return realFetch(input, init);
    let body = JSON.parse(init.body) as Body;
    if (rewrite) body = rewrite(target, body);
    const res = await realFetch(input, { ...init, body: JSON.stringify(body) });
    const answer = (await res.clone().json()) as Record<string, unknown>;
    seen.push({ target, body, answer });
    return res;
  }) as typeof fetch;
}

function signIn(
  pool: InstanceType<typeof CognitoUserPool>,
  username: string,
  pass: string,
): Promise<CognitoUserSession> {
  const user = new CognitoUser({ Username: username, Pool: pool });
  return new Promise((resolve, reject) => {
    user.authenticateUser(new AuthenticationDetails({ Username: username, Password: pass }), {
      onSuccess: resolve,
      onFailure: reject,
    });
  });
}

async function refused(promise: Promise<unknown>, code: string, message?: RegExp) {
  const error = await promise.then(
    () => assert.fail(`expected ${code}`),
    (e: { code?: string; name?: string; message: string }) => e,
  );
  assert.equal(error.code ?? error.name, code, error.message);
  if (message) assert.match(error.message, message);
}

for (const variant of cognitoVariants)
  describe(`USER_SRP_AUTH with amazon-cognito-identity-js on ${variant.name}`, () => {
    let p: CognitoPlatform;
    let admin: CognitoIdentityProviderClient;
    let app: CognitoIdentityProviderClient;
    let poolId: string;
    let clientId: string;
    let pool: InstanceType<typeof CognitoUserPool>;

    const makeUser = async (username: string, attrs: { Name: string; Value: string }[] = []) => {
      await app.send(
        new SignUpCommand({
          ClientId: clientId,
          Username: username,
          Password: password,
          UserAttributes: attrs,
        }),
      );
      await admin.send(new AdminConfirmSignUpCommand({ UserPoolId: poolId, Username: username }));
    };

    before(async () => {
      p = await startCognitoPlatform(variant);
      admin = p.client();
      app = p.anonymous();
      poolId = (await admin.send(new CreateUserPoolCommand({ PoolName: 'srp-users' }))).UserPool!
        .Id!;
      clientId = (
        await admin.send(
          new CreateUserPoolClientCommand({
            UserPoolId: poolId,
            ClientName: 'web',
            ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
          }),
        )
      ).UserPoolClient!.ClientId!;
      pool = new CognitoUserPool({
        UserPoolId: poolId,
        ClientId: clientId,
        endpoint: `${p.platform.url}/`,
      });
      watchFetch();
      await makeUser('alice');
    });
    after(async () => {
      globalThis.fetch = realFetch;
      admin?.destroy();
      app?.destroy();
      await p?.close();
    });

    test('authenticateUser signs in; the tokens verify against the JWKS', async () => {
      seen.length = 0;
      const session = await signIn(pool, 'alice', password);
      const jwks = createRemoteJWKSet(new URL(`${p.platform.url}/${poolId}/.well-known/jwks.json`));
      const { payload } = await jwtVerify(session.getIdToken().getJwtToken(), jwks, {
        issuer: `${p.platform.url}/${poolId}`,
        audience: clientId,
      });
      assert.equal(payload['cognito:username'], 'alice');
      assert.equal(payload.token_use, 'id');
      assert.ok(session.getRefreshToken().getToken());
      // The wire: the challenge parameters Cognito sends, and no password anywhere.
      const [start, answer] = seen;
      assert.equal(start?.target, 'InitiateAuth');
      assert.equal(start?.body.AuthFlow, 'USER_SRP_AUTH');
      assert.equal(start?.answer.ChallengeName, 'PASSWORD_VERIFIER');
      const params = start?.answer.ChallengeParameters as Record<string, string>;
      assert.deepEqual(Object.keys(params).sort(), [
        'SALT',
        'SECRET_BLOCK',
        'SRP_B',
        'USERNAME',
        'USER_ID_FOR_SRP',
      ]);
      assert.match(params.SRP_B!, /^[0-9a-f]+$/);
      assert.equal(answer?.target, 'RespondToAuthChallenge');
      assert.match(
        answer?.body.ChallengeResponses?.TIMESTAMP ?? '',
        /^[A-Z][a-z]{2} [A-Z][a-z]{2} [1-9]\d? \d\d:\d\d:\d\d UTC \d{4}$/,
      );
      assert.ok(!JSON.stringify(seen).includes(password));
    });

    test('the SRP session refreshes like any other', async () => {
      const session = await signIn(pool, 'alice', password);
      const refreshed = await app.send(
        new InitiateAuthCommand({
          ClientId: clientId,
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          AuthParameters: { REFRESH_TOKEN: session.getRefreshToken().getToken() },
        }),
      );
      assert.ok(refreshed.AuthenticationResult?.AccessToken);
    });

    test('a wrong password and an unknown user get the same answer', async () => {
      await refused(
        signIn(pool, 'alice', 'Wrong-horse-1'),
        'NotAuthorizedException',
        /^Incorrect username or password\.$/,
      );
      await refused(
        signIn(pool, 'nobody', password),
        'NotAuthorizedException',
        /^Incorrect username or password\.$/,
      );
    });

    test('a changed password works over SRP at once; the old one does not', async () => {
      await makeUser('bob');
      const session = await signIn(pool, 'bob', password);
      await app.send(
        new ChangePasswordCommand({
          AccessToken: session.getAccessToken().getJwtToken(),
          PreviousPassword: password,
          ProposedPassword: 'Battery-staple-2',
        }),
      );
      await refused(signIn(pool, 'bob', password), 'NotAuthorizedException');
      assert.ok(await signIn(pool, 'bob', 'Battery-staple-2'));
    });

    test('email pools: USER_ID_FOR_SRP is the internal username', async () => {
      const emailPoolId = (
        await admin.send(
          new CreateUserPoolCommand({ PoolName: 'srp-email', UsernameAttributes: ['email'] }),
        )
      ).UserPool!.Id!;
      const emailClient = (
        await admin.send(
          new CreateUserPoolClientCommand({ UserPoolId: emailPoolId, ClientName: 'w' }),
        )
      ).UserPoolClient!.ClientId!;
      const signedUp = await app.send(
        new SignUpCommand({
          ClientId: emailClient,
          Username: 'carol@example.com',
          Password: password,
        }),
      );
      await admin.send(
        new AdminConfirmSignUpCommand({ UserPoolId: emailPoolId, Username: 'carol@example.com' }),
      );
      const emailPool = new CognitoUserPool({
        UserPoolId: emailPoolId,
        ClientId: emailClient,
        endpoint: `${p.platform.url}/`,
      });
      seen.length = 0;
      const session = await signIn(emailPool, 'carol@example.com', password);
      assert.equal(session.getIdToken().payload.email, 'carol@example.com');
      const params = seen[0]?.answer.ChallengeParameters as Record<string, string>;
      assert.equal(params.USER_ID_FOR_SRP, signedUp.UserSub);
    });

    test('a tampered signature is refused and counts as a failure', async () => {
      rewrite = (target, body) => {
        if (target !== 'RespondToAuthChallenge' || !body.ChallengeResponses) return body;
        const sig = Buffer.from(body.ChallengeResponses.PASSWORD_CLAIM_SIGNATURE!, 'base64');
        sig[0]! ^= 1;
        body.ChallengeResponses.PASSWORD_CLAIM_SIGNATURE = sig.toString('base64');
        return body;
      };
      try {
        await refused(signIn(pool, 'alice', password), 'NotAuthorizedException');
      } finally {
        rewrite = undefined;
      }
    });

    test('a malformed TIMESTAMP is refused', async () => {
      rewrite = (target, body) => {
        if (target === 'RespondToAuthChallenge' && body.ChallengeResponses) {
          body.ChallengeResponses.TIMESTAMP = new Date().toISOString();
        }
        return body;
      };
      try {
        await refused(signIn(pool, 'alice', password), 'InvalidParameterException', /TIMESTAMP/);
      } finally {
        rewrite = undefined;
      }
    });

    test('an answer is single-use: replaying it is refused', async () => {
      seen.length = 0;
      await signIn(pool, 'alice', password);
      const answer = seen.find((s) => s.target === 'RespondToAuthChallenge');
      await refused(
        app.send(new RespondToAuthChallengeCommand(answer!.body as never)),
        'NotAuthorizedException',
        /session is expired/,
      );
    });

    test('bad SRP_A, a client without ALLOW_USER_SRP_AUTH, and device challenges are refused', async () => {
      for (const SRP_A of ['0', 'zz', 'f'.repeat(2000)]) {
        await refused(
          app.send(
            new InitiateAuthCommand({
              ClientId: clientId,
              AuthFlow: 'USER_SRP_AUTH',
              AuthParameters: { USERNAME: 'alice', SRP_A },
            }),
          ),
          'InvalidParameterException',
        );
      }
      const passwordOnly = (
        await admin.send(
          new CreateUserPoolClientCommand({
            UserPoolId: poolId,
            ClientName: 'password-only',
            ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH'],
          }),
        )
      ).UserPoolClient!.ClientId!;
      await refused(
        app.send(
          new InitiateAuthCommand({
            ClientId: passwordOnly,
            AuthFlow: 'USER_SRP_AUTH',
            AuthParameters: { USERNAME: 'alice', SRP_A: 'abcdef' },
          }),
        ),
        'InvalidParameterException',
        /USER_SRP_AUTH flow not enabled/,
      );
      await refused(
        app.send(
          new RespondToAuthChallengeCommand({
            ClientId: clientId,
            ChallengeName: 'DEVICE_SRP_AUTH',
            ChallengeResponses: { USERNAME: 'alice', SRP_A: 'abcdef', DEVICE_KEY: 'k' },
          }),
        ),
        'InvalidParameterException',
        /device tracking/,
      );
    });

    test('repeated wrong SRP claims lock the user like wrong passwords', async () => {
      await makeUser('dave');
      for (let i = 0; i < 5; i++)
        await refused(signIn(pool, 'dave', 'Wrong-horse-1'), 'NotAuthorizedException');
      await refused(signIn(pool, 'dave', password), 'NotAuthorizedException', /attempts exceeded/);
    });
  });
