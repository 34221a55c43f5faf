/**
 * Scheduled rules through the platform's one ScheduleRunner, and EventBridge target retries
 * through the WorkQueue, with an injected clock and timer: real store, ledger, work queue and
 * SQS store on both dialects.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import pino from 'pino';
import { KyselyScheduleLedger } from '../../../src/platform/triggers/schedule/kysely-schedule-ledger.js';
import { ScheduleRunner } from '../../../src/platform/triggers/schedule/scheduler.js';
import { SqlWorkQueue } from '../../../src/queue/sql-work-queue.js';
import type { TargetDeliveries } from '../../../src/services/events/bus-delivery.js';
import { deliverEvent } from '../../../src/services/events/bus-delivery.js';
import { EventsStore } from '../../../src/services/events/events-store.js';
import {
  ruleFiring,
  ScheduledRules,
  withRuleSchedules,
} from '../../../src/services/events/scheduled-rules.js';
import { TargetJobs, targetJobQueue } from '../../../src/services/events/target-jobs.js';
import { queueDelivery } from '../../../src/services/sqs/queue-delivery.js';
import { QueueWaiters } from '../../../src/services/sqs/queue-waiters.js';
import { SqsStore } from '../../../src/services/sqs/sqs-store.js';
import type { StoreTx } from '../../../src/store/group-commit.js';
import type { Database } from '../../../src/store/schema.js';
import { databaseVariants } from '../../helpers/store-variants.js';
import { FakeClock, FakeTimer } from '../../triggers/fakes.js';

const region = 'us-east-1';
const arnOf = (q: string) => `arn:aws:sqs:${region}:000000000000:${q}`;
const logger = pino({ level: 'silent' });

for (const variant of databaseVariants) {
  describe(`EventBridge scheduled rules and target retries (${variant.name})`, () => {
    let db: Kysely<Database>;
    let cleanup: () => Promise<void>;
    let clock: FakeClock;
    let timer: FakeTimer;
    let events: EventsStore;
    let sqs: SqsStore;
    let queue: SqlWorkQueue;
    /** Deliveries through the real SQS store; `failNext` fails the next ones to `orders` as a store outage would. */
    let failNext = 0;
    let delivered = 0;
    const runners: ScheduleRunner<StoreTx>[] = [];

    const targets = (): TargetDeliveries => {
      const send = queueDelivery({ store: sqs, waiters: new QueueWaiters(), clock });
      return {
        invokeFunction: async () => {
          throw new Error('no functions here');
        },
        putOnBus: async () => {
          throw new Error('no event bus targets here');
        },
        deliver: async (via, arn, body, messageAttributes) => {
          assert.equal(via, 'sqs');
          if (failNext > 0 && arn === arnOf('orders')) {
            failNext--;
            throw new Error('store unavailable');
          }
          delivered++;
          await send(arn.split(':')[5]!, {
            body,
            ...(messageAttributes ? { messageAttributes } : {}),
          });
        },
        onError: () => {},
      };
    };
    const jobsOf = () =>
      new TargetJobs({ queue, targets: targets(), clock, logger, retryBaseMs: 1000 });
    /** One node: a runner with its own target jobs, over the shared database. */
    const node = () => {
      const jobs = jobsOf();
      const runner = new ScheduleRunner<StoreTx>({
        ledger: new KyselyScheduleLedger(db, { mode: 'same-transaction' }),
        clock,
        timer,
        ...withRuleSchedules<StoreTx>(
          {
            fire: async () => {
              throw new Error('no function schedules here');
            },
          },
          () =>
            ruleFiring<StoreTx>({
              store: events,
              region,
              jobs,
              queueWithin: (tx) => queue.within(tx),
            }),
        ),
      });
      runners.push(runner);
      return { jobs, runner, rules: new ScheduledRules({ store: events, runner }) };
    };
    const messages = async (q: string) => {
      const got = await sqs.claim(q, {
        now: clock.now(),
        max: 10,
        visibilityMs: 30_000,
        retentionMs: 86_400_000,
        fifo: false,
      });
      await sqs.deleteLeased(
        q,
        got.map((m) => m.receipt!),
      );
      return got;
    };
    const createQueue = (name: string) =>
      sqs.createQueue({
        name,
        attributes: {
          VisibilityTimeout: '30',
          MessageRetentionPeriod: '345600',
          DelaySeconds: '0',
        },
        createdAt: 0,
        modifiedAt: 0,
      });

    before(async () => {
      const opened = await variant.open();
      db = opened.db;
      cleanup = opened.cleanup;
    });
    after(async () => {
      await Promise.all(runners.map((r) => r.stop()));
      await cleanup();
    });
    beforeEach(async () => {
      await Promise.all(runners.splice(0).map((r) => r.stop()));
      await sql`delete from schedule_state`.execute(db);
      clock = new FakeClock('2026-03-10T10:02:30Z');
      timer = new FakeTimer(clock);
      events = new EventsStore(db);
      sqs = new SqsStore(db, variant.name === 'postgres' ? 'postgres' : 'sqlite');
      queue = new SqlWorkQueue(db, {
        flavor: variant.name === 'postgres' ? 'postgres' : 'sqlite',
        clock,
      });
      failNext = 0;
      delivered = 0;
    });

    test('a rate() rule made through the store fires its targets once per slot, on two nodes', async () => {
      await createQueue('ticks');
      await events.putRule({
        bus: 'default',
        name: 'every5',
        settings: { ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED' },
        createdAt: 0,
      });
      await events.putTargets('default', 'every5', [
        {
          Id: 'q',
          Arn: arnOf('ticks'),
          InputTransformer: { InputPathsMap: { t: '$.time' }, InputTemplate: '{"at": <t>}' },
        },
      ]);
      const a = node();
      const b = node();
      await a.rules.refresh();
      await b.rules.refresh();
      const settle = async () => {
        await a.runner.idle();
        await b.runner.idle();
        await a.jobs.drain();
        await b.jobs.drain();
      };
      await timer.advanceTo('2026-03-10T10:10:00Z', settle);
      const got = (await messages('ticks')).map((m) => JSON.parse(m.body).at);
      assert.deepEqual(got.sort(), ['2026-03-10T10:05:00Z', '2026-03-10T10:10:00Z']);

      // Disabled: no more slots; a changed expression starts from now.
      await events.putRule({
        bus: 'default',
        name: 'every5',
        settings: { ScheduleExpression: 'rate(5 minutes)', State: 'DISABLED' },
        createdAt: 0,
      });
      await a.rules.refresh();
      await b.rules.refresh();
      await timer.advanceTo('2026-03-10T10:20:00Z', settle);
      assert.deepEqual(await messages('ticks'), []);
    });

    test('a cron() rule sends the Scheduled Event envelope; a deleted rule stops', async () => {
      await createQueue('crons');
      await events.putRule({
        bus: 'default',
        name: 'quarter',
        settings: { ScheduleExpression: 'cron(15 10 * * ? *)', State: 'ENABLED' },
        createdAt: 0,
      });
      await events.putTargets('default', 'quarter', [{ Id: 'q', Arn: arnOf('crons') }]);
      const a = node();
      await a.rules.refresh();
      const settle = async () => {
        await a.runner.idle();
        await a.jobs.drain();
      };
      await timer.advanceTo('2026-03-10T10:16:00Z', settle);
      const [m] = await messages('crons');
      const event = JSON.parse(m!.body);
      assert.equal(event['detail-type'], 'Scheduled Event');
      assert.equal(event.source, 'aws.events');
      assert.equal(event.time, '2026-03-10T10:15:00Z');
      assert.deepEqual(event.resources, [`arn:aws:events:${region}:000000000000:rule/quarter`]);
      await events.deleteRule('default', 'quarter');
      await a.rules.refresh();
      await timer.advanceTo('2026-03-11T10:16:00Z', settle);
      assert.deepEqual(await messages('crons'), []);
    });

    test('an SQS target that fails is retried with backoff, then goes to its DLQ after MaximumRetryAttempts', async () => {
      await createQueue('orders');
      await createQueue('orders-dlq');
      await events.putRule({
        bus: 'default',
        name: 'retrying',
        settings: { EventPattern: '{"source":["shop"]}', State: 'ENABLED' },
        createdAt: 0,
      });
      await events.putTargets('default', 'retrying', [
        {
          Id: 'q',
          Arn: arnOf('orders'),
          RetryPolicy: { MaximumRetryAttempts: 2 },
          DeadLetterConfig: { Arn: arnOf('orders-dlq') },
        },
      ]);
      const jobs = jobsOf();
      const deps = {
        store: events,
        region,
        targets: {
          ...targets(),
          retryLater: (job, error) => jobs.retryLater(job, error),
        } as TargetDeliveries,
      };
      const event = (n: number) => ({ source: 'shop', 'detail-type': 'X', detail: { n } });
      const now = () => new Date(clock.now()).toISOString();

      // Two failures, then the store is back: delivered on the second retry.
      failNext = 2;
      await deliverEvent(deps, 'default', event(1), now());
      assert.deepEqual(await messages('orders'), []);
      assert.equal(await jobs.drain(), 0); // not due before the backoff
      clock.set(clock.now() + 1000);
      assert.equal(await jobs.drain(), 1); // fails again: retried after 2 s
      clock.set(clock.now() + 1999);
      assert.equal(await jobs.drain(), 0);
      clock.set(clock.now() + 1);
      assert.equal(await jobs.drain(), 1);
      assert.deepEqual(
        (await messages('orders')).map((m) => JSON.parse(m.body).detail),
        [{ n: 1 }],
      );

      // Failing for good: 1 delivery + 2 retries, then the DLQ with EventBridge's attributes.
      failNext = 3;
      await deliverEvent(deps, 'default', event(2), now());
      for (let i = 0; i < 4; i++) {
        clock.set(clock.now() + 60_000);
        await jobs.drain();
      }
      assert.equal(failNext, 0);
      assert.deepEqual(await messages('orders'), []);
      const [dead] = await messages('orders-dlq');
      assert.deepEqual(JSON.parse(dead!.body).detail, { n: 2 });
      assert.equal(
        dead!.messageAttributes.RULE_ARN?.StringValue,
        `arn:aws:events:${region}:000000000000:rule/retrying`,
      );
      assert.equal(dead!.messageAttributes.ERROR_MESSAGE?.StringValue, 'store unavailable');
      const stats = await queue.stats(targetJobQueue);
      assert.equal(stats.ready + stats.delayed + stats.leased, 0);

      // MaximumEventAgeInSeconds also ends the retries.
      await events.putTargets('default', 'retrying', [
        {
          Id: 'q',
          Arn: arnOf('orders'),
          RetryPolicy: { MaximumRetryAttempts: 100, MaximumEventAgeInSeconds: 60 },
          DeadLetterConfig: { Arn: arnOf('orders-dlq') },
        },
      ]);
      failNext = 1000;
      await deliverEvent(deps, 'default', event(3), now());
      for (let i = 0; i < 10; i++) {
        clock.set(clock.now() + 30_000);
        await jobs.drain();
      }
      const tried = 1000 - failNext;
      assert.ok(tried >= 3 && tried <= 7, `retried ${tried} times within a minute`);
      const [old] = await messages('orders-dlq');
      assert.deepEqual(JSON.parse(old!.body).detail, { n: 3 });
      assert.ok(delivered >= 1);
    });
  });
}
