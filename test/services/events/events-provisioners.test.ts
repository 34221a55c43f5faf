/** AWS::Events::EventBus and AWS::Events::Rule provisioners over a real store, both dialects. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ResourcePropertyError,
  type ResourceScope,
} from '../../../src/platform/aws/resources/provisioner.js';
import {
  eventBusProvisioner,
  eventRuleProvisioner,
} from '../../../src/services/events/events-provisioners.js';
import { EventsStore } from '../../../src/services/events/events-store.js';
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
const dlq = 'arn:aws:sqs:us-east-1:000000000000:orders-dlq';

for (const variant of databaseVariants) {
  describe(`EventBridge resource provisioners (${variant.name})`, () => {
    let store: EventsStore;
    let cleanup: () => Promise<void>;
    let changed = 0;
    const clock = { now: () => 1_000 };
    const deps = () => ({ store, clock, onRulesChanged: () => changed++ });

    before(async () => {
      const opened = await variant.open();
      store = new EventsStore(opened.db);
      cleanup = opened.cleanup;
    });
    after(() => cleanup());

    const busDecl = {
      logicalId: 'OrdersBus',
      type: 'AWS::Events::EventBus',
      properties: { Name: 'orders', Description: 'order events' },
    };
    const ruleDecl = {
      logicalId: 'Shipped',
      type: 'AWS::Events::Rule',
      properties: {
        EventBusName: 'orders',
        EventPattern: { source: ['shop'], 'detail-type': ['OrderShipped'] },
        Targets: [
          {
            Id: 'worker',
            Arn: fn,
            InputTransformer: {
              InputPathsMap: { id: '$.detail.id' },
              InputTemplate: '{"order": <id>}',
            },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
            DeadLetterConfig: { Arn: dlq },
          },
          { Id: 'audit', Arn: queue, InputPath: '$.detail' },
        ],
      },
    };

    test('a bus: Ref is its name, GetAtt Arn and Name; apply is idempotent', async () => {
      const bus = eventBusProvisioner(deps());
      assert.deepEqual(bus.attributes(scope, busDecl), {
        ref: 'orders',
        attributes: {
          Arn: 'arn:aws:events:us-east-1:000000000000:event-bus/orders',
          Name: 'orders',
        },
        physicalId: 'orders',
      });
      const first = await bus.apply(scope, busDecl, undefined);
      assert.deepEqual(await bus.apply(scope, busDecl, first), first);
      assert.equal((await store.findBus('orders'))?.description, 'order events');
      // Someone else's bus is never taken over.
      await assert.rejects(
        eventBusProvisioner(deps()).apply(scope, { ...busDecl, logicalId: 'Other' }, undefined),
        /already exists/,
      );
    });

    test('a rule on the bus: Ref bus|name, GetAtt Arn, targets as declared, then trimmed', async () => {
      const rules = eventRuleProvisioner(deps());
      const attrs = rules.attributes(scope, ruleDecl);
      assert.match(attrs.ref, /^orders\|shop-dev-Shipped-[0-9a-f]{12}$/);
      const name = attrs.ref.split('|')[1]!;
      assert.equal(
        attrs.attributes.Arn,
        `arn:aws:events:us-east-1:000000000000:rule/orders/${name}`,
      );
      const before = changed;
      const first = await rules.apply(scope, ruleDecl, undefined);
      assert.equal(changed, before + 1);
      const rule = await store.findRule('orders', name);
      assert.equal(rule?.settings.State, 'ENABLED');
      assert.deepEqual(
        JSON.parse(rule?.settings.EventPattern ?? ''),
        ruleDecl.properties.EventPattern,
      );
      const targets = await store.targets('orders', name);
      assert.deepEqual(
        targets.map((t) => t.Id),
        ['audit', 'worker'],
      );
      assert.deepEqual(targets[1]?.RetryPolicy, {
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 60,
      });
      assert.deepEqual(targets[1]?.DeadLetterConfig, { Arn: dlq });
      const trimmed = {
        ...ruleDecl,
        properties: {
          ...ruleDecl.properties,
          State: 'DISABLED',
          Targets: [ruleDecl.properties.Targets[1]],
        },
      };
      await rules.apply(scope, trimmed, first);
      assert.deepEqual(
        (await store.targets('orders', name)).map((t) => t.Id),
        ['audit'],
      );
      assert.equal((await store.findRule('orders', name))?.settings.State, 'DISABLED');
      // A bus with rules stays, and says why.
      const bus = eventBusProvisioner(deps());
      const busRecord = { ...bus.attributes(scope, busDecl), ...busDecl };
      const kept = await bus.remove(scope, busRecord);
      assert.equal(kept.removed, false);
      assert.deepEqual(await rules.remove(scope, { ...first }), { removed: true });
      assert.equal(await store.findRule('orders', name), undefined);
      assert.deepEqual(await bus.remove(scope, busRecord), { removed: true });
      assert.equal(await store.findBus('orders'), undefined);
    });

    test('a schedule rule on the default bus: Ref is its name', async () => {
      const rules = eventRuleProvisioner(deps());
      const d = {
        logicalId: 'Nightly',
        type: 'AWS::Events::Rule',
        properties: {
          Name: 'nightly',
          ScheduleExpression: 'cron(0 3 * * ? *)',
          Targets: [{ Id: 'q', Arn: queue }],
        },
      };
      const applied = await rules.apply(scope, d, undefined);
      assert.equal(applied.ref, 'nightly');
      assert.equal(
        (await store.findRule('default', 'nightly'))?.settings.ScheduleExpression,
        'cron(0 3 * * ? *)',
      );
      await rules.remove(scope, applied);
    });

    test('a rule whose target is an event bus: the bus must exist', async () => {
      const rules = eventRuleProvisioner(deps());
      const d = (bus: string) => ({
        logicalId: 'Forward',
        type: 'AWS::Events::Rule',
        properties: {
          Name: 'forward',
          EventPattern: { source: ['shop'] },
          Targets: [{ Id: 'bus', Arn: `arn:aws:events:us-east-1:000000000000:event-bus/${bus}` }],
        },
      });
      await assert.rejects(
        rules.apply(scope, d('nowhere'), undefined),
        (e) => e instanceof ResourcePropertyError && e.property === 'Properties.Targets[0].Arn',
      );
      assert.equal(await store.findRule('default', 'forward'), undefined);
      await store.createBus({ name: 'onward', createdAt: 1 });
      const applied = await rules.apply(scope, d('onward'), undefined);
      assert.deepEqual(
        (await store.targets('default', 'forward')).map((t) => t.Arn),
        ['arn:aws:events:us-east-1:000000000000:event-bus/onward'],
      );
      await rules.remove(scope, applied);
      await store.deleteBus('onward');
    });

    test('bad properties are refused, naming the property', () => {
      const rules = eventRuleProvisioner(deps());
      const refused = (properties: Record<string, unknown>, property: RegExp) => {
        assert.throws(
          () => rules.attributes(scope, { logicalId: 'R', type: 'AWS::Events::Rule', properties }),
          (e) => e instanceof ResourcePropertyError && property.test(e.property),
        );
      };
      refused({ EventPattern: { source: [{ nope: 1 }] } }, /^Properties\.EventPattern$/);
      refused({ ScheduleExpression: 'rate(0 minutes)' }, /^Properties\.ScheduleExpression$/);
      refused(
        { ScheduleExpression: 'rate(5 minutes)', EventBusName: 'orders' },
        /ScheduleExpression/,
      );
      refused({ State: 'ENABLED' }, /^Properties$/);
      refused(
        { EventPattern: { source: ['x'] }, Targets: [{ Id: 'a', Arn: 'arn:aws:s3:::b' }] },
        /Targets\[0\]/,
      );
      refused({ EventPattern: { source: ['x'] }, Bogus: 1 }, /Bogus/);
      assert.throws(
        () =>
          eventBusProvisioner(deps()).attributes(scope, {
            logicalId: 'B',
            type: 'AWS::Events::EventBus',
            properties: {},
          }),
        (e) => e instanceof ResourcePropertyError && e.property === 'Properties.Name',
      );
    });
  });
}
