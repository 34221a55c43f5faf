import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import pino from 'pino';
import type { InvokeResult } from '../../src/model/invocation.js';
import { AsyncInvoker } from '../../src/platform/async/async-invoker.js';
import { AsyncWorker } from '../../src/platform/async/async-worker.js';
import { InvocationRecords } from '../../src/platform/async/invocation-records.js';
import { defaultRetrySettings } from '../../src/platform/async/retry-policy.js';
import { scheduleFiring } from '../../src/platform/async/schedule-firing.js';
import {
  FunctionNotFoundError,
  type Invoker,
  type ResolvedFunction,
} from '../../src/platform/invoker/invoker-port.js';
import { TooManyRequestsError } from '../../src/platform/pool/pool-errors.js';
import { KyselyScheduleLedger } from '../../src/platform/triggers/schedule/kysely-schedule-ledger.js';
import type { Schedule } from '../../src/platform/triggers/schedule/schedule.js';
import { ScheduleRunner } from '../../src/platform/triggers/schedule/scheduler.js';
import { SqlWorkQueue } from '../../src/queue/sql-work-queue.js';
import { GroupCommitter, groupCommitter } from '../../src/store/group-commit.js';
import type { Database } from '../../src/store/schema.js';
import { fnDef } from '../helpers/definitions.js';
import { databaseVariants } from '../helpers/store-variants.js';

type Outcome = InvokeResult['outcome'] | Error;

for (const variant of databaseVariants)
  describe(`async steps are atomic on ${variant.name}`, () => {
    let db: Kysely<Database>;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ db, cleanup } = await variant.open());
    });
    after(() => cleanup());
    // Each test's worker is stopped after it: a pass its timer started must not settle (and
    // queue a destination event) into the next test's tables.
    const workers: AsyncWorker[] = [];
    afterEach(async () => {
      for (const w of workers.splice(0)) await w.stop();
    });
    beforeEach(async () => {
      for (const table of ['work_jobs', 'work_job_keys', 'async_invocations', 'schedule_state']) {
        await sql`delete from ${sql.table(table)}`.execute(db);
      }
    });

    function setup(opts: {
      outcome?: (call: number) => Outcome;
      config?: Record<string, unknown>;
      /** Function names resolve() refuses (not deployed). */
      missing?: string[];
      onInvoke?: () => Promise<void>;
      leaseMs?: number;
    }) {
      let now = 1_000_000;
      const clock = { now: () => now };
      const calls: string[] = [];
      const logs: { msg: string }[] = [];
      const logger = pino(
        { level: 'warn' },
        new Writable({
          write(chunk, _enc, done) {
            logs.push(JSON.parse(String(chunk)));
            done();
          },
        }),
      );
      const resolved = (name: string): ResolvedFunction => ({
        service: 'svc',
        stage: 'dev',
        region: 'us-east-1',
        functionName: name,
        version: '1',
        config: fnDef(name, { name, maximumRetryAttempts: 0, ...opts.config }),
        codeSha256: 'a'.repeat(64),
      });
      const invoker: Invoker = {
        resolve: async (name) => {
          if (opts.missing?.includes(name)) throw new FunctionNotFoundError(`${name} not found`);
          return resolved(name);
        },
        invoke: async (name, _q, o) => {
          calls.push(name);
          await opts.onInvoke?.();
          const out = opts.outcome?.(calls.length) ?? { status: 'ok', payload: '"done"' };
          if (out instanceof Error) throw out;
          const result: InvokeResult = {
            outcome: out,
            executedVersion: '1',
            durationMs: 1,
            maxMemoryUsedMb: 1,
          };
          return { requestId: o.requestId ?? 'x', functionName: name, result };
        },
      };
      const flavor = variant.name === 'postgres' ? 'postgres' : 'sqlite';
      const queue = new SqlWorkQueue(db, { flavor, clock });
      const records = new InvocationRecords(db);
      const worker: AsyncWorker = new AsyncWorker({
        queue,
        records,
        invoker,
        asyncInvoker: () => accepter,
        clock,
        logger,
        retry: defaultRetrySettings,
        concurrencyOf: () => 4,
        leaseMs: opts.leaseMs ?? 30_000,
        pollMs: 3_600_000,
        region: 'us-east-1',
      });
      const accepter = new AsyncInvoker({ invoker, queue, records, clock, wake: () => {} });
      workers.push(worker);
      const step = async (ms = 0) => {
        now += ms;
        await worker.pump();
        await worker.idle();
      };
      /** Rows of one function's queue when `fn` is given (a stopped test's late writes aside). */
      const counts = async (fn?: string) => ({
        jobs: Number(
          (
            await sql<{ n: number }>`select count(*) as n from work_jobs ${
              fn === undefined ? sql`` : sql`where queue = ${fn}`
            }`.execute(db)
          ).rows[0]!.n,
        ),
        records: Number(
          (
            await sql<{ n: number }>`select count(*) as n from async_invocations ${
              fn === undefined ? sql`` : sql`where function_name = ${fn}`
            }`.execute(db)
          ).rows[0]!.n,
        ),
      });
      return {
        accepter,
        queue,
        records,
        worker,
        calls,
        logs,
        step,
        counts,
        clock,
        advance: (ms: number) => {
          now += ms;
        },
      };
    }

    test('accept: the job and the record commit together or not at all', async () => {
      const h = setup({});
      for (const idempotencyKey of [undefined, 'k1']) {
        const prepared = await h.accepter.prepare(
          'svc-dev-a',
          undefined,
          '{}',
          idempotencyKey ? { idempotencyKey } : {},
        );
        await assert.rejects(
          h.queue.transaction(async (tx) => {
            await h.accepter.acceptWithin(tx, prepared);
            // A crash between the writes and the commit.
            throw new Error('crash');
          }),
          /crash/,
        );
        assert.deepEqual(await h.counts(), { jobs: 0, records: 0 });
      }
      // The key was rolled back with its job: the next event with it is new, with a record.
      const first = await h.accepter.accept('svc-dev-a', undefined, '{}', { idempotencyKey: 'k1' });
      const again = await h.accepter.accept('svc-dev-a', undefined, '{}', { idempotencyKey: 'k1' });
      assert.equal(first.duplicate, false);
      assert.deepEqual(again, { requestId: first.requestId, duplicate: true });
      const record = await h.records.get(first.requestId);
      assert.equal(record?.status, 'Enqueued');
      assert.ok(record?.jobId);
      assert.deepEqual(await h.counts(), { jobs: 1, records: 1 });
    });

    test('concurrent accepts are group-committed, each answered after its commit', async () => {
      const h = setup({});
      const committer = groupCommitter(db);
      const before = { ...committer.stats };
      const n = 50;
      const accepted = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          h.accepter.accept('svc-dev-a', undefined, JSON.stringify({ i })),
        ),
      );
      const commits = committer.stats.commits - before.commits;
      assert.equal(committer.stats.units - before.units, n);
      assert.ok(commits < n / 5, `${n} accepts took ${commits} commits`);
      for (const a of accepted)
        assert.equal((await h.records.get(a.requestId))?.status, 'Enqueued');
      assert.deepEqual(await h.counts(), { jobs: n, records: n });
    });

    test('a settle whose lease was lost writes nothing and is logged; so is a lost heartbeat', async () => {
      let thief: SqlWorkQueue | undefined;
      const h = setup({
        leaseMs: 150,
        onInvoke: async () => {
          // The lease runs out mid-run and another worker takes the job.
          h.advance(1_000);
          const [stolen] = await thief!.lease('svc-dev-a', { max: 1, leaseMs: 60_000 });
          assert.ok(stolen, 'the job was leased again');
          // Long enough for a heartbeat (every leaseMs / 3 of real time) to find it gone.
          await new Promise((r) => setTimeout(r, 120));
        },
      });
      thief = h.queue;
      const { requestId } = await h.accepter.accept('svc-dev-a', undefined, '{}');
      await h.step();
      assert.equal((await h.records.get(requestId))?.status, 'Running', 'the newer holder owns it');
      const messages = h.logs.map((l) => l.msg);
      assert.ok(
        messages.some((m) => /not settled: its lease was lost/.test(m)),
        messages.join('\n'),
      );
      assert.ok(
        messages.some((m) => /lease lost while running/.test(m)),
        messages.join('\n'),
      );
    });

    test('reservedConcurrency 0 fails the event at once, without retries', async () => {
      const h = setup({
        config: { reservedConcurrency: 0, maximumRetryAttempts: 2 },
        outcome: () =>
          new TooManyRequestsError('ReservedFunctionConcurrentInvocationLimitExceeded'),
      });
      const { requestId } = await h.accepter.accept('svc-dev-a', undefined, '{}');
      await h.step();
      const record = await h.records.get(requestId);
      assert.equal(record?.status, 'Failed');
      assert.equal(
        (record?.lastError as { errorType?: string } | undefined)?.errorType,
        'TooManyRequestsException',
      );
      assert.equal(h.calls.length, 1);
      const [dead] = await h.queue.listDead('svc-dev-a', { limit: 10 });
      assert.equal(
        (dead?.reason as { condition?: string } | undefined)?.condition,
        'RetriesExhausted',
      );
    });

    test('an onFailure function that cannot be invoked: the event is dead-lettered with why', async () => {
      const h = setup({
        config: { destinations: { onFailure: 'gone' } },
        missing: ['svc-dev-gone'],
        outcome: () => ({ status: 'error', error: { errorType: 'Error', errorMessage: 'no' } }),
      });
      const { requestId } = await h.accepter.accept('svc-dev-a', undefined, '{}');
      await h.step();
      const record = await h.records.get(requestId);
      assert.equal(record?.status, 'Failed');
      assert.deepEqual(record?.destination, {
        type: 'dead-letter',
        status: 'Stored',
        failedDestination: {
          type: 'function',
          target: 'svc-dev-gone',
          error: 'svc-dev-gone not found',
        },
      });
      const [dead] = await h.queue.listDead('svc-dev-a', { limit: 10 });
      assert.deepEqual((dead?.reason as { destination?: unknown } | undefined)?.destination, {
        type: 'function',
        target: 'svc-dev-gone',
        error: 'svc-dev-gone not found',
      });
    });

    test('an onSuccess function destination is queued in the settle transaction', async () => {
      const h = setup({ config: { destinations: { onSuccess: 'audit' } } });
      const { requestId } = await h.accepter.accept('svc-dev-a', undefined, '{"x":1}');
      await h.step();
      const record = await h.records.get(requestId);
      const dest = record?.destination as { status: string; requestId: string };
      assert.equal(dest.status, 'Delivered');
      const audit = await h.records.get(dest.requestId);
      assert.equal(audit?.functionName, 'svc-dev-audit');
      // A timer-started pass may hold the pump when step() calls it: step until it has run.
      for (
        let i = 0;
        i < 20 && (await h.records.get(dest.requestId))?.status !== 'Succeeded';
        i++
      ) {
        await h.step();
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal((await h.records.get(dest.requestId))?.status, 'Succeeded');
    });

    test('a schedule slot fires once when the process dies between claim and accept', async () => {
      const h = setup({});
      const schedule: Schedule = {
        id: 'svc-dev-sched-schedule-1',
        functionName: 'svc-dev-sched',
        qualifier: 'dev',
        expression: 'rate(1 minute)',
        event: { kind: 'schedule', rate: ['rate(1 minute)'], enabled: true },
      };
      const firing = scheduleFiring(h.accepter, { region: 'us-east-1' });
      const timer = { schedule: () => () => {} };
      const runner = (fire: typeof firing.fire) =>
        new ScheduleRunner({
          ledger: new KyselyScheduleLedger(db, { mode: 'same-transaction' }),
          clock: h.clock,
          timer,
          prepare: firing.prepare,
          fire,
          onError: () => {},
        });
      // The first "process" claims the slot and accepts, then dies before the commit.
      const dying = runner(async (s, at, tx, prepared) => {
        await firing.fire(s, at, tx, prepared);
        throw new Error('killed between claim and commit');
      });
      await dying.setSchedules([schedule]);
      h.advance(60_000);
      await dying.tick();
      await dying.stop();
      assert.deepEqual(
        await h.counts('svc-dev-sched'),
        { jobs: 0, records: 0 },
        'claim and accept rolled back',
      );
      // A restarted process fires the slot, once.
      const restarted = runner(firing.fire);
      await restarted.setSchedules([schedule]);
      await restarted.tick();
      await restarted.tick();
      assert.deepEqual(await h.counts('svc-dev-sched'), { jobs: 1, records: 1 });
      const again = runner(firing.fire);
      await again.setSchedules([schedule]);
      await again.tick();
      assert.deepEqual(
        await h.counts('svc-dev-sched'),
        { jobs: 1, records: 1 },
        'a third runner finds it claimed',
      );
      await restarted.stop();
      await again.stop();
    });

    test('group commit: a failing unit fails alone; the others commit', async () => {
      const committer = new GroupCommitter(db);
      const insert = (id: string) =>
        committer.run(async (tx) => {
          await tx
            .insertInto('async_invocations')
            .values({
              id,
              function_name: 'f',
              version: '1',
              status: 'Enqueued',
              job_id: null,
              attempts: 0,
              created_at: 1,
              updated_at: 1,
              last_error: null,
              result: null,
              destination: null,
            })
            .execute();
          if (id === 'bad') throw new Error('bad unit');
          return id;
        });
      const results = await Promise.allSettled(['a', 'bad', 'b'].map(insert));
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      const ids = (
        await db.selectFrom('async_invocations').select('id').orderBy('id').execute()
      ).map((r) => r.id);
      assert.deepEqual(ids, ['a', 'b']);
    });

    test('group commit, isolated units: a failing one is undone alone, the batch commits once', async () => {
      const committer = new GroupCommitter(db);
      const insert = (id: string) =>
        committer.run(
          async (tx) => {
            await tx
              .insertInto('async_invocations')
              .values({
                id,
                function_name: 'f',
                version: '1',
                status: 'Enqueued',
                job_id: null,
                attempts: 0,
                created_at: 1,
                updated_at: 1,
                last_error: null,
                result: null,
                destination: null,
              })
              .execute();
            if (id === 'iso-bad') throw new Error('bad unit');
            return id;
          },
          { isolated: true },
        );
      const results = await Promise.allSettled(['iso-a', 'iso-bad', 'iso-b'].map(insert));
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.deepEqual(committer.stats, { commits: 1, units: 3 }, 'one transaction, no rerun');
      const ids = (
        await db
          .selectFrom('async_invocations')
          .select('id')
          .where('id', 'like', 'iso-%')
          .orderBy('id')
          .execute()
      ).map((r) => r.id);
      assert.deepEqual(ids, ['iso-a', 'iso-b']);
    });
  });
