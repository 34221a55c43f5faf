/**
 * Event buses and rules belong to the service stage whose deploy (or whose credentials) created
 * them: a `--service/--stage`-scoped key (what a function's session credentials are) reaches its
 * own stage's buses and rules and shared ones (the default bus), never another stage's
 * (AccessDeniedException), PutEvents and PutTargets included; ListEventBuses and ListRules show
 * only what it reaches; a `--read-only` key only reads. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateEventBusCommand,
  DeleteRuleCommand,
  DescribeEventBusCommand,
  DescribeRuleCommand,
  EventBridgeClient,
  ListEventBusesCommand,
  ListRulesCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { awsPlatformVariants } from '../../helpers/aws-platform.js';
import { type StageCallers, stageCallers } from '../../helpers/stage-callers.js';
import { failure } from '../s3/s3-platform.js';

const stageResources = (stage: string) => ({
  Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: `stage-${stage}-bus` } },
  OnDefault: {
    Type: 'AWS::Events::Rule',
    Properties: { Name: `stage-${stage}-rule`, EventPattern: { source: [stage] } },
  },
});
const pattern = JSON.stringify({ source: ['x'] });

for (const variant of awsPlatformVariants)
  describe(`EventBridge buses and rules belong to their service stage (${variant.name})`, () => {
    let callers: StageCallers<EventBridgeClient>;

    before(async () => {
      callers = await stageCallers(variant, {
        label: 'events-owners',
        client: (config) => new EventBridgeClient(config),
        resources: stageResources,
      });
      await callers.admin.send(new CreateEventBusCommand({ Name: 'shared-bus' }));
    });
    after(() => callers?.close());

    const denied = async (run: () => Promise<unknown>) => {
      const error = await failure(run);
      assert.equal(error.name, 'AccessDeniedException');
    };
    const entry = (bus: string) => ({
      EventBusName: bus,
      Source: 'x',
      DetailType: 't',
      Detail: '{}',
    });

    test("a stage's key uses its own buses and rules, the shared ones and the default bus", async () => {
      const sent = await callers.stageA.send(
        new PutEventsCommand({
          Entries: [entry('stage-a-bus'), entry('shared-bus'), entry('default')],
        }),
      );
      assert.equal(sent.FailedEntryCount, 0);
      await callers.stageA.send(new DescribeRuleCommand({ Name: 'stage-a-rule' }));
      await callers.stageA.send(
        new PutRuleCommand({
          Name: 'made-by-a',
          EventBusName: 'shared-bus',
          EventPattern: pattern,
        }),
      );
    });

    test("another stage's bus and rule are refused", async () => {
      await denied(() =>
        callers.stageA.send(new PutEventsCommand({ Entries: [entry('stage-b-bus')] })),
      );
      await denied(() => callers.stageA.send(new DescribeEventBusCommand({ Name: 'stage-b-bus' })));
      await denied(() =>
        callers.stageA.send(
          new PutRuleCommand({
            Name: 'sneaky',
            EventBusName: 'stage-b-bus',
            EventPattern: pattern,
          }),
        ),
      );
      await denied(() => callers.stageA.send(new DescribeRuleCommand({ Name: 'stage-b-rule' })));
      await denied(() => callers.stageA.send(new DeleteRuleCommand({ Name: 'stage-b-rule' })));
      // Its own rule may not deliver into another stage's bus.
      await denied(() =>
        callers.stageA.send(
          new PutTargetsCommand({
            Rule: 'stage-a-rule',
            Targets: [
              { Id: 'b', Arn: 'arn:aws:events:us-east-1:000000000000:event-bus/stage-b-bus' },
            ],
          }),
        ),
      );
      await callers.admin.send(new DescribeRuleCommand({ Name: 'stage-b-rule' }));
    });

    test('ListEventBuses and ListRules show a stage only what it reaches', async () => {
      const buses = (await callers.stageA.send(new ListEventBusesCommand({}))).EventBuses!.map(
        (b) => b.Name,
      );
      assert.deepEqual(buses.sort(), ['default', 'shared-bus', 'stage-a-bus']);
      const rules = (await callers.stageA.send(new ListRulesCommand({}))).Rules!.map((r) => r.Name);
      assert.deepEqual(rules, ['stage-a-rule']);
      const all = (await callers.admin.send(new ListRulesCommand({}))).Rules!.map((r) => r.Name);
      assert.deepEqual(all.sort(), ['stage-a-rule', 'stage-b-rule']);
      // What stage a made on the shared bus is stage a's.
      const stageB = await callers.stageClient('b');
      await denied(() =>
        stageB.send(new DescribeRuleCommand({ Name: 'made-by-a', EventBusName: 'shared-bus' })),
      );
    });

    test('a read-only key reads every bus but puts no events', async () => {
      await callers.readOnly.send(new DescribeEventBusCommand({ Name: 'stage-b-bus' }));
      await denied(() =>
        callers.readOnly.send(new PutEventsCommand({ Entries: [entry('shared-bus')] })),
      );
    });
  });
