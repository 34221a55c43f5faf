import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Lifecycle, LifecycleStopError, part } from '../../src/platform/lifecycle/lifecycle.js';
import { PeriodicTask } from '../../src/platform/lifecycle/periodic-task.js';
import { FakeScheduler } from '../observe/fakes.js';

describe('Lifecycle', () => {
  test('starts in order and stops in reverse, passing one deadline to every part', async () => {
    const log: string[] = [];
    const deadlines: number[] = [];
    const lifecycle = new Lifecycle({ now: () => 1_000 });
    for (const name of ['store', 'pool', 'listener']) {
      await lifecycle.start(
        name,
        part(
          (ctx) => {
            log.push(`stop ${name}`);
            deadlines.push(ctx.deadline);
          },
          () => {
            log.push(`start ${name}`);
          },
        ),
      );
    }
    assert.deepEqual(lifecycle.parts, ['store', 'pool', 'listener']);
    await lifecycle.stop({ graceMs: 500 });
    assert.deepEqual(log, [
      'start store',
      'start pool',
      'start listener',
      'stop listener',
      'stop pool',
      'stop store',
    ]);
    assert.deepEqual(deadlines, [1_500, 1_500, 1_500]);
  });

  test('a part that fails to stop does not skip the rest; all failures come together', async () => {
    const stopped: string[] = [];
    const lifecycle = new Lifecycle();
    await lifecycle.start(
      'store',
      part(() => {
        stopped.push('store');
      }),
    );
    await lifecycle.start(
      'worker',
      part(async () => {
        throw new Error('lease release failed');
      }),
    );
    await lifecycle.start(
      'pool',
      part(() => {
        stopped.push('pool');
      }),
    );
    await lifecycle.start(
      'listener',
      part(() => {
        throw new Error('socket stuck');
      }),
    );
    const error = await lifecycle.stop().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof LifecycleStopError);
    assert.deepEqual(
      error.failures.map((f) => f.part),
      ['listener', 'worker'],
    );
    assert.match(error.message, /listener \(socket stuck\), worker \(lease release failed\)/);
    assert.deepEqual(stopped, ['pool', 'store']);
  });

  test('stop() is idempotent and nothing starts once stopping', async () => {
    let stops = 0;
    const lifecycle = new Lifecycle();
    await lifecycle.start(
      'one',
      part(() => {
        stops += 1;
      }),
    );
    await Promise.all([lifecycle.stop(), lifecycle.stop()]);
    await lifecycle.stop();
    assert.equal(stops, 1);
    await assert.rejects(
      lifecycle.start(
        'late',
        part(() => {}),
      ),
      /platform is stopping/,
    );
  });

  test('a part whose start fails is not registered', async () => {
    const lifecycle = new Lifecycle();
    await assert.rejects(
      lifecycle.start(
        'broken',
        part(
          () => {},
          () => {
            throw new Error('no port');
          },
        ),
      ),
      /no port/,
    );
    assert.deepEqual(lifecycle.parts, []);
  });
});

describe('PeriodicTask', () => {
  test('runs every interval, logs a failed run and keeps going, stops cleanly', async () => {
    const timer = new FakeScheduler();
    const errors: string[] = [];
    let runs = 0;
    const task = new PeriodicTask({
      name: 'reaping',
      everyMs: 1_000,
      timer,
      logger: { error: (_obj: unknown, msg: string) => errors.push(msg) } as never,
      run: async () => {
        runs += 1;
        if (runs === 1) throw new Error('store busy');
      },
    });
    task.start();
    timer.fire(1_000);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(errors, ['reaping failed']);
    timer.fire(1_000);
    await new Promise((r) => setImmediate(r));
    assert.equal(runs, 2);
    await task.stop();
    assert.deepEqual(timer.pending, []);
  });
});
