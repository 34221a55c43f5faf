/**
 * The event-source-mapping engine with in-memory sources and hand-driven time: batch size,
 * batching window, partial batch failures, filters, concurrency on a queue source; order,
 * retries, bisect, retry and age limits, checkpoints on an ordered stream source.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import pino from 'pino';
import { EventSourceEngine } from '../../../src/platform/event-sources/event-source-engine.js';
import type { Mapping } from '../../../src/platform/event-sources/mapping.js';
import type { PollSource } from '../../../src/platform/event-sources/source-port.js';
import { type FailedBatch, laneOf } from '../../../src/platform/event-sources/stream-runner.js';
import {
  FakeFunction,
  FakeTime,
  MemoryQueue,
  MemoryStream,
  mapping,
  record,
  settle,
} from './fakes.js';

const logger = pino({ level: 'silent' });
let engine: EventSourceEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

async function run(
  time: FakeTime,
  source: PollSource,
  fn: FakeFunction,
  m: Mapping,
  failed: FailedBatch[] = [],
): Promise<EventSourceEngine> {
  let mappings = [m];
  engine = new EventSourceEngine({
    list: async () => mappings,
    sourceOf: () => source,
    invoke: fn.invoke,
    clock: time.clock,
    timer: time.timer,
    logger,
    maxBatchBytes: 6 * 1024 * 1024,
    onFailure: async (f) => void failed.push(f),
  });
  await engine.start();
  // Lets tests swap the mapping list (disable, delete).
  (engine as unknown as { set: (l: Mapping[]) => void }).set = (l) => {
    mappings = l;
  };
  await settle();
  return engine;
}

const ids = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
const ok = { ok: true as const, payload: 'null' };

describe('queue source', () => {
  test('batches of at most batchSize, without a window as soon as records are there', async () => {
    const time = new FakeTime();
    const q = new MemoryQueue(time);
    const fn = new FakeFunction();
    await run(time, q, fn, mapping({ batchSize: 4 }));
    q.push(...ids(10).map((id) => record(id, 'x')));
    await settle();
    assert.deepEqual(fn.batches.map((b) => b.length).sort(), [2, 4, 4]);
    assert.equal(q.removed.length, 10);
  });

  test('a batching window gathers records until it ends or the batch is full', async () => {
    const time = new FakeTime();
    const q = new MemoryQueue(time);
    const fn = new FakeFunction();
    await run(time, q, fn, mapping({ batchSize: 100, maximumBatchingWindowInSeconds: 5 }));
    q.push(record('a', '1'), record('b', '2'));
    await settle();
    assert.equal(fn.batches.length, 0, 'the window is still open');
    await time.advance(2_000);
    q.push(record('c', '3'));
    await settle();
    assert.equal(fn.batches.length, 0);
    await time.advance(3_000);
    assert.deepEqual(fn.batches, [['a', 'b', 'c']]);
  });

  test('a full batch does not wait for the window', async () => {
    const time = new FakeTime();
    const q = new MemoryQueue(time);
    const fn = new FakeFunction();
    await run(time, q, fn, mapping({ batchSize: 3, maximumBatchingWindowInSeconds: 60 }));
    q.push(record('a', '1'), record('b', '2'), record('c', '3'));
    await settle();
    assert.deepEqual(fn.batches, [['a', 'b', 'c']]);
  });

  test('ReportBatchItemFailures leaves only the reported records; others are removed', async () => {
    const time = new FakeTime();
    const q = new MemoryQueue(time);
    const fn = new FakeFunction(() => ({
      ok: true,
      payload: JSON.stringify({ batchItemFailures: [{ itemIdentifier: 'b' }] }),
    }));
    await run(time, q, fn, mapping({ functionResponseTypes: ['ReportBatchItemFailures'] }));
    q.push(record('a', '1'), record('b', '2'), record('c', '3'));
    await settle();
    assert.deepEqual(q.removed.sort(), ['a', 'c']);
    assert.deepEqual(
      [...q.leased].map((r) => r.id),
      ['b'],
    );
  });

  test('without ReportBatchItemFailures an answer listing failures is a success', async () => {
    const time = new FakeTime();
    const q = new MemoryQueue(time);
    const fn = new FakeFunction(() => ({
      ok: true,
      payload: JSON.stringify({ batchItemFailures: [{ itemIdentifier: 'b' }] }),
    }));
    await run(time, q, fn, mapping());
    q.push(record('a', '1'), record('b', '2'));
    await settle();
    assert.deepEqual(q.removed.sort(), ['a', 'b']);
  });

  test('a function error, or a failure naming an unknown item, leaves the whole batch', async () => {
    for (const answer of [
      { ok: false as const, reason: 'Unhandled' },
      {
        ok: true as const,
        payload: JSON.stringify({ batchItemFailures: [{ itemIdentifier: 'zz' }] }),
      },
      {
        ok: true as const,
        payload: JSON.stringify({ batchItemFailures: [{ itemIdentifier: '' }] }),
      },
    ]) {
      const time = new FakeTime();
      const q = new MemoryQueue(time);
      const fn = new FakeFunction(() => answer);
      await run(time, q, fn, mapping({ functionResponseTypes: ['ReportBatchItemFailures'] }));
      q.push(record('a', '1'), record('b', '2'));
      await settle();
      assert.deepEqual(q.removed, []);
      assert.equal(q.leased.size, 2);
      await engine?.stop();
    }
  });

  test('filter patterns: matching records are invoked, the others removed unseen', async () => {
    const time = new FakeTime();
    const q = new MemoryQueue(time);
    const fn = new FakeFunction();
    await run(
      time,
      q,
      fn,
      mapping({
        filters: [JSON.stringify({ body: { kind: ['order'], total: [{ numeric: ['>', 10] }] } })],
      }),
    );
    q.push(
      record('a', JSON.stringify({ kind: 'order', total: 20 })),
      record('b', JSON.stringify({ kind: 'order', total: 5 })),
      record('c', 'not json'),
      record('d', JSON.stringify({ kind: 'refund', total: 50 })),
    );
    await settle();
    assert.deepEqual(fn.batches, [['a']]);
    assert.deepEqual(q.removed.sort(), ['a', 'b', 'c', 'd']);
  });

  test('maximumConcurrency caps batches in flight', async () => {
    const time = new FakeTime();
    const q = new MemoryQueue(time);
    const fn = new FakeFunction();
    fn.hold();
    await run(time, q, fn, mapping({ batchSize: 1, maximumConcurrency: 2 }));
    q.push(...ids(6).map((id) => record(id, 'x')));
    await settle();
    assert.equal(fn.running, 2);
    assert.equal(q.visible.length, 4, 'nothing is leased beyond the batches in flight');
    fn.release();
    await settle();
    assert.equal(fn.maxRunning, 2);
    assert.equal(q.removed.length, 6);
  });

  test('a disabled or deleted mapping stops polling', async () => {
    const time = new FakeTime();
    const q = new MemoryQueue(time);
    const fn = new FakeFunction();
    const e = await run(time, q, fn, mapping());
    assert.deepEqual(e.running, ['m-1']);
    (e as unknown as { set: (l: Mapping[]) => void }).set([mapping({ enabled: false })]);
    await e.refresh();
    assert.deepEqual(e.running, []);
    q.push(record('a', '1'));
    await settle();
    assert.deepEqual(fn.batches, []);
    (e as unknown as { set: (l: Mapping[]) => void }).set([mapping()]);
    await e.refresh();
    await settle();
    assert.deepEqual(fn.batches, [['a']]);
  });

  test('a backlog is polled by several pollers; once idle, by one again', async () => {
    const time = new FakeTime();
    const q = new MemoryQueue(time);
    const fn = new FakeFunction();
    await run(time, q, fn, mapping({ batchSize: 10 }));
    q.push(...ids(200).map((id) => record(id, 'x')));
    await settle();
    assert.equal(q.removed.length, 200);
    assert.ok(q.maxReceiving > 1, `${q.maxReceiving} receives at once on a backlog`);
    assert.ok(q.maxReceiving <= 5, `${q.maxReceiving} receives at once, more than five`);
    q.receives = 0;
    await time.advance(60_000);
    assert.ok(q.receives <= 4, `${q.receives} receives in a minute once idle`);
  });

  test('no busy loop: an idle queue is asked once per long poll', async () => {
    const time = new FakeTime();
    const q = new MemoryQueue(time);
    await run(time, q, new FakeFunction(), mapping());
    await time.advance(60_000);
    assert.ok(q.receives <= 4, `${q.receives} receives in a minute`);
  });
});

describe('stream source', () => {
  test('records reach the function in shard order and the checkpoint follows', async () => {
    const time = new FakeTime();
    const s = new MemoryStream(time);
    const fn = new FakeFunction();
    s.put('shard-1', ...ids(5, 'a').map((id) => record(id, 'x')));
    s.put('shard-2', ...ids(2, 'b').map((id) => record(id, 'x')));
    await run(time, s, fn, mapping({ batchSize: 2 }));
    await settle();
    const shard1 = fn.batches.filter((b) => b[0]!.startsWith('a'));
    assert.deepEqual(shard1, [['a1', 'a2'], ['a3', 'a4'], ['a5']]);
    assert.equal(s.checkpoints.get('shard-1'), 'a5');
    assert.equal(s.checkpoints.get('shard-2'), 'b2');
  });

  test('resumes after its checkpoint (a restart skips and repeats nothing)', async () => {
    const time = new FakeTime();
    const s = new MemoryStream(time);
    s.put('s', ...ids(4).map((id) => record(id, 'x')));
    s.checkpoints.set('s', 'm2');
    const fn = new FakeFunction();
    await run(time, s, fn, mapping());
    await settle();
    assert.deepEqual(fn.batches, [['m3', 'm4']]);
  });

  test('a failing batch is retried with backoff, never skipped, until it succeeds', async () => {
    const time = new FakeTime();
    const s = new MemoryStream(time);
    let calls = 0;
    const fn = new FakeFunction(() => (++calls < 3 ? { ok: false, reason: 'boom' } : ok));
    s.put('s', record('m1', 'x'), record('m2', 'x'));
    await run(time, s, fn, mapping());
    await settle();
    assert.equal(fn.batches.length, 1);
    assert.equal(s.checkpoints.get('s'), undefined);
    await time.advance(1_000);
    await time.advance(2_000);
    assert.equal(fn.batches.length, 3);
    assert.equal(s.checkpoints.get('s'), 'm2');
  });

  test('bisect splits a failing batch until the bad record is alone', async () => {
    const time = new FakeTime();
    const s = new MemoryStream(time);
    const failed: FailedBatch[] = [];
    const fn = new FakeFunction((batch) =>
      batch.includes('m3') ? { ok: false, reason: 'poison' } : ok,
    );
    s.put('s', ...ids(4).map((id) => record(id, 'x')));
    await run(
      time,
      s,
      fn,
      mapping({ bisectBatchOnFunctionError: true, maximumRetryAttempts: 2 }),
      failed,
    );
    await time.advance(10_000);
    await time.advance(10_000);
    assert.deepEqual(fn.batches.slice(0, 3), [
      ['m1', 'm2', 'm3', 'm4'],
      ['m1', 'm2'],
      ['m3', 'm4'],
    ]);
    assert.deepEqual(
      failed.map((f) => f.records.map((r) => r.id)),
      [['m3']],
    );
    assert.equal(failed[0]!.reason, 'RetryAttemptsExhausted');
    assert.equal(s.checkpoints.get('s'), 'm4');
    assert.ok(
      fn.batches.some((b) => b.length === 1 && b[0] === 'm4'),
      'm4 ran on its own',
    );
  });

  test('maximumRetryAttempts: the batch goes to on-failure and the shard moves on', async () => {
    const time = new FakeTime();
    const s = new MemoryStream(time);
    const failed: FailedBatch[] = [];
    const fn = new FakeFunction((batch) =>
      batch.includes('m1') ? { ok: false, reason: 'x' } : ok,
    );
    s.put('s', record('m1', 'x'));
    await run(time, s, fn, mapping({ maximumRetryAttempts: 1 }), failed);
    await time.advance(5_000);
    assert.equal(fn.batches.length, 2, 'first try and one retry');
    assert.equal(failed.length, 1);
    s.put('s', record('m2', 'x'));
    await settle();
    assert.deepEqual(fn.batches.at(-1), ['m2']);
    assert.equal(s.checkpoints.get('s'), 'm2');
  });

  test('maximumRecordAgeInSeconds: expired records are reported, not run', async () => {
    const time = new FakeTime();
    const s = new MemoryStream(time);
    const failed: FailedBatch[] = [];
    const fn = new FakeFunction(() => ({ ok: false, reason: 'x' }));
    s.put('s', record('m1', 'x', time.now));
    await run(time, s, fn, mapping({ maximumRecordAgeInSeconds: 60 }), failed);
    await time.advance(120_000);
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.reason, 'RecordAgeExceeded');
    assert.equal(s.checkpoints.get('s'), 'm1');
  });

  test('partial failure: checkpoint before the first failure, retried from there', async () => {
    const time = new FakeTime();
    const s = new MemoryStream(time);
    let first = true;
    const fn = new FakeFunction(() => {
      if (!first) return ok;
      first = false;
      return {
        ok: true,
        payload: JSON.stringify({ batchItemFailures: [{ itemIdentifier: 'm3' }] }),
      };
    });
    s.put('s', ...ids(4).map((id) => record(id, 'x')));
    await run(time, s, fn, mapping({ functionResponseTypes: ['ReportBatchItemFailures'] }));
    await settle();
    assert.equal(s.checkpoints.get('s'), 'm2');
    await time.advance(1_000);
    assert.deepEqual(fn.batches, [
      ['m1', 'm2', 'm3', 'm4'],
      ['m3', 'm4'],
    ]);
    assert.equal(s.checkpoints.get('s'), 'm4');
  });

  test('filtered-out records are skipped and checkpointed', async () => {
    const time = new FakeTime();
    const s = new MemoryStream(time);
    const fn = new FakeFunction();
    s.put('s', record('m1', '{"a":1}'), record('m2', '{"a":2}'));
    await run(time, s, fn, mapping({ filters: ['{"body":{"a":[2]}}'] }));
    await settle();
    assert.deepEqual(fn.batches, [['m2']]);
    assert.equal(s.checkpoints.get('s'), 'm2');
  });

  describe('parallelizationFactor', () => {
    const keyed = (id: string, key: string) => ({ ...record(id, 'x'), key });
    // Keys a, c, g fall in three different lanes of 3 (checked below), interleaved:
    // a1 c1 g1 a2 c2 g2 ...
    const keys = 'acg';
    const interleaved = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        keyed(`${keys[i % 3]}${Math.floor(i / 3) + 1}`, keys[i % 3]!),
      );

    test('batches of one shard run concurrently, each key in order', async () => {
      const time = new FakeTime();
      const s = new MemoryStream(time);
      const fn = new FakeFunction();
      assert.deepEqual(new Set([...keys].map((k) => laneOf(k, 3))).size, 3);
      fn.hold();
      s.put('s', ...interleaved(12));
      await run(time, s, fn, mapping({ batchSize: 2, parallelizationFactor: 3 }));
      await settle();
      // One batch per lane in flight.
      assert.equal(fn.maxRunning, 3);
      assert.equal(s.checkpoints.get('s'), undefined);
      fn.release();
      await settle();
      for (const key of keys) {
        const seen = fn.batches.flat().filter((id) => id.startsWith(key));
        assert.deepEqual(
          seen,
          ['1', '2', '3', '4'].map((n) => key + n),
        );
      }
      for (const b of fn.batches) assert.ok(b.length <= 2);
      assert.equal(s.checkpoints.get('s'), 'g4');
    });

    test('the checkpoint stops before the first record not done with', async () => {
      const time = new FakeTime();
      const s = new MemoryStream(time);
      // Key c fails until told otherwise; a and g succeed.
      let cFails = true;
      const fn = new FakeFunction((ids) =>
        cFails && ids.some((id) => id.startsWith('c')) ? { ok: false, reason: 'boom' } : ok,
      );
      s.put('s', ...interleaved(6));
      await run(time, s, fn, mapping({ batchSize: 10, parallelizationFactor: 3 }));
      await settle();
      // a1 is done, c1 is not: nothing past a1 is committed, though a2, g1, g2 are done.
      assert.equal(s.checkpoints.get('s'), 'a1');
      cFails = false;
      await time.advance(1_000);
      assert.equal(s.checkpoints.get('s'), 'g2');
      // Only c's batch was retried; a and g ran once.
      assert.deepEqual(fn.batches.map((b) => b.join()).sort(), [
        'a1,a2',
        'c1,c2',
        'c1,c2',
        'g1,g2',
      ]);
    });

    test('keys spread over the lanes', () => {
      const counts = new Array(4).fill(0);
      for (let i = 0; i < 400; i++) counts[laneOf(`device-${i}`, 4)]++;
      for (const c of counts) assert.ok(c > 50, JSON.stringify(counts));
      assert.equal(laneOf(undefined, 4), 0);
    });
  });
});
