/**
 * SNS fan-out to a function: a Lambda subscription invokes the deployed function asynchronously
 * with the SNS record shape (its onSuccess destination hands the event back to a local hook),
 * filter policies apply, and an unknown function's deliveries land in the dead-letter queue.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateTopicCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  type AwsPlatform,
  awsPlatformVariants,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { runCli } from '../../helpers/run-cli.js';
import { waitForValue } from '../../helpers/wait-for.js';

interface Delivered {
  requestPayload: {
    Records: { EventSource: string; EventSubscriptionArn: string; Sns: Record<string, unknown> }[];
  };
}

for (const variant of awsPlatformVariants)
  describe(`SNS to a function on ${variant.name}`, () => {
    let aws: AwsPlatform;
    let sns: SNSClient;
    let hook: Server;
    const delivered: Delivered[] = [];
    let cliEnv: Record<string, string>;
    let serviceDir: string;
    let originalYml: string;

    before(async () => {
      hook = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          delivered.push(JSON.parse(body));
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
      const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
      aws = await startAwsPlatform(variant, { label: 'sns lambda', runFunctions: true });
      const cwd = join(aws.dataDir, 'svc');
      await mkdir(join(cwd, 'home'), { recursive: true });
      await writeFile(
        join(cwd, 'serverless.yml'),
        [
          'service: notes',
          'provider: { name: aws, runtime: nodejs20.x }',
          'functions:',
          '  listener:',
          '    handler: handler.listener',
          `    destinations: { onSuccess: '${hookUrl}' }`,
          '  relay:',
          '    handler: handler.listener',
          "    destinations: { onSuccess: 'arn:aws:sns:us-east-1:000000000000:relayed' }",
          '  broken:',
          '    handler: handler.broken',
          '    maximumRetryAttempts: 0',
          "    destinations: { onFailure: 'arn:aws:sqs:us-east-1:000000000000:failures' }",
          '  alerted:',
          '    handler: handler.listener',
          `    destinations: { onSuccess: '${hookUrl}' }`,
          '    events:',
          '      - sns: { topicName: alerts, displayName: Alerts, filterPolicyScope: MessageBody, filterPolicy: { level: [{ prefix: crit }] } }',
          '',
        ].join('\n'),
      );
      await writeFile(
        join(cwd, 'handler.js'),
        'exports.listener = async (e) => ({ ok: true });\nexports.broken = async () => { throw new Error("boom"); };\n',
      );
      cliEnv = {
        HOME: join(cwd, 'home'),
        NIMBUS_ENDPOINT: aws.platform.url,
        NIMBUS_TOKEN: aws.platform.adminToken,
      };
      serviceDir = cwd;
      originalYml = await readFile(join(cwd, 'serverless.yml'), 'utf8');
      const res = await runCli(['deploy'], { cwd, env: cliEnv });
      assert.equal(res.code, 0, res.stderr);
      sns = new SNSClient({
        endpoint: aws.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
        maxAttempts: 1,
      });
    });
    after(async () => {
      sns?.destroy();
      await aws?.close();
      await new Promise((r) => hook?.close(r));
    });

    test('a published message invokes the function with the SNS record shape', async () => {
      const TopicArn = (await sns.send(new CreateTopicCommand({ Name: 'notes' }))).TopicArn!;
      const sub = await sns.send(
        new SubscribeCommand({
          TopicArn,
          Protocol: 'lambda',
          Endpoint: 'arn:aws:lambda:us-east-1:000000000000:function:notes-dev-listener',
          Attributes: { FilterPolicy: JSON.stringify({ kind: ['keep'] }) },
        }),
      );
      await sns.send(
        new PublishCommand({
          TopicArn,
          Message: 'dropped',
          MessageAttributes: { kind: { DataType: 'String', StringValue: 'drop' } },
        }),
      );
      const sent = await sns.send(
        new PublishCommand({
          TopicArn,
          Subject: 'hi',
          Message: 'kept',
          MessageAttributes: { kind: { DataType: 'String', StringValue: 'keep' } },
        }),
      );
      const record = await waitForValue(
        () => delivered.find((d) => d.requestPayload.Records[0]?.Sns.MessageId === sent.MessageId),
        'the function invocation',
        30_000,
      );
      const r = record.requestPayload.Records[0]!;
      assert.equal(r.EventSource, 'aws:sns');
      assert.equal(r.EventSubscriptionArn, sub.SubscriptionArn);
      assert.equal(r.Sns.Type, 'Notification');
      assert.equal(r.Sns.TopicArn, TopicArn);
      assert.equal(r.Sns.Subject, 'hi');
      assert.equal(r.Sns.Message, 'kept');
      assert.deepEqual(r.Sns.MessageAttributes, { kind: { Type: 'String', Value: 'keep' } });
      for (const field of [
        'Timestamp',
        'SignatureVersion',
        'Signature',
        'SigningCertUrl',
        'UnsubscribeUrl',
      ]) {
        assert.ok(field in r.Sns, field);
      }
      assert.ok(!delivered.some((d) => d.requestPayload.Records[0]?.Sns.Message === 'dropped'));
    });

    test('an sns event creates its topic and subscribes the function; removing the event unsubscribes', async () => {
      const TopicArn = 'arn:aws:sns:us-east-1:000000000000:alerts';
      const attrs = await sns.send(new GetTopicAttributesCommand({ TopicArn }));
      assert.equal(attrs.Attributes?.DisplayName, 'Alerts');
      const subs = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
      assert.equal(subs.Subscriptions?.length, 1);
      assert.match(subs.Subscriptions![0]!.Endpoint!, /:function:notes-dev-alerted:dev$/);
      await sns.send(new PublishCommand({ TopicArn, Message: JSON.stringify({ level: 'info' }) }));
      const sent = await sns.send(
        new PublishCommand({ TopicArn, Message: JSON.stringify({ level: 'critical' }) }),
      );
      const record = await waitForValue(
        () => delivered.find((d) => d.requestPayload.Records[0]?.Sns.MessageId === sent.MessageId),
        'the alerted function invocation',
        30_000,
      );
      assert.equal(
        record.requestPayload.Records[0]!.EventSubscriptionArn,
        subs.Subscriptions![0]!.SubscriptionArn,
      );
      assert.ok(
        !delivered.some((d) => String(d.requestPayload.Records[0]?.Sns.Message).includes('info')),
      );

      const yml = join(serviceDir, 'serverless.yml');
      const text = await readFile(yml, 'utf8');
      await writeFile(yml, text.replace(/ {4}events:\n.*\n/, ''));
      const res = await runCli(['deploy'], { cwd: serviceDir, env: cliEnv });
      assert.equal(res.code, 0, res.stderr);
      await waitForValue(async () => {
        const left = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
        return (left.Subscriptions ?? []).length === 0 ? true : undefined;
      }, 'the subscription to go');
    });

    test('a bad filter policy in an sns event fails the deploy with its place', async () => {
      const yml = join(serviceDir, 'serverless.yml');
      const text = await readFile(yml, 'utf8');
      await writeFile(yml, originalYml.replace('[{ prefix: crit }]', '[{ numeric: [">", "x"] }]'));
      const res = await runCli(['deploy'], { cwd: serviceDir, env: cliEnv });
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /events\[0\]\.sns/);
      assert.match(res.stderr, /numeric/);
      await writeFile(yml, text);
    });

    test('async destinations deliver to an SQS queue and to an SNS topic', async () => {
      const sqs = new SQSClient({
        endpoint: aws.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
        maxAttempts: 1,
      });
      try {
        const failures = (await sqs.send(new CreateQueueCommand({ QueueName: 'failures' })))
          .QueueUrl!;
        const relayedQueue = (await sqs.send(new CreateQueueCommand({ QueueName: 'relayed-q' })))
          .QueueUrl!;
        const TopicArn = (await sns.send(new CreateTopicCommand({ Name: 'relayed' }))).TopicArn!;
        await sns.send(
          new SubscribeCommand({
            TopicArn,
            Protocol: 'sqs',
            Endpoint: 'arn:aws:sqs:us-east-1:000000000000:relayed-q',
            Attributes: { RawMessageDelivery: 'true' },
          }),
        );
        const invoke = (name: string, payload: unknown) =>
          fetch(`${aws.platform.url}/2015-03-31/functions/${name}/invocations`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${aws.platform.adminToken}`,
              'x-amz-invocation-type': 'Event',
            },
            body: JSON.stringify(payload),
          });
        assert.equal((await invoke('notes-dev-broken', { n: 1 })).status, 202);
        assert.equal((await invoke('notes-dev-relay', { n: 2 })).status, 202);
        const receiveOne = (QueueUrl: string, what: string) =>
          waitForValue(
            async () => {
              const r = await sqs.send(
                new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1 }),
              );
              return r.Messages?.[0];
            },
            what,
            30_000,
          );
        const failed = JSON.parse((await receiveOne(failures, 'the onFailure record')).Body!);
        assert.equal(failed.requestContext.condition, 'RetriesExhausted');
        assert.deepEqual(failed.requestPayload, { n: 1 });
        const relayed = JSON.parse((await receiveOne(relayedQueue, 'the onSuccess record')).Body!);
        assert.equal(relayed.requestContext.condition, 'Success');
        assert.deepEqual(relayed.responsePayload, { ok: true });
      } finally {
        sqs.destroy();
      }
    });
  });
