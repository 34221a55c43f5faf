/**
 * The shipped order-pipeline example, deployed through the CLI onto a real platform (SQLite and
 * PostgreSQL) with real function processes: HTTP -> SQS -> function (partial batch failures)
 * -> SNS -> function and EventBridge -> function / rule -> queue, the failing order in the
 * dead-letter queue; `nimbus remove` takes every declared resource away.
 */
import assert from 'node:assert/strict';
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  EventBridgeClient,
  ListEventBusesCommand,
  ListRulesCommand,
} from '@aws-sdk/client-eventbridge';
import { ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  DeleteMessageCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  type AwsPlatform,
  awsPlatformVariants,
  startAwsPlatform,
} from '../helpers/aws-platform.js';
import { sdkSkip } from '../helpers/function-reach.js';
import { repoRoot } from '../helpers/repo-root.js';
import { runCli } from '../helpers/run-cli.js';
import { waitUntil } from '../helpers/wait-for.js';

for (const variant of awsPlatformVariants)
  describe(`examples/order-pipeline on ${variant.name}`, { skip: sdkSkip }, () => {
    let aws: AwsPlatform;
    let serviceDir: string;
    let env: Record<string, string>;
    let sqs: SQSClient;
    const config = () => ({
      endpoint: aws.platform.url,
      region: 'us-east-1',
      credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
    });

    before(async () => {
      aws = await startAwsPlatform(variant, { label: 'order pipeline', runFunctions: true });
      serviceDir = join(aws.dataDir, 'order-pipeline');
      await cp(join(repoRoot, 'examples', 'order-pipeline'), serviceDir, { recursive: true });
      await mkdir(join(aws.dataDir, 'home'));
      env = {
        HOME: join(aws.dataDir, 'home'),
        NIMBUS_ENDPOINT: aws.platform.url,
        NIMBUS_TOKEN: aws.platform.adminToken,
      };
      const deployed = await runCli(['deploy'], { cwd: serviceDir, env });
      assert.equal(deployed.code, 0, deployed.stderr);
      sqs = new SQSClient(config());
    });
    after(() => aws.close());

    /** Everything in a queue so far, bodies parsed, deleted as read. */
    const taken = new Map<string, unknown[]>();
    const take = async (queue: string): Promise<unknown[]> => {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue }));
      const got = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      for (const m of got.Messages ?? []) {
        await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
      }
      const all = [
        ...(taken.get(queue) ?? []),
        ...(got.Messages ?? []).map((m) => JSON.parse(m.Body!)),
      ];
      taken.set(queue, all);
      return all;
    };
    const post = (body: string) =>
      fetch(`${aws.platform.url}/order-pipeline-dev/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });

    test('orders flow from the API to every consumer; the failing one reaches the dead letters', async () => {
      const ids: string[] = [];
      for (const order of [
        { sku: 'book', quantity: 1 },
        { sku: 'pen', quantity: 3 },
        { sku: 'OUT-OF-STOCK', quantity: 1 },
      ]) {
        const res = await post(JSON.stringify(order));
        const text = await res.text();
        assert.equal(res.status, 202, text);
        ids.push((JSON.parse(text) as { orderId: string }).orderId);
      }
      const good = ids.slice(0, 2).sort();
      const idsOf = (items: unknown[]) =>
        items
          .map(
            (i) =>
              (i as { orderId?: string; order?: string }).orderId ?? (i as { order: string }).order,
          )
          .sort();
      const arrived = async (queue: string, want: string[]) => {
        await waitUntil(
          async () => (await take(queue)).length >= want.length,
          `${want.length} messages in ${queue}`,
          60_000,
        );
        assert.deepEqual(idsOf(taken.get(queue)!), want);
      };
      await arrived('order-pipeline-shipments', good);
      await arrived('order-pipeline-notifications', good);
      await arrived('order-pipeline-audit', good);
      await arrived('order-pipeline-orders-dlq', [ids[2]!]);
      const shipment = taken.get('order-pipeline-shipments')![0] as { from: string };
      assert.equal(shipment.from, 'shop.orders');
      const audit = taken.get('order-pipeline-audit')![0] as { kind: string };
      assert.equal(audit.kind, 'OrderAccepted');
      const note = taken
        .get('order-pipeline-notifications')!
        .find((n) => (n as { orderId: string }).orderId === ids[1]) as { text: string };
      assert.match(note.text, /3 x pen accepted/);
      // Nothing more comes: each accepted order went once to each consumer.
      assert.equal((await take('order-pipeline-shipments')).length, 2);
    });

    test('a bad order is refused by the API and never queued', async () => {
      const res = await post('{"sku": 1}');
      assert.equal(res.status, 400);
    });

    test('nimbus remove takes the queues, the topic, the bus and its rule away', async () => {
      const removed = await runCli(['remove'], { cwd: serviceDir, env });
      assert.equal(removed.code, 0, removed.stderr);
      const queues = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'order-pipeline' }));
      assert.deepEqual(queues.QueueUrls ?? [], []);
      const topics = await new SNSClient(config()).send(new ListTopicsCommand({}));
      assert.equal(
        (topics.Topics ?? []).some((t) => t.TopicArn?.endsWith(':order-pipeline-accepted')),
        false,
      );
      const eb = new EventBridgeClient(config());
      const buses = await eb.send(new ListEventBusesCommand({}));
      assert.deepEqual(
        buses.EventBuses?.map((b) => b.Name),
        ['default'],
      );
      await assert.rejects(eb.send(new ListRulesCommand({ EventBusName: 'order-pipeline' })), {
        name: 'ResourceNotFoundException',
      });
    });
  });
