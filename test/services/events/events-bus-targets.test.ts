/**
 * Event buses as rule targets, through @aws-sdk/client-eventbridge and client-sqs against a
 * running platform on SQLite and PostgreSQL: a rule on bus A puts the event on bus B, where B's
 * rules match it (a new id, the rest kept) into an SQS queue; loops (a bus targeting itself,
 * A → B → A) stop after one bus hop with THIRD_ACCOUNT_HOP_DETECTED in the dead-letter queue; a
 * bus target that is unknown, of another account or given an input is refused, and one deleted
 * later sends its events to the dead-letter queue.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  type EventBridgeClient,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { awsPlatformVariants } from '../../helpers/aws-platform.js';
import {
  account,
  type EventsPlatform,
  queueArn,
  startEventsPlatform,
} from '../../helpers/events-platform.js';

const busArn = (name: string) => `arn:aws:events:us-east-1:${account}:event-bus/${name}`;

for (const variant of awsPlatformVariants)
  describe(`EventBridge event bus targets on ${variant.name}`, () => {
    let events: EventsPlatform;
    let eb: EventBridgeClient;

    before(async () => {
      events = await startEventsPlatform(variant, { label: 'eventbridge-bus-targets' });
      eb = events.eb;
    });
    after(() => events?.close());

    const queue = (name: string) => events.queue(name);
    const drain = (url: string) => events.drain(url, 1);

    const rule = async (
      bus: string,
      name: string,
      pattern: object,
      targets: { Id: string; Arn: string; DeadLetterConfig?: { Arn: string } }[],
    ) => {
      await eb.send(
        new PutRuleCommand({
          Name: name,
          EventBusName: bus,
          EventPattern: JSON.stringify(pattern),
        }),
      );
      await eb.send(new PutTargetsCommand({ Rule: name, EventBusName: bus, Targets: targets }));
    };

    test('a rule on bus A puts the event on bus B, whose rule sends it to a queue', async () => {
      await eb.send(new CreateEventBusCommand({ Name: 'route-a' }));
      await eb.send(new CreateEventBusCommand({ Name: 'route-b' }));
      const received = await queue('route-received');
      const direct = await queue('route-direct');
      await rule('route-a', 'to-b', { source: ['shop'] }, [
        { Id: 'bus', Arn: busArn('route-b') },
        { Id: 'direct', Arn: queueArn('route-direct') },
      ]);
      await rule('route-b', 'shipped', { source: ['shop'], 'detail-type': ['OrderShipped'] }, [
        { Id: 'q', Arn: queueArn('route-received') },
      ]);
      const listed = await eb.send(
        new ListTargetsByRuleCommand({ Rule: 'to-b', EventBusName: 'route-a' }),
      );
      assert.deepEqual(
        listed.Targets?.map((t) => t.Arn),
        [busArn('route-b'), queueArn('route-direct')],
      );
      const put = await eb.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: 'route-a',
              Source: 'shop',
              DetailType: 'OrderShipped',
              Detail: JSON.stringify({ order: 'o-1' }),
              Resources: ['arn:aws:s3:::orders'],
              Time: new Date('2026-01-02T03:04:05Z'),
            },
            // Matches A's rule, not B's: forwarded, then dropped there.
            { EventBusName: 'route-a', Source: 'shop', DetailType: 'Other', Detail: '{}' },
          ],
        }),
      );
      assert.equal(put.FailedEntryCount, 0);
      const [onA] = (await drain(direct)).filter((m) => JSON.parse(m.Body).detail.order);
      const [onB, ...more] = await drain(received);
      assert.equal(more.length, 0);
      const a = JSON.parse(onA!.Body);
      const b = JSON.parse(onB!.Body);
      assert.equal(a.id, put.Entries?.[0]?.EventId);
      // On bus B it is a new event: a new id; what it says is kept.
      assert.notEqual(b.id, a.id);
      for (const key of ['version', 'detail-type', 'source', 'account', 'time', 'region']) {
        assert.equal(b[key], a[key], key);
      }
      assert.deepEqual(b.resources, ['arn:aws:s3:::orders']);
      assert.equal(b.time, '2026-01-02T03:04:05Z');
      assert.deepEqual(b.detail, { order: 'o-1' });
    });

    test('loops stop after one bus hop, in the dead-letter queue', async () => {
      // A bus that targets itself: the event comes round once, the second hop is refused.
      await eb.send(new CreateEventBusCommand({ Name: 'self' }));
      const selfSeen = await queue('self-seen');
      const selfDlq = await queue('self-dlq');
      await rule('self', 'again', { source: ['loop'] }, [
        { Id: 'bus', Arn: busArn('self'), DeadLetterConfig: { Arn: queueArn('self-dlq') } },
        { Id: 'seen', Arn: queueArn('self-seen') },
      ]);
      await eb.send(
        new PutEventsCommand({
          Entries: [{ EventBusName: 'self', Source: 'loop', DetailType: 'X', Detail: '{"n":1}' }],
        }),
      );
      const seen = await drain(selfSeen);
      assert.equal(seen.length, 2);
      const ids = seen.map((m) => JSON.parse(m.Body).id);
      assert.notEqual(ids[0], ids[1]);
      const [dead, ...moreDead] = await drain(selfDlq);
      assert.equal(moreDead.length, 0);
      assert.equal(dead!.attributes.ERROR_CODE, 'THIRD_ACCOUNT_HOP_DETECTED');
      assert.equal(dead!.attributes.TARGET_ARN, busArn('self'));
      assert.equal(
        dead!.attributes.RULE_ARN,
        `arn:aws:events:us-east-1:${account}:rule/self/again`,
      );
      assert.deepEqual(JSON.parse(dead!.Body).detail, { n: 1 });

      // A → B → A: B receives it; B's way back to A is refused.
      await eb.send(new CreateEventBusCommand({ Name: 'ping' }));
      await eb.send(new CreateEventBusCommand({ Name: 'pong' }));
      const pingSeen = await queue('ping-seen');
      const pongSeen = await queue('pong-seen');
      const pongDlq = await queue('pong-dlq');
      await rule('ping', 'to-pong', { source: ['loop'] }, [
        { Id: 'bus', Arn: busArn('pong') },
        { Id: 'seen', Arn: queueArn('ping-seen') },
      ]);
      await rule('pong', 'to-ping', { source: ['loop'] }, [
        { Id: 'bus', Arn: busArn('ping'), DeadLetterConfig: { Arn: queueArn('pong-dlq') } },
        { Id: 'seen', Arn: queueArn('pong-seen') },
      ]);
      await eb.send(
        new PutEventsCommand({
          Entries: [{ EventBusName: 'ping', Source: 'loop', DetailType: 'X', Detail: '{"n":2}' }],
        }),
      );
      assert.equal((await drain(pingSeen)).length, 1);
      assert.equal((await drain(pongSeen)).length, 1);
      const [back] = await drain(pongDlq);
      assert.equal(back!.attributes.ERROR_CODE, 'THIRD_ACCOUNT_HOP_DETECTED');
      assert.equal(back!.attributes.TARGET_ARN, busArn('ping'));
    });

    test('bad bus targets are refused; a bus deleted later sends events to the DLQ', async () => {
      await eb.send(new PutRuleCommand({ Name: 'bad-bus', EventPattern: '{"source":["bad"]}' }));
      const targets = (Arn: string, extra: object = {}) =>
        eb.send(new PutTargetsCommand({ Rule: 'bad-bus', Targets: [{ Id: 'b', Arn, ...extra }] }));
      await assert.rejects(targets(busArn('no-such-bus')), { name: 'ResourceNotFoundException' });
      await assert.rejects(targets('arn:aws:events:us-east-1:123456789012:event-bus/default'), {
        name: 'ResourceNotFoundException',
      });
      await assert.rejects(targets(`arn:aws:events:us-east-1:${account}:rule/bad-bus`), {
        name: 'ValidationException',
      });
      await assert.rejects(targets(busArn('default'), { InputPath: '$.detail' }), {
        name: 'ValidationException',
      });

      await eb.send(new CreateEventBusCommand({ Name: 'short-lived' }));
      const dlq = await queue('gone-bus-dlq');
      await targets(busArn('short-lived'), { DeadLetterConfig: { Arn: queueArn('gone-bus-dlq') } });
      await eb.send(new DeleteEventBusCommand({ Name: 'short-lived' }));
      await eb.send(
        new PutEventsCommand({ Entries: [{ Source: 'bad', DetailType: 'X', Detail: '{"n":3}' }] }),
      );
      const [dead] = await drain(dlq);
      assert.deepEqual(JSON.parse(dead!.Body).detail, { n: 3 });
      assert.equal(dead!.attributes.TARGET_ARN, busArn('short-lived'));
      assert.match(dead!.attributes.ERROR_MESSAGE!, /short-lived/);
    });
  });
