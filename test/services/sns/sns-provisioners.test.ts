/** AWS::SNS::Topic and AWS::SNS::Subscription provisioners over a real SQLite store. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ResourcePropertyError,
  type ResourceScope,
} from '../../../src/platform/aws/resources/provisioner.js';
import {
  snsSubscriptionProvisioner,
  snsTopicProvisioner,
} from '../../../src/services/sns/sns-provisioners.js';
import { SnsStore } from '../../../src/services/sns/sns-store.js';
import { databaseVariants } from '../../helpers/store-variants.js';

const scope: ResourceScope = {
  service: 'shop',
  stage: 'dev',
  region: 'us-east-1',
  accountId: '000000000000',
  platformUrl: 'http://127.0.0.1:1',
};
const fn = 'arn:aws:lambda:us-east-1:000000000000:function:shop-dev-worker';
const queue = 'arn:aws:sqs:us-east-1:000000000000:orders';

describe('SNS resource provisioners', () => {
  let store: SnsStore;
  let cleanup: () => Promise<void>;
  const clock = { now: () => 1_000 };
  const topics = () => snsTopicProvisioner({ store, clock });
  const subs = () => snsSubscriptionProvisioner({ store, clock });

  before(async () => {
    const opened = await databaseVariants[0]!.open();
    store = new SnsStore(opened.db);
    cleanup = opened.cleanup;
  });
  after(() => cleanup());

  test('a topic: Ref is its ARN, GetAtt TopicArn and TopicName; names follow the stage', () => {
    const named = topics().attributes(scope, {
      logicalId: 'Orders',
      type: 'AWS::SNS::Topic',
      properties: { TopicName: 'orders' },
    });
    assert.deepEqual(named, {
      ref: 'arn:aws:sns:us-east-1:000000000000:orders',
      attributes: { TopicArn: 'arn:aws:sns:us-east-1:000000000000:orders', TopicName: 'orders' },
      physicalId: 'orders',
    });
    const generated = topics().attributes(scope, {
      logicalId: 'Ledger',
      type: 'AWS::SNS::Topic',
      properties: { FifoTopic: true },
    });
    assert.equal(generated.physicalId, 'shop-dev-Ledger.fifo');
  });

  test('apply creates the topic and its inline subscriptions, again changes nothing, remove deletes', async () => {
    const d = {
      logicalId: 'Orders',
      type: 'AWS::SNS::Topic',
      properties: {
        TopicName: 'orders',
        DisplayName: 'Orders',
        Subscription: [{ Protocol: 'lambda', Endpoint: fn }],
      },
    };
    const first = await topics().apply(scope, d, undefined);
    const again = await topics().apply(scope, d, first);
    assert.deepEqual(again, first);
    assert.equal((await store.findTopic('orders'))?.attributes.DisplayName, 'Orders');
    const listed = await store.listSubscriptions('orders');
    assert.deepEqual(
      listed.map((s) => [s.protocol, s.endpoint]),
      [['lambda', fn]],
    );
    const trimmed = { ...d, properties: { TopicName: 'orders', DisplayName: 'Orders' } };
    await topics().apply(scope, trimmed, again);
    assert.deepEqual(await store.listSubscriptions('orders'), []);

    const sd = {
      logicalId: 'OrdersToQueue',
      type: 'AWS::SNS::Subscription',
      properties: {
        TopicArn: first.ref,
        Protocol: 'sqs',
        Endpoint: queue,
        RawMessageDelivery: true,
        FilterPolicy: { kind: ['order'] },
      },
    };
    const sub = await subs().apply(scope, sd, undefined);
    assert.equal(sub.ref, subs().attributes(scope, sd).ref);
    assert.ok(sub.ref.startsWith(`${first.ref}:`));
    const row = await store.findSubscription(sub.ref);
    assert.equal(row?.attributes.RawMessageDelivery, 'true');
    assert.deepEqual(JSON.parse(row!.attributes.FilterPolicy!), { kind: ['order'] });
    assert.deepEqual(await subs().remove(scope, sub), { removed: true });
    assert.equal(await store.findSubscription(sub.ref), undefined);
    assert.deepEqual(await topics().remove(scope, first), { removed: true });
    assert.equal(await store.findTopic('orders'), undefined);
  });

  test('properties it cannot honour are refused with their path', async () => {
    const refuse = (run: () => unknown, property: string) =>
      assert.throws(
        run,
        (e: unknown) => e instanceof ResourcePropertyError && e.property === property,
      );
    refuse(
      () =>
        topics().attributes(scope, {
          logicalId: 'T',
          type: 'AWS::SNS::Topic',
          properties: { Bogus: 1 },
        }),
      'Properties.Bogus',
    );
    refuse(
      () =>
        topics().attributes(scope, {
          logicalId: 'T',
          type: 'AWS::SNS::Topic',
          properties: { TopicName: 'bad name' },
        }),
      'Properties.TopicName',
    );
    refuse(
      () =>
        topics().attributes(scope, {
          logicalId: 'T',
          type: 'AWS::SNS::Topic',
          properties: { Subscription: [{ Protocol: 'sms', Endpoint: '+15555550100' }] },
        }),
      'Properties.Subscription[0]',
    );
    const sub = (properties: Record<string, unknown>) => () =>
      subs().attributes(scope, { logicalId: 'S', type: 'AWS::SNS::Subscription', properties });
    refuse(sub({ Protocol: 'sqs', Endpoint: queue }), 'Properties.TopicArn');
    refuse(
      sub({
        TopicArn: 'arn:aws:sns:us-east-1:000000000000:t',
        Protocol: 'sqs',
        Endpoint: queue,
        FilterPolicy: { a: 'x' },
      }),
      'Properties',
    );
    await assert.rejects(
      subs().apply(
        scope,
        {
          logicalId: 'S',
          type: 'AWS::SNS::Subscription',
          properties: {
            TopicArn: 'arn:aws:sns:us-east-1:000000000000:none',
            Protocol: 'sqs',
            Endpoint: queue,
          },
        },
        undefined,
      ),
      ResourcePropertyError,
    );
  });
});
