/**
 * User-pool email by SMTP: a real SMTP server (smtp-server, with a login) started here receives
 * the confirmation-code mail as the pool's CustomMessage trigger wrote it; the code in it
 * confirms the user; nothing goes to the outbox; a server that is gone is
 * CodeDeliveryFailureException. SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  type CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  ResendConfirmationCodeCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { SMTPServer } from 'smtp-server';
import { checkSmtpUrl, redactedSmtpUrl } from '../../../src/platform/mail/smtp-mailer.js';
import { deployService } from '../../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';
import { type CognitoPlatform, cognitoVariants, startCognitoPlatform } from './cognito-platform.js';

interface Received {
  from: string;
  to: string[];
  user: string;
  raw: string;
}

async function startSmtp(): Promise<{ server: SMTPServer; port: number; mail: Received[] }> {
  const mail: Received[] = [];
  const server = new SMTPServer({
    // Plain SMTP on loopback with a login: no certificate to trust in the test.
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, done) {
      if (auth.username === 'mailer' && auth.password === 's3cret-pass') {
        done(null, { user: auth.username });
      } else done(new Error('Invalid username or password'));
    },
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mail.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: String(session.user),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        done();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.server.address() as AddressInfo).port, mail };
}

const customMessage = `
exports.customMessage = async (event) => {
  event.response.emailSubject = 'Welcome, ' + event.userName;
  event.response.emailMessage = 'Your code for ' + event.triggerSource + ': ' + event.request.codeParameter;
  return event;
};
`;

test('the SMTP URL is checked and shown without its password', () => {
  assert.equal(
    redactedSmtpUrl('smtp://mailer:s3cret-pass@mail.example:587'),
    'smtp://mailer:***@mail.example:587',
  );
  assert.equal(checkSmtpUrl('smtps://mail.example'), undefined);
  assert.match(checkSmtpUrl('http://mail.example') ?? '', /smtp:\/\/ or smtps:\/\//);
  assert.match(checkSmtpUrl('not a url') ?? '', /is not a URL/);
});

for (const variant of cognitoVariants) {
  describe(`user-pool email by SMTP (${variant.name})`, () => {
    let p: CognitoPlatform;
    let smtp: Awaited<ReturnType<typeof startSmtp>>;
    let app: CognitoIdentityProviderClient;
    let poolId: string;
    let clientId: string;

    before(async () => {
      smtp = await startSmtp();
      p = await startCognitoPlatform(variant, {
        runFunctions: true,
        options: {
          smtpUrl: `smtp://mailer:s3cret-pass@127.0.0.1:${smtp.port}`,
          smtpFrom: 'users@nimbus.test',
        },
      });
      app = p.anonymous();
      await deployService(
        p.platform,
        serviceDef([fnDef('customMessage', { handler: 'handler.customMessage' })]),
        { 'handler.js': customMessage },
      );
      const admin = p.client();
      const pool = await admin.send(
        new CreateUserPoolCommand({
          PoolName: 'mail-users',
          AutoVerifiedAttributes: ['email'],
          LambdaConfig: {
            CustomMessage: 'arn:aws:lambda:us-east-1:000000000000:function:svc-dev-customMessage',
          },
        }),
      );
      poolId = pool.UserPool!.Id!;
      const client = await admin.send(
        new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: 'web' }),
      );
      clientId = client.UserPoolClient!.ClientId!;
    });
    let smtpOpen = true;
    const closeSmtp = async () => {
      if (!smtpOpen) return;
      smtpOpen = false;
      await new Promise<void>((resolve) => smtp.server.close(() => resolve()));
    };
    after(async () => {
      await p.close();
      await closeSmtp();
    });

    test('the confirmation code arrives by mail, as CustomMessage wrote it, and confirms', async () => {
      const out = await app.send(
        new SignUpCommand({
          ClientId: clientId,
          Username: 'mia',
          Password: 'Correct-Horse-9',
          UserAttributes: [{ Name: 'email', Value: 'mia@example.com' }],
        }),
      );
      assert.equal(out.CodeDeliveryDetails?.DeliveryMedium, 'EMAIL');
      // Sent before SignUp answered: the server had taken it.
      assert.equal(smtp.mail.length, 1);
      const [mail] = smtp.mail;
      assert.equal(mail!.from, 'users@nimbus.test');
      assert.deepEqual(mail!.to, ['mia@example.com']);
      assert.equal(mail!.user, 'mailer');
      assert.match(mail!.raw, /^Subject: Welcome, mia\r$/m);
      const code = /Your code for CustomMessage_SignUp: (\d{6})/.exec(mail!.raw)?.[1];
      assert.ok(code, mail!.raw);
      assert.deepEqual(await p.outbox(poolId), []);
      await app.send(
        new ConfirmSignUpCommand({ ClientId: clientId, Username: 'mia', ConfirmationCode: code }),
      );
    });

    test('a mail server that is gone is CodeDeliveryFailureException', async () => {
      await app.send(
        new SignUpCommand({
          ClientId: clientId,
          Username: 'noah',
          Password: 'Correct-Horse-9',
          UserAttributes: [{ Name: 'email', Value: 'noah@example.com' }],
        }),
      );
      await closeSmtp();
      await assert.rejects(
        app.send(new ResendConfirmationCodeCommand({ ClientId: clientId, Username: 'noah' })),
        { name: 'CodeDeliveryFailureException', message: 'Unable to deliver the message.' },
      );
    });
  });
}
