/**
 * EventBridge through @aws-sdk/client-eventbridge against a running platform, on SQLite and
 * PostgreSQL: buses, rules, targets, PutEvents and TestEventPattern; events matched through
 * rules (prefix, anything-but, numeric, exists, $or, wildcard) into SQS queue targets, an
 * input transformer, an SNS topic target, the dead-letter queue of a target that is gone, and
 * bad input in EventBridge's own error shape.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  DescribeEventBusCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  ListEventBusesCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { type AwsPlatform, awsPlatformVariants } from '../../helpers/aws-platform.js';
import {
  account,
  type EventsPlatform,
  queueArn,
  startEventsPlatform,
} from '../../helpers/events-platform.js';

for (const variant of awsPlatformVariants)
  describe(`EventBridge API on ${variant.name}`, () => {
    let events: EventsPlatform;
    let aws: AwsPlatform;
    let eb: EventBridgeClient;
    let sns: SNSClient;

    before(async () => {
      events = await startEventsPlatform(variant, { label: 'eventbridge' });
      ({ aws, eb, sns } = events);
    });
    after(() => events?.close());

    const queue = (name: string) => events.queue(name);
    const drain = (url: string) => events.drain(url, 2);

    const put = (
      entries: { Source?: string; DetailType?: string; Detail?: string; EventBusName?: string }[],
    ) => eb.send(new PutEventsCommand({ Entries: entries as never }));

    test('buses: the default bus exists; create, describe, list, delete', async () => {
      const list0 = await eb.send(new ListEventBusesCommand({}));
      assert.equal(list0.EventBuses?.[0]?.Name, 'default');
      const created = await eb.send(
        new CreateEventBusCommand({ Name: 'orders', Description: 'order events' }),
      );
      assert.equal(created.EventBusArn, `arn:aws:events:us-east-1:${account}:event-bus/orders`);
      const described = await eb.send(new DescribeEventBusCommand({ Name: created.EventBusArn }));
      assert.equal(described.Name, 'orders');
      assert.equal(described.Description, 'order events');
      const def = await eb.send(new DescribeEventBusCommand({}));
      assert.equal(def.Name, 'default');
      const list = await eb.send(new ListEventBusesCommand({ NamePrefix: 'ord' }));
      assert.deepEqual(
        list.EventBuses?.map((b) => b.Name),
        ['orders'],
      );
      await assert.rejects(eb.send(new CreateEventBusCommand({ Name: 'orders' })), {
        name: 'ResourceAlreadyExistsException',
      });
      await eb.send(new CreateEventBusCommand({ Name: 'scratch' }));
      await eb.send(new DeleteEventBusCommand({ Name: 'scratch' }));
      await assert.rejects(eb.send(new DescribeEventBusCommand({ Name: 'scratch' })), {
        name: 'ResourceNotFoundException',
      });
      await assert.rejects(eb.send(new DeleteEventBusCommand({ Name: 'default' })), {
        name: 'ValidationException',
      });
    });

    test('rules and targets: put, describe, list, disable, enable, targets, delete', async () => {
      const pattern = JSON.stringify({ source: ['shop'] });
      const { RuleArn } = await eb.send(
        new PutRuleCommand({
          Name: 'r1',
          EventBusName: 'orders',
          EventPattern: pattern,
          Description: 'd',
        }),
      );
      assert.equal(RuleArn, `arn:aws:events:us-east-1:${account}:rule/orders/r1`);
      const d = await eb.send(new DescribeRuleCommand({ Name: 'r1', EventBusName: 'orders' }));
      assert.equal(d.State, 'ENABLED');
      assert.equal(d.EventPattern, pattern);
      assert.equal(d.Description, 'd');
      await eb.send(new DisableRuleCommand({ Name: 'r1', EventBusName: 'orders' }));
      assert.equal(
        (await eb.send(new DescribeRuleCommand({ Name: 'r1', EventBusName: 'orders' }))).State,
        'DISABLED',
      );
      await eb.send(new EnableRuleCommand({ Name: 'r1', EventBusName: 'orders' }));
      const sched = await eb.send(
        new PutRuleCommand({ Name: 'tick', ScheduleExpression: 'rate(5 minutes)' }),
      );
      assert.equal(sched.RuleArn, `arn:aws:events:us-east-1:${account}:rule/tick`);
      const rules = await eb.send(new ListRulesCommand({ EventBusName: 'orders' }));
      assert.deepEqual(
        rules.Rules?.map((r) => r.Name),
        ['r1'],
      );
      await queue('t1');
      const targets = await eb.send(
        new PutTargetsCommand({
          Rule: 'r1',
          EventBusName: 'orders',
          Targets: [
            { Id: 'a', Arn: queueArn('t1'), InputPath: '$.detail' },
            {
              Id: 'b',
              Arn: queueArn('t1'),
              RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 120 },
              DeadLetterConfig: { Arn: queueArn('t1') },
            },
          ],
        }),
      );
      assert.equal(targets.FailedEntryCount, 0);
      const listed = await eb.send(
        new ListTargetsByRuleCommand({ Rule: 'r1', EventBusName: 'orders' }),
      );
      assert.deepEqual(
        listed.Targets?.map((t) => t.Id),
        ['a', 'b'],
      );
      assert.equal(listed.Targets?.[1]?.RetryPolicy?.MaximumRetryAttempts, 3);
      await assert.rejects(eb.send(new DeleteRuleCommand({ Name: 'r1', EventBusName: 'orders' })), {
        name: 'ValidationException',
      });
      await assert.rejects(eb.send(new DeleteEventBusCommand({ Name: 'orders' })), {
        name: 'ValidationException',
      });
      await eb.send(
        new RemoveTargetsCommand({ Rule: 'r1', EventBusName: 'orders', Ids: ['a', 'b'] }),
      );
      await eb.send(new DeleteRuleCommand({ Name: 'r1', EventBusName: 'orders' }));
      await eb.send(new DeleteRuleCommand({ Name: 'tick' }));
      await assert.rejects(
        eb.send(new DescribeRuleCommand({ Name: 'r1', EventBusName: 'orders' })),
        {
          name: 'ResourceNotFoundException',
        },
      );
    });

    test('PutEvents matches events through rules with the pattern operators', async () => {
      await eb.send(new CreateEventBusCommand({ Name: 'match' }));
      const cases: [string, object][] = [
        ['prefix', { source: [{ prefix: 'com.shop' }] }],
        [
          'anythingbut',
          { 'detail-type': [{ 'anything-but': ['Ignored'] }], source: ['com.shop.orders'] },
        ],
        ['numeric', { detail: { amount: [{ numeric: ['>', 100, '<=', 500] }] } }],
        ['exists', { detail: { coupon: [{ exists: true }] } }],
        [
          'or',
          {
            $or: [
              { detail: { tier: ['gold'] } },
              { detail: { amount: [{ numeric: ['>=', 1000] }] } },
            ],
          },
        ],
        ['wildcard', { detail: { sku: [{ wildcard: 'ab-*-z' }] } }],
      ];
      const urls: Record<string, string> = {};
      for (const [name, pattern] of cases) {
        urls[name] = await queue(`match-${name}`);
        await eb.send(
          new PutRuleCommand({
            Name: name,
            EventBusName: 'match',
            EventPattern: JSON.stringify(pattern),
          }),
        );
        await eb.send(
          new PutTargetsCommand({
            Rule: name,
            EventBusName: 'match',
            Targets: [{ Id: 'q', Arn: queueArn(`match-${name}`) }],
          }),
        );
      }
      const events = [
        { n: 1, src: 'com.shop.orders', type: 'Created', detail: { amount: 150, sku: 'ab-123-z' } },
        { n: 2, src: 'com.shop.orders', type: 'Ignored', detail: { amount: 50, coupon: 'X' } },
        {
          n: 3,
          src: 'billing',
          type: 'Paid',
          detail: { amount: 2000, tier: 'silver', sku: 'ab-z' },
        },
        { n: 4, src: 'billing', type: 'Paid', detail: { amount: 10, tier: 'gold', coupon: null } },
      ];
      const out = await put(
        events.map((e) => ({
          Source: e.src,
          DetailType: e.type,
          Detail: JSON.stringify({ n: e.n, ...e.detail }),
          EventBusName: 'match',
        })),
      );
      assert.equal(out.FailedEntryCount, 0);
      assert.equal(out.Entries?.length, 4);
      assert.ok(out.Entries?.every((e) => typeof e.EventId === 'string'));
      const got = async (name: string) =>
        (await drain(urls[name]!))
          .map((m) => (JSON.parse(m.Body).detail as { n: number }).n)
          .sort();
      assert.deepEqual(await got('prefix'), [1, 2]);
      assert.deepEqual(await got('anythingbut'), [1]);
      assert.deepEqual(await got('numeric'), [1]);
      assert.deepEqual(await got('exists'), [2, 4]);
      assert.deepEqual(await got('or'), [3, 4]);
      assert.deepEqual(await got('wildcard'), [1]);
      // The envelope EventBridge delivers.
      await put([
        { Source: 'com.shop.x', DetailType: 'Created', Detail: '{"n":9}', EventBusName: 'match' },
      ]);
      const [m] = await drain(urls.prefix!);
      const event = JSON.parse(m!.Body);
      assert.equal(event.version, '0');
      assert.equal(event.source, 'com.shop.x');
      assert.equal(event['detail-type'], 'Created');
      assert.equal(event.account, account);
      assert.equal(event.region, 'us-east-1');
      assert.deepEqual(event.resources, []);
      assert.match(event.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.deepEqual(event.detail, { n: 9 });
      // A disabled rule matches nothing.
      await eb.send(new DisableRuleCommand({ Name: 'prefix', EventBusName: 'match' }));
      await put([
        { Source: 'com.shop.x', DetailType: 'Created', Detail: '{}', EventBusName: 'match' },
      ]);
      assert.deepEqual(await drain(urls.prefix!), []);
    });

    test('Input, InputPath and InputTransformer shape what a target receives', async () => {
      const url = await queue('shaped');
      await eb.send(new PutRuleCommand({ Name: 'shape', EventPattern: '{"source":["shaper"]}' }));
      await eb.send(
        new PutTargetsCommand({
          Rule: 'shape',
          Targets: [
            { Id: '1', Arn: queueArn('shaped'), Input: '{"fixed":true}' },
            { Id: '2', Arn: queueArn('shaped'), InputPath: '$.detail.order' },
            {
              Id: '3',
              Arn: queueArn('shaped'),
              InputTransformer: {
                InputPathsMap: {
                  id: '$.detail.order.id',
                  items: '$.detail.order.items',
                  src: '$.source',
                },
                InputTemplate:
                  '{"text": "order <id> from <src>", "items": <items>, "rule": "<aws.events.rule-name>"}',
              },
            },
          ],
        }),
      );
      await put([
        {
          Source: 'shaper',
          DetailType: 'X',
          Detail: JSON.stringify({ order: { id: 'o-1', items: [1, 2] } }),
        },
      ]);
      const bodies = (await drain(url)).map((m) => JSON.parse(m.Body));
      const find = (pred: (b: Record<string, unknown>) => boolean) => bodies.find(pred);
      assert.deepEqual(
        find((b) => 'fixed' in b),
        { fixed: true },
      );
      assert.deepEqual(
        find((b) => 'id' in b),
        { id: 'o-1', items: [1, 2] },
      );
      assert.deepEqual(
        find((b) => 'text' in b),
        {
          text: 'order o-1 from shaper',
          items: [1, 2],
          rule: 'shape',
        },
      );
    });

    test('an SNS topic target fans the event out; a target that is gone goes to its DLQ', async () => {
      const viaTopic = await queue('via-topic');
      const dlq = await queue('eb-dlq');
      const TopicArn = (await sns.send(new CreateTopicCommand({ Name: 'eb-topic' }))).TopicArn!;
      await sns.send(
        new SubscribeCommand({
          TopicArn,
          Protocol: 'sqs',
          Endpoint: queueArn('via-topic'),
          Attributes: { RawMessageDelivery: 'true' },
        }),
      );
      await eb.send(new PutRuleCommand({ Name: 'fan', EventPattern: '{"source":["fan"]}' }));
      await eb.send(
        new PutTargetsCommand({
          Rule: 'fan',
          Targets: [
            { Id: 'topic', Arn: TopicArn },
            {
              Id: 'gone',
              Arn: queueArn('no-such-queue'),
              DeadLetterConfig: { Arn: queueArn('eb-dlq') },
            },
          ],
        }),
      );
      await put([{ Source: 'fan', DetailType: 'X', Detail: '{"k":1}' }]);
      const [viaSns] = await drain(viaTopic);
      assert.deepEqual(JSON.parse(viaSns!.Body).detail, { k: 1 });
      const [dead] = await drain(dlq);
      assert.deepEqual(JSON.parse(dead!.Body).detail, { k: 1 });
      assert.equal(dead!.attributes.RULE_ARN, `arn:aws:events:us-east-1:${account}:rule/fan`);
      assert.equal(dead!.attributes.TARGET_ARN, queueArn('no-such-queue'));
      assert.ok(dead!.attributes.ERROR_MESSAGE);
    });

    test('TestEventPattern answers with the shared matcher', async () => {
      const event = JSON.stringify({
        id: '1',
        account,
        source: 'com.x',
        time: '2026-01-01T00:00:00Z',
        region: 'us-east-1',
        'detail-type': 'T',
        resources: [],
        detail: { size: 12, color: 'Red' },
      });
      const yes = await eb.send(
        new TestEventPatternCommand({
          Event: event,
          EventPattern: JSON.stringify({
            detail: { size: [{ numeric: ['>', 10] }], color: [{ 'equals-ignore-case': 'red' }] },
          }),
        }),
      );
      assert.equal(yes.Result, true);
      const no = await eb.send(
        new TestEventPatternCommand({ Event: event, EventPattern: '{"source":[{"suffix":".y"}]}' }),
      );
      assert.equal(no.Result, false);
    });

    test('bad input gets EventBridge errors', async () => {
      await assert.rejects(
        eb.send(new PutRuleCommand({ Name: 'bad', EventPattern: '{"source":"not-an-array"}' })),
        { name: 'InvalidEventPatternException' },
      );
      await assert.rejects(
        eb.send(new PutRuleCommand({ Name: 'bad', EventPattern: '{not json' })),
        {
          name: 'InvalidEventPatternException',
        },
      );
      await assert.rejects(
        eb.send(
          new TestEventPatternCommand({ Event: '{}', EventPattern: '{"a":[{"numeric":[">"]}]}' }),
        ),
        { name: 'InvalidEventPatternException' },
      );
      await assert.rejects(
        eb.send(
          new PutRuleCommand({ Name: 'x', EventBusName: 'nope', EventPattern: '{"a":["b"]}' }),
        ),
        { name: 'ResourceNotFoundException' },
      );
      await assert.rejects(eb.send(new DescribeRuleCommand({ Name: 'nope' })), {
        name: 'ResourceNotFoundException',
      });
      await assert.rejects(
        eb.send(
          new PutTargetsCommand({ Rule: 'nope', Targets: [{ Id: 'a', Arn: queueArn('t1') }] }),
        ),
        { name: 'ResourceNotFoundException' },
      );
      await eb.send(new PutRuleCommand({ Name: 'tgt', EventPattern: '{"a":["b"]}' }));
      await assert.rejects(
        eb.send(
          new PutTargetsCommand({
            Rule: 'tgt',
            Targets: [{ Id: 'a', Arn: 'arn:aws:kinesis:us-east-1:0:stream/s' }],
          }),
        ),
        { name: 'ValidationException' },
      );
      await assert.rejects(
        eb.send(
          new PutTargetsCommand({
            Rule: 'tgt',
            Targets: [{ Id: 'a', Arn: queueArn('t1'), InputPath: 'detail' }],
          }),
        ),
        { name: 'ValidationException' },
      );
      await assert.rejects(
        eb.send(new PutRuleCommand({ Name: 'sch', ScheduleExpression: 'rate(often)' })),
        {
          name: 'ValidationException',
        },
      );
      // Oversized: 256 KiB in all.
      await assert.rejects(
        put([
          { Source: 's', DetailType: 't', Detail: JSON.stringify({ big: 'x'.repeat(256 * 1024) }) },
        ]),
        { name: 'ValidationException' },
      );
      await assert.rejects(
        put(new Array(11).fill({ Source: 's', DetailType: 't', Detail: '{}' })),
        {
          name: 'ValidationException',
        },
      );
      // Per entry: missing fields, a detail that is not an object, an unknown bus.
      const out = await put([
        { Source: 's', DetailType: 't', Detail: '{}' },
        { DetailType: 't', Detail: '{}' },
        { Source: 's', DetailType: 't', Detail: '[1]' },
        { Source: 's', DetailType: 't', Detail: '{}', EventBusName: 'nope' },
      ]);
      assert.equal(out.FailedEntryCount, 3);
      assert.ok(out.Entries?.[0]?.EventId);
      assert.equal(out.Entries?.[1]?.ErrorCode, 'InvalidArgument');
      assert.equal(out.Entries?.[2]?.ErrorCode, 'MalformedDetail');
      assert.ok(out.Entries?.[3]?.ErrorCode);
      // Unsigned calls are refused.
      const res = await fetch(aws.platform.url, {
        method: 'POST',
        headers: {
          'x-amz-target': 'AWSEvents.ListEventBuses',
          'content-type': 'application/x-amz-json-1.1',
        },
        body: '{}',
      });
      assert.ok(res.status === 400 || res.status === 403, `status ${res.status}`);
      const body = (await res.json()) as { __type: string };
      assert.match(body.__type, /MissingAuthenticationToken|IncompleteSignature|AccessDenied/);
      const wrong = new EventBridgeClient({
        endpoint: aws.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: aws.key.id, secretAccessKey: 'not-the-secret' },
        maxAttempts: 1,
      });
      await assert.rejects(wrong.send(new ListEventBusesCommand({})), {
        name: 'InvalidSignatureException',
      });
      wrong.destroy();
    });
  });
