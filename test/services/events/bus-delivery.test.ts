/**
 * Bus hops through bus-delivery.ts, without a platform: a bus target is given the event with one
 * hop more, refused past `maxBusHops`, and a retry job keeps the hops the event had, so a retried
 * delivery (target-jobs.ts) is held to the same limit.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  deliverEvent,
  deliverToTarget,
  maxBusHops,
  type TargetDeliveries,
  type TargetJob,
} from '../../../src/services/events/bus-delivery.js';
import type {
  EventsStore,
  RuleRow,
  TargetSettings,
} from '../../../src/services/events/events-store.js';

const busTarget: TargetSettings = {
  Id: 'bus',
  Arn: 'arn:aws:events:us-east-1:000000000000:event-bus/next',
};
const queueTarget: TargetSettings = {
  Id: 'queue',
  Arn: 'arn:aws:sqs:us-east-1:000000000000:orders',
};
const rule: RuleRow = {
  bus: 'here',
  name: 'r',
  settings: { State: 'ENABLED', EventPattern: '{"source":["shop"]}' },
  createdAt: 0,
};
const store = {
  listRules: async () => [rule],
  targets: async () => [busTarget, queueTarget],
} as unknown as EventsStore;
const event = { version: '0', id: 'e-1', source: 'shop', 'detail-type': 'X', detail: {} };
const at = '2026-01-01T00:00:00.000Z';

function recorder(failFirst: Set<string>) {
  const seen = {
    puts: [] as number[],
    delivered: 0,
    jobs: [] as TargetJob[],
    errors: [] as { target: string; code: unknown }[],
  };
  const targets: TargetDeliveries = {
    invokeFunction: async () => {},
    putOnBus: async (_arn, _event, hops) => {
      if (failFirst.delete('bus')) throw new Error('store unreachable');
      seen.puts.push(hops);
    },
    deliver: async () => {
      if (failFirst.delete('queue')) throw new Error('store unreachable');
      seen.delivered++;
    },
    onError: (error, target) =>
      seen.errors.push({ target, code: (error as { awsCode?: unknown }).awsCode }),
    retryLater: async (job) => {
      seen.jobs.push(job);
    },
  };
  return { seen, targets };
}

describe('EventBridge bus hops', () => {
  test('an event put on a bus goes on to a bus target with one hop', async () => {
    assert.equal(maxBusHops, 1);
    const { seen, targets } = recorder(new Set());
    await deliverEvent({ store, region: 'us-east-1', targets }, 'here', event, at);
    assert.deepEqual(seen.puts, [1]);
    assert.equal(seen.delivered, 1);
  });

  test('an event that crossed a bus target already is refused by the next one', async () => {
    const { seen, targets } = recorder(new Set());
    await deliverEvent({ store, region: 'us-east-1', targets }, 'here', event, at, 1);
    assert.deepEqual(seen.puts, []);
    assert.equal(seen.delivered, 1);
    assert.deepEqual(seen.errors, [{ target: busTarget.Arn, code: 'THIRD_ACCOUNT_HOP_DETECTED' }]);
    assert.deepEqual(seen.jobs, []);
  });

  test('retry jobs keep the hops, and a retried delivery is held to the limit', async () => {
    const fresh = recorder(new Set(['bus']));
    await deliverEvent({ store, region: 'us-east-1', targets: fresh.targets }, 'here', event, at);
    const [job] = fresh.seen.jobs;
    assert.equal(job?.target.Id, 'bus');
    assert.equal(job?.hops, undefined);
    await deliverToTarget(fresh.targets, job!.target, job!.input, job!.hops ?? 0);
    assert.deepEqual(fresh.seen.puts, [1]);

    const forwarded = recorder(new Set(['queue']));
    await deliverEvent(
      { store, region: 'us-east-1', targets: forwarded.targets },
      'here',
      event,
      at,
      1,
    );
    const [queued] = forwarded.seen.jobs;
    assert.equal(queued?.target.Id, 'queue');
    assert.equal(queued?.hops, 1);
    await assert.rejects(deliverToTarget(forwarded.targets, busTarget, queued!.input, 1), {
      name: 'THIRD_ACCOUNT_HOP_DETECTED',
    });
  });
});
