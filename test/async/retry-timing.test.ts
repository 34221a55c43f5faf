import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import pino from 'pino';
import type { InvokeResult } from '../../src/model/invocation.js';
import { AsyncInvoker } from '../../src/platform/async/async-invoker.js';
import { AsyncWorker } from '../../src/platform/async/async-worker.js';
import { InvocationRecords } from '../../src/platform/async/invocation-records.js';
import { defaultRetrySettings } from '../../src/platform/async/retry-policy.js';
import type { Invoker, ResolvedFunction } from '../../src/platform/invoker/invoker-port.js';
import { TooManyRequestsError } from '../../src/platform/pool/pool-errors.js';
import { SqlWorkQueue } from '../../src/queue/sql-work-queue.js';
import type { Database } from '../../src/store/schema.js';
import { openSqliteDatabase } from '../../src/store/sqlite.js';
import { fnDef } from '../helpers/definitions.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** The worker on a real SQLite queue with a clock the test moves: every attempt's time is exact. */
describe('async retry timing with an injected clock', () => {
  let db: Kysely<Database>;
  let cleanup: () => Promise<void>;
  before(async () => {
    const tmp = await makeTempDir();
    db = await openSqliteDatabase({ file: join(tmp.dir, 'q.db') });
    cleanup = async () => {
      await db.destroy();
      await tmp.cleanup();
    };
  });
  after(() => cleanup());
  // Each test's worker is stopped after it: a worker left running (a run's end schedules another
  // pass) would lease the next test's events with its own invoker.
  const workers: AsyncWorker[] = [];
  afterEach(() => Promise.all(workers.splice(0).map((w) => w.stop())));

  function setup(
    name: string,
    outcome: (attempt: number) => InvokeResult['outcome'] | Error,
    config = {},
  ) {
    let now = 1_000_000;
    const clock = { now: () => now };
    const calls: number[] = [];
    const resolved: ResolvedFunction = {
      service: 'svc',
      stage: 'dev',
      region: 'us-east-1',
      functionName: name,
      version: '1',
      config: fnDef(name, { name, maximumRetryAttempts: 3, ...config }),
      codeSha256: 'a'.repeat(64),
    };
    const invoker: Invoker = {
      resolve: async () => resolved,
      invoke: async (_ref, _q, opts) => {
        calls.push(now);
        const out = outcome(calls.length);
        if (out instanceof Error) throw out;
        const result: InvokeResult = {
          outcome: out,
          executedVersion: '1',
          durationMs: 1,
          maxMemoryUsedMb: 1,
        };
        return { requestId: opts.requestId ?? 'x', functionName: name, result };
      },
    };
    const queue = new SqlWorkQueue(db, { flavor: 'sqlite', clock });
    const records = new InvocationRecords(db);
    const worker: AsyncWorker = new AsyncWorker({
      queue,
      records,
      invoker,
      asyncInvoker: () => accepter,
      clock,
      logger: pino({ level: 'silent' }),
      retry: defaultRetrySettings,
      concurrencyOf: () => 1,
      leaseMs: 30_000,
      pollMs: 3_600_000,
      region: 'us-east-1',
    });
    workers.push(worker);
    const accepter = new AsyncInvoker({ invoker, queue, records, clock, wake: () => {} });
    const step = async (ms: number) => {
      now += ms;
      await worker.pump();
      await worker.idle();
    };
    return { accepter, records, worker, calls, step, start: 1_000_000 };
  }

  test('function errors: retried maximumRetryAttempts times, 1 min then 2 min then 3 min apart', async () => {
    const h = setup('fails', () => ({
      status: 'error',
      error: { errorType: 'Error', errorMessage: 'no' },
    }));
    const { requestId } = await h.accepter.accept('fails', undefined, '{}');
    await h.step(0);
    assert.deepEqual(h.calls, [h.start]);
    assert.equal((await h.records.get(requestId))?.status, 'Retrying');
    await h.step(59_999);
    assert.equal(h.calls.length, 1, 'not before the delay');
    await h.step(1);
    await h.step(120_000);
    await h.step(180_000);
    assert.deepEqual(
      h.calls.map((t) => t - h.start),
      [0, 60_000, 180_000, 360_000],
    );
    const record = await h.records.get(requestId);
    assert.equal(record?.status, 'Failed');
    assert.equal(record?.attempts, 4);
    await h.step(10 * 60_000);
    assert.equal(h.calls.length, 4, 'nothing after the last attempt');
  });

  test('system errors back off 0.5 s, 1 s, 2 s ... and use up no function-error attempt', async () => {
    let attempt = 0;
    const h = setup(
      'throttled',
      () => {
        attempt += 1;
        if (attempt <= 4)
          return new TooManyRequestsError('ReservedFunctionConcurrentInvocationLimitExceeded');
        return { status: 'error', error: { errorType: 'Error', errorMessage: 'real' } };
      },
      { maximumRetryAttempts: 0 },
    );
    const { requestId } = await h.accepter.accept('throttled', undefined, '{}');
    await h.step(0);
    for (const ms of [500, 1000, 2000, 4000]) await h.step(ms);
    assert.deepEqual(
      h.calls.map((t) => t - h.start),
      [0, 500, 1500, 3500, 7500],
    );
    // Four throttles, then one function error with 0 retries allowed: failed after that one.
    assert.equal((await h.records.get(requestId))?.status, 'Failed');
  });

  test('an event older than maximumEventAge is not run: Expired (EventAgeExceeded)', async () => {
    const h = setup(
      'old',
      () => ({ status: 'error', error: { errorType: 'Error', errorMessage: 'no' } }),
      {
        maximumEventAge: 90,
      },
    );
    const { requestId } = await h.accepter.accept('old', undefined, '{}');
    await h.step(0);
    await h.step(60_000); // second attempt at +60 s
    await h.step(120_000); // the third would be at +180 s, past the 90 s age
    assert.equal(h.calls.length, 2);
    const record = await h.records.get(requestId);
    assert.equal(record?.status, 'Expired');
  });
});
