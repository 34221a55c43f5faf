/**
 * SNS `email` and `email-json` subscriptions through @aws-sdk/client-sns and serverless.yml
 * resources: the confirmation mail and its unsigned link, notifications only once confirmed, to
 * the outbox without a mail server and by SMTP (a real smtp-server) with one.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  CreateTopicCommand,
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  PublishCommand,
  type SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import { SMTPServer } from 'smtp-server';
import { awsPlatformVariants, deployStageResources } from '../../helpers/aws-platform.js';
import { type EventsPlatform, startEventsPlatform } from '../../helpers/events-platform.js';
import { waitForValue } from '../../helpers/wait-for.js';

interface OutboxEntry {
  poolId: string;
  username: string;
  destination: string;
  kind: string;
  message: string;
}

async function outbox(p: EventsPlatform, topicArn: string): Promise<OutboxEntry[]> {
  const res = await fetch(
    `${p.aws.platform.url}/v1/userpools/outbox?pool=${encodeURIComponent(topicArn)}`,
    { headers: { authorization: `Bearer ${p.aws.platform.adminToken}` } },
  );
  assert.equal(res.status, 200);
  return ((await res.json()) as { messages: OutboxEntry[] }).messages.reverse();
}

/** The link a confirmation mail carries. */
const linkIn = (text: string) => /https?:\/\/\S+Action=ConfirmSubscription\S+/.exec(text)?.[0];

for (const variant of awsPlatformVariants)
  describe(`SNS email subscriptions, no mail server (${variant.name})`, () => {
    let p: EventsPlatform;
    let sns: SNSClient;

    before(async () => {
      p = await startEventsPlatform(variant, { label: 'sns email' });
      sns = p.sns;
    });
    after(async () => {
      await p?.close();
    });

    test('email: confirmation mail, its link confirms unsigned, then notifications with their subject', async () => {
      const arn = (await sns.send(new CreateTopicCommand({ Name: 'alerts' }))).TopicArn!;
      const sub = await sns.send(
        new SubscribeCommand({ TopicArn: arn, Protocol: 'email', Endpoint: 'ops@example.com' }),
      );
      assert.equal(sub.SubscriptionArn, 'pending confirmation');
      await sns.send(new PublishCommand({ TopicArn: arn, Message: 'before confirming' }));

      const [confirmation] = await waitForValue(async () => {
        const m = await outbox(p, arn);
        return m.length > 0 ? m : undefined;
      }, 'the confirmation mail');
      assert.equal(confirmation!.kind, 'sns-confirmation');
      assert.equal(confirmation!.destination, 'ops@example.com');
      assert.match(confirmation!.message, /^AWS Notification - Subscription Confirmation\n/);
      const link = linkIn(confirmation!.message);
      assert.ok(link, confirmation!.message);
      const forged = await fetch(link.replace(/Token=[0-9a-f]+/, `Token=${'f'.repeat(64)}`));
      assert.notEqual(forged.status, 200);
      await forged.text();
      const clicked = await fetch(link);
      assert.equal(clicked.status, 200);
      assert.match(await clicked.text(), /<SubscriptionArn>arn:aws:sns:/);

      const subs = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: arn }));
      const confirmed = subs.Subscriptions![0]!.SubscriptionArn!;
      assert.match(confirmed, /^arn:aws:sns:/);
      const attrs = await sns.send(
        new GetSubscriptionAttributesCommand({ SubscriptionArn: confirmed }),
      );
      assert.equal(attrs.Attributes?.PendingConfirmation, 'false');

      await sns.send(
        new PublishCommand({ TopicArn: arn, Subject: 'Disk full', Message: 'on node 3' }),
      );
      await sns.send(new PublishCommand({ TopicArn: arn, Message: 'no subject' }));
      const mail = await outbox(p, arn);
      assert.deepEqual(
        mail.map((m) => [m.kind, m.username, m.message]),
        [
          ['sns-confirmation', confirmed, confirmation!.message],
          ['sns-notification', confirmed, 'Disk full\n\non node 3'],
          ['sns-notification', confirmed, 'AWS Notification Message\n\nno subject'],
        ],
      );
    });

    test('email-json: the JSON documents http endpoints get', async () => {
      const arn = (await sns.send(new CreateTopicCommand({ Name: 'json-alerts' }))).TopicArn!;
      await sns.send(
        new SubscribeCommand({
          TopicArn: arn,
          Protocol: 'email-json',
          Endpoint: 'bot@example.com',
        }),
      );
      const [confirmation] = await waitForValue(async () => {
        const m = await outbox(p, arn);
        return m.length > 0 ? m : undefined;
      }, 'the confirmation mail');
      const document = JSON.parse(confirmation!.message.split('\n\n').slice(1).join('\n\n')) as {
        Type: string;
        SubscribeURL: string;
      };
      assert.equal(document.Type, 'SubscriptionConfirmation');
      assert.equal((await fetch(document.SubscribeURL)).status, 200);
      await sns.send(new PublishCommand({ TopicArn: arn, Subject: 'S', Message: 'M' }));
      const note = (await outbox(p, arn)).at(-1)!;
      assert.equal(note.kind, 'sns-notification');
      const body = JSON.parse(note.message.slice('S\n\n'.length)) as Record<string, unknown>;
      assert.equal(body.Type, 'Notification');
      assert.equal(body.Subject, 'S');
      assert.equal(body.Message, 'M');
    });

    test('serverless.yml: an email subscription is confirmed once, and stays so across deploys', async () => {
      const resources = (address: string) => ({
        Woofer: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'woofer' } },
        WooferEmail: {
          Type: 'AWS::SNS::Subscription',
          Properties: {
            TopicArn: { Ref: 'Woofer' },
            Protocol: 'email',
            Endpoint: address,
          },
        },
      });
      await deployStageResources(p.aws.platform, 'mail', resources('foo@bar.com'));
      const arn = 'arn:aws:sns:us-east-1:000000000000:woofer';
      const [confirmation] = await waitForValue(async () => {
        const m = await outbox(p, arn);
        return m.length > 0 ? m : undefined;
      }, 'the confirmation mail');
      assert.equal(confirmation!.destination, 'foo@bar.com');
      assert.equal((await fetch(linkIn(confirmation!.message)!)).status, 200);

      // Redeploying the same subscription sends nothing and keeps it confirmed.
      await deployStageResources(p.aws.platform, 'mail', resources('foo@bar.com'));
      await sns.send(new PublishCommand({ TopicArn: arn, Message: 'woof' }));
      const kinds = (await outbox(p, arn)).map((m) => [m.kind, m.destination]);
      assert.deepEqual(kinds, [
        ['sns-confirmation', 'foo@bar.com'],
        ['sns-notification', 'foo@bar.com'],
      ]);

      // A new address is a new subscription: pending, confirmation sent, nothing delivered yet.
      await deployStageResources(p.aws.platform, 'mail', resources('new@bar.com'));
      // The confirmation is sent after the deploy answers: wait for it before publishing.
      await waitForValue(async () => {
        const m = await outbox(p, arn);
        return m.length > 2 ? m : undefined;
      }, 'the new confirmation mail');
      await sns.send(new PublishCommand({ TopicArn: arn, Message: 'woof again' }));
      const after = (await outbox(p, arn)).slice(2).map((m) => [m.kind, m.destination]);
      assert.deepEqual(after, [['sns-confirmation', 'new@bar.com']]);
    });

    test('an address that is not one fails the deploy, naming the property', async () => {
      await assert.rejects(
        deployStageResources(p.aws.platform, 'mail-bad', {
          T: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'bad-mail' } },
          S: {
            Type: 'AWS::SNS::Subscription',
            Properties: { TopicArn: { Ref: 'T' }, Protocol: 'email', Endpoint: 'not an address' },
          },
        }),
        /Properties\.Endpoint/,
      );
    });
  });

describe('SNS email subscriptions by SMTP', () => {
  let p: EventsPlatform;
  let smtp: SMTPServer;
  const mail: { to: string[]; raw: string }[] = [];

  before(async () => {
    smtp = new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      onData(stream, session, done) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mail.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          done();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as AddressInfo).port;
    p = await startEventsPlatform(awsPlatformVariants[0]!, {
      label: 'sns smtp',
      options: { smtpUrl: `smtp://127.0.0.1:${port}`, smtpFrom: 'sns@nimbus.test' },
    });
  });
  after(async () => {
    await p?.close();
    await new Promise<void>((resolve) => smtp?.close(() => resolve()));
  });

  test('the confirmation and the notifications arrive by SMTP, none in the outbox', async () => {
    const arn = (await p.sns.send(new CreateTopicCommand({ Name: 'smtp-alerts' }))).TopicArn!;
    await p.sns.send(
      new SubscribeCommand({ TopicArn: arn, Protocol: 'email', Endpoint: 'oncall@example.com' }),
    );
    const confirmation = await waitForValue(() => mail[0], 'the confirmation mail');
    assert.deepEqual(confirmation.to, ['oncall@example.com']);
    assert.match(confirmation.raw, /Subject: AWS Notification - Subscription Confirmation/);
    assert.match(confirmation.raw, /From: sns@nimbus\.test/);
    // Quoted-printable may fold the link: unfold soft line breaks before reading it.
    const text = confirmation.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    assert.equal((await fetch(linkIn(text)!)).status, 200);
    await p.sns.send(new PublishCommand({ TopicArn: arn, Subject: 'Paged', Message: 'wake up' }));
    const note = await waitForValue(() => mail[1], 'the notification mail');
    assert.match(note.raw, /Subject: Paged/);
    assert.match(note.raw, /wake up/);
    assert.deepEqual(await outbox(p, arn), []);
  });
});
