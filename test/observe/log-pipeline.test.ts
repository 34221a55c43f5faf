import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LogEvent } from '../../src/model/invocation.js';
import { defaultRetentionMs, LogPipeline } from '../../src/platform/observe/log-pipeline.js';
import { FakeClock, FakeScheduler, logLine, MemoryLogStore, settle } from './fakes.js';

function setup(
  options: {
    batchSize?: number;
    maxBuffered?: number;
    retentionMs?: number;
    retentionOf?: () => Promise<ReadonlyMap<string, number>>;
  } = {},
) {
  const store = new MemoryLogStore();
  const scheduler = new FakeScheduler();
  const clock = new FakeClock();
  const warnings: { detail: object; message: string }[] = [];
  const pipeline = new LogPipeline({
    store,
    scheduler,
    clock,
    log: { warn: (detail, message) => warnings.push({ detail, message }) },
    pruneEveryMs: 0,
    ...options,
  });
  return { store, scheduler, clock, warnings, pipeline };
}

describe('LogPipeline', () => {
  test('write only buffers; one batch lands when the flush interval passes', async () => {
    const { store, scheduler, pipeline } = setup();
    pipeline.write(logLine('one'));
    pipeline.write(logLine('two'));
    await settle();
    assert.equal(store.events.length, 0, 'nothing reaches the store on the write path');
    assert.deepEqual(scheduler.pending, [100], 'one timer for the batch, not one per line');
    scheduler.fire(100);
    await settle();
    assert.deepEqual(store.batches, [2]);
    assert.deepEqual(
      store.events.map((e) => e.message),
      ['one', 'two'],
    );
    assert.deepEqual(pipeline.stats(), { buffered: 0, stored: 2, dropped: 0 });
  });

  test('a full batch is written at once, without waiting for the timer', async () => {
    const { store, pipeline } = setup({ batchSize: 3 });
    for (const m of ['a', 'b', 'c', 'd']) pipeline.write(logLine(m));
    await settle();
    assert.deepEqual(store.batches, [3]);
    await pipeline.flush();
    assert.deepEqual(store.batches, [3, 1]);
  });

  test('a store that falls behind costs the oldest lines, counted and reported', async () => {
    const { store, scheduler, warnings, pipeline } = setup({ batchSize: 2, maxBuffered: 3 });
    store.hold();
    pipeline.write(logLine('l0'));
    pipeline.write(logLine('l1')); // a batch of two goes in flight and hangs
    for (let i = 2; i < 8; i++) pipeline.write(logLine(`l${i}`));
    assert.deepEqual(pipeline.stats(), { buffered: 5, stored: 0, dropped: 3 });
    scheduler.fire(100);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /falling behind/);
    assert.deepEqual(warnings[0]!.detail, { dropped: 3, droppedTotal: 3 });
    store.release();
    await pipeline.flush();
    assert.deepEqual(
      store.events.map((e) => e.message),
      ['l0', 'l1', 'l5', 'l6', 'l7'],
      'the in-flight batch survives; l2..l4 were the oldest buffered',
    );
  });

  test('a failed write keeps the batch, in order, for the next tick', async () => {
    const { store, scheduler, warnings, pipeline } = setup();
    store.failNext = 1;
    pipeline.write(logLine('first'));
    scheduler.fire(100);
    await settle();
    assert.equal(store.events.length, 0);
    assert.match(warnings[0]!.message, /write failed/);
    pipeline.write(logLine('second'));
    assert.deepEqual(scheduler.pending, [100], 'retried on the next tick');
    scheduler.fire(100);
    await settle();
    assert.deepEqual(
      store.events.map((e) => e.message),
      ['first', 'second'],
    );
  });

  test('flush() never rejects, even while the store is down', async () => {
    const { store, pipeline } = setup();
    store.failNext = 5;
    pipeline.write(logLine('x'));
    await pipeline.flush();
    assert.deepEqual(pipeline.stats(), { buffered: 1, stored: 0, dropped: 0 });
  });

  test('subscribers see lines of their function at write time, before they are stored', () => {
    const { store, pipeline } = setup();
    const seen: string[] = [];
    const stop = pipeline.subscribe('svc-dev-hello', (e) => seen.push(e.message));
    pipeline.subscribe('svc-dev-hello', () => {
      throw new Error('a broken follower');
    });
    pipeline.write(logLine('mine'));
    pipeline.write(logLine('not mine', 'svc-dev-other'));
    assert.deepEqual(seen, ['mine']);
    assert.equal(store.events.length, 0);
    stop();
    pipeline.write(logLine('after unsubscribe'));
    assert.deepEqual(seen, ['mine']);
    assert.equal(pipeline.stats().buffered, 3, 'a throwing listener does not lose the line');
  });

  test('follow() hands over unstored lines and where stored history must stop', async () => {
    const { store, pipeline } = setup();
    pipeline.write(logLine('stored'));
    await pipeline.flush();
    store.hold();
    pipeline.write(logLine('in flight'));
    const flushing = pipeline.flush();
    pipeline.write(logLine('buffered'));
    pipeline.write(logLine('other fn', 'svc-dev-other'));

    const live: LogEvent[] = [];
    const follow = pipeline.follow('svc-dev-hello', (e) => live.push(e));
    assert.deepEqual(
      follow.pending.map((e) => e.message),
      ['in flight', 'buffered'],
    );
    pipeline.write(logLine('live'));
    assert.deepEqual(
      live.map((e) => e.message),
      ['live'],
    );

    store.release();
    await flushing;
    await pipeline.flush();
    const bound = await follow.historyBefore();
    const inFlightId = store.events.find((e) => e.message === 'in flight')!.id;
    assert.equal(bound, inFlightId, 'everything stored from here on was pending or live');
    const history = (await store.query({ functionName: 'svc-dev-hello', limit: 10 })).filter(
      (e) => e.id < bound!,
    );
    assert.deepEqual(
      history.map((e) => e.message),
      ['stored'],
    );
    follow.stop();
    pipeline.write(logLine('after stop'));
    assert.equal(live.length, 1);
  });

  test('historyBefore() waits for a batch being stored when it is asked', async () => {
    const { store, pipeline } = setup();
    const follow = pipeline.follow('svc-dev-hello', () => {});
    store.hold();
    pipeline.write(logLine('racing'));
    const flushing = pipeline.flush();
    await settle();
    const asked = follow.historyBefore();
    store.release();
    assert.equal(await asked, 1);
    await flushing;
  });

  test('prune() deletes by age from the injected clock; a timer runs it on its own', async () => {
    const store = new MemoryLogStore();
    const scheduler = new FakeScheduler();
    const clock = new FakeClock(10 * defaultRetentionMs);
    const pipeline = new LogPipeline({ store, scheduler, clock, pruneEveryMs: 1000 });
    store.events.push(
      { id: 1, ...logLine('too old', 'f', clock.ms - defaultRetentionMs - 1) },
      { id: 2, ...logLine('just kept', 'f', clock.ms - defaultRetentionMs) },
    );
    scheduler.fire(1000);
    await settle();
    assert.deepEqual(store.cutoffs, [clock.ms - defaultRetentionMs]);
    assert.deepEqual(
      store.events.map((e) => e.message),
      ['just kept'],
    );
    assert.deepEqual(scheduler.pending, [1000], 'and re-arms');

    const short = setup({ retentionMs: 60_000 });
    await short.pipeline.prune();
    assert.deepEqual(short.store.cutoffs, [short.clock.ms - 60_000]);
    await pipeline.stop();
  });

  test("prune() keeps each function's lines for its own retention, the rest for the default", async () => {
    const day = 86_400_000;
    const { store, clock, pipeline } = setup({
      retentionOf: async () =>
        new Map([
          ['short', 1 * day],
          ['long', 30 * day],
        ]),
    });
    clock.ms = 100 * day;
    const at = (fn: string, daysAgo: number) =>
      store.events.push({
        id: store.events.length + 1,
        ...logLine(`${fn} ${daysAgo}`, fn, clock.ms - daysAgo * day),
      });
    for (const daysAgo of [0.5, 2, 8, 31]) {
      at('short', daysAgo);
      at('long', daysAgo);
      at('default', daysAgo);
    }
    await pipeline.prune();
    assert.deepEqual(store.events.map((e) => e.message).sort(), [
      'default 0.5',
      'default 2',
      'long 0.5',
      'long 2',
      'long 8',
      'short 0.5',
    ]);
  });

  test('close() stores what is buffered, stops the timers and drops later lines', async () => {
    const { store, scheduler, pipeline } = setup();
    pipeline.write(logLine('last words'));
    await pipeline.stop();
    assert.deepEqual(
      store.events.map((e) => e.message),
      ['last words'],
    );
    assert.deepEqual(scheduler.pending, []);
    pipeline.write(logLine('too late'));
    assert.deepEqual(pipeline.stats(), { buffered: 0, stored: 1, dropped: 1 });
  });
});
