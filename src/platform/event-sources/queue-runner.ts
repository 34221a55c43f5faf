/**
 * Runs one mapping on a queue source: batches are gathered by one poller, up to five while
 * there is a backlog, and handed to up to `maximumConcurrency` invocations in flight. A batch's records are removed from the queue
 * when the function is done with them (all, or all but the reported failures) and when they
 * are filtered out; failed records stay leased, reappear after the queue's visibility timeout
 * and go to its dead-letter queue after maxReceiveCount: retries belong to the queue.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../model/clock.js';
import type { Scheduler } from '../observe/scheduler.js';
import { batchOutcome } from './batch-outcome.js';
import { collectBatch } from './collect-batch.js';
import { passesFilters } from './filter-pattern.js';
import { type InvokeBatch, recordsPayload } from './invoke-batch.js';
import type { IteratorAges } from './iterator-age.js';
import { defaultQueueConcurrency, type Mapping, patternsOf } from './mapping.js';
import type { QueueSource, SourceRecord } from './source-port.js';
import { pause, Slots } from './wait.js';

export interface RunnerDeps {
  invoke: InvokeBatch;
  clock: Clock;
  timer: Scheduler;
  logger: Pick<Logger, 'warn' | 'error'>;
  /** Lambda's 6 MB synchronous payload. */
  maxBatchBytes: number;
  /** Told the age of each batch's oldest record as it goes to the function (metrics). */
  iteratorAges?: IteratorAges;
}

export interface Runner {
  /** Resolves once no batch is in flight. */
  stop(): Promise<void>;
}

/** Receive loops of one mapping at most (Lambda's first SQS pollers). */
const maxPollers = 5;

/** After a source error (queue deleted, store down) polling waits this long, doubling. */
const errorBackoffMs = { first: 1_000, max: 30_000 };

export function runQueueMapping(mapping: Mapping, source: QueueSource, deps: RunnerDeps): Runner {
  const aborted = new AbortController();
  const slots = new Slots(mapping.maximumConcurrency ?? defaultQueueConcurrency);
  const inFlight = new Set<Promise<void>>();
  const patterns = patternsOf(mapping);
  const reportItemFailures = mapping.functionResponseTypes.includes('ReportBatchItemFailures');

  async function handle(batch: SourceRecord[]): Promise<void> {
    // Without patterns no record's filter view is built (SQS: a JSON.parse of every body).
    const passed =
      patterns.length === 0 ? batch : batch.filter((r) => passesFilters(patterns, r.filterView));
    // Lambda deletes the messages its filters drop.
    if (passed.length < batch.length) {
      await source.remove(batch.filter((r) => !passed.includes(r)));
    }
    if (passed.length === 0) return;
    deps.iteratorAges?.saw(mapping, oldestAge(passed, deps.clock.now()));
    const result = await deps.invoke(mapping, recordsPayload(passed));
    const outcome = batchOutcome(result, passed, reportItemFailures);
    if (outcome.kind === 'failure') {
      deps.logger.warn(
        { mapping: mapping.uuid, records: passed.length, reason: outcome.reason },
        'event source batch failed; its messages reappear after the visibility timeout',
      );
      return;
    }
    const done =
      outcome.kind === 'success' ? passed : passed.filter((r) => !outcome.failed.has(r.id));
    await source.remove(done);
  }

  /** `backlog` is told of every full batch; an extra (not primary) poller ends when idle. */
  async function loop(primary: boolean, backlog: () => void): Promise<void> {
    let backoff = errorBackoffMs.first;
    while (!aborted.signal.aborted) {
      await slots.acquire();
      let batch: SourceRecord[];
      try {
        batch = await collectBatch((max, wait, signal) => source.receive(max, wait, signal), {
          batchSize: mapping.batchSize,
          windowMs: mapping.maximumBatchingWindowInSeconds * 1000,
          clock: deps.clock,
          signal: aborted.signal,
          maxBytes: deps.maxBatchBytes,
        });
        backoff = errorBackoffMs.first;
      } catch (error) {
        slots.release();
        deps.logger.error({ err: error, mapping: mapping.uuid }, 'polling an event source failed');
        await pause(deps.timer, backoff, aborted.signal);
        backoff = Math.min(backoff * 2, errorBackoffMs.max);
        continue;
      }
      if (batch.length === 0) {
        slots.release();
        if (!primary) return;
        continue;
      }
      if (batch.length >= mapping.batchSize) backlog();
      const run = handle(batch)
        .catch((error: unknown) =>
          deps.logger.error({ err: error, mapping: mapping.uuid }, 'handling a batch failed'),
        )
        .finally(() => {
          slots.release();
          inFlight.delete(run);
        });
      inFlight.add(run);
    }
  }

  // One poller while the queue is idle (one long poll at a time); while full batches keep
  // coming, more pollers (up to five, as Lambda scales its SQS pollers on a backlog) share the
  // slots, so while one waits for its claim to commit, the others' claims join the same commit
  // (the store's group commit on SQLite) instead of one claim per commit. An extra poller stops
  // at its first empty receive. The queue hands each message to one claim, and a FIFO queue's
  // claims still see the groups in flight.
  const maxPollersHere = Math.min(
    mapping.maximumConcurrency ?? defaultQueueConcurrency,
    maxPollers,
  );
  const loops = new Set<Promise<void>>();
  const startPoller = (primary: boolean) => {
    const looping: Promise<void> = loop(primary, () => {
      if (loops.size < maxPollersHere && !aborted.signal.aborted) startPoller(false);
    }).finally(() => loops.delete(looping));
    loops.add(looping);
  };
  startPoller(true);
  return {
    async stop() {
      aborted.abort();
      while (loops.size > 0) await Promise.all([...loops]);
      await Promise.all([...inFlight]);
    },
  };
}

/** Milliseconds since the oldest of `records` entered its source. */
export function oldestAge(records: readonly SourceRecord[], now: number): number {
  let oldest = now;
  for (const r of records) if (r.arrivedAt < oldest) oldest = r.arrivedAt;
  return now - oldest;
}
