/**
 * Runs one mapping on an ordered stream source: one loop per shard, one batch in flight per
 * shard, so records reach the function in shard order. With a parallelizationFactor N above 1
 * a loop reads up to N batches' worth of records at once, deals them to N lanes by a hash of
 * their key (the partition key) and runs the lanes' batches concurrently: records of one key
 * keep their order, the next read waits for every lane (a round), and the checkpoint moves
 * only up to the first record of the round not yet done with. The checkpoint moves only past records
 * the engine is done with: processed, filtered out, or given up on (reported to the on-failure
 * destination after maximumRetryAttempts or maximumRecordAgeInSeconds). A failing batch is
 * retried with backoff, split in two first when bisectBatchOnFunctionError is set; with
 * ReportBatchItemFailures the checkpoint moves to just before the first reported failure and
 * the batch is retried from there. Nothing is skipped silently.
 */
import { batchOutcome } from './batch-outcome.js';
import { collectBatch } from './collect-batch.js';
import { passesFilters } from './filter-pattern.js';
import { recordsPayload } from './invoke-batch.js';
import { type Mapping, patternsOf } from './mapping.js';
import { oldestAge, type Runner, type RunnerDeps } from './queue-runner.js';
import type { ShardCheckpoint, SourceRecord, StreamSource } from './source-port.js';
import { pause } from './wait.js';

/** A batch given up on, as the on-failure destination is told. */
export interface FailedBatch {
  mapping: Mapping;
  shard: string;
  records: readonly SourceRecord[];
  reason: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
  attempts: number;
  lastError: string;
}

export interface StreamRunnerDeps extends RunnerDeps {
  onFailure: (failed: FailedBatch) => Promise<void>;
  /** How often the shard list is re-read (new shards after a reshard). */
  shardRefreshMs?: number;
}

const retryBackoffMs = { first: 1_000, max: 60_000 };

export function runStreamMapping(
  mapping: Mapping,
  source: StreamSource,
  deps: StreamRunnerDeps,
): Runner {
  const aborted = new AbortController();
  const { signal } = aborted;
  const patterns = patternsOf(mapping);
  const reportItemFailures = mapping.functionResponseTypes.includes('ReportBatchItemFailures');
  const shardLoops = new Map<string, Promise<void>>();
  const factor = mapping.parallelizationFactor ?? 1;

  const expired = (r: SourceRecord) =>
    mapping.maximumRecordAgeInSeconds >= 0 &&
    deps.clock.now() - r.arrivedAt > mapping.maximumRecordAgeInSeconds * 1000;

  /** Settles one batch: returns once every record of it is done with (or the runner stops). */
  async function settle(
    shard: string,
    batch: SourceRecord[],
    commit: (upTo: string) => Promise<void>,
  ): Promise<boolean> {
    const pending: { records: SourceRecord[]; attempts: number }[] = [
      { records: batch, attempts: 0 },
    ];
    while (pending.length > 0) {
      if (signal.aborted) return false;
      const item = pending[0]!;
      const last = item.records[item.records.length - 1]!;
      const old = item.records.filter(expired);
      if (old.length > 0) {
        // Records past their age are reported, not run (Lambda discards them the same way).
        await deps.onFailure({
          mapping,
          shard,
          records: item.records,
          reason: 'RecordAgeExceeded',
          attempts: item.attempts,
          lastError: 'record age exceeded',
        });
        await commit(last.id);
        pending.shift();
        continue;
      }
      const passed =
        patterns.length === 0
          ? item.records
          : item.records.filter((r) => passesFilters(patterns, r.filterView));
      if (passed.length === 0) {
        await commit(last.id);
        pending.shift();
        continue;
      }
      deps.iteratorAges?.saw(mapping, oldestAge(passed, deps.clock.now()));
      const outcome = batchOutcome(
        await deps.invoke(mapping, recordsPayload(passed)),
        passed,
        reportItemFailures,
      );
      if (outcome.kind === 'success') {
        await commit(last.id);
        pending.shift();
        continue;
      }
      let reason = 'function error';
      if (outcome.kind === 'partial') {
        // Done up to the first reported failure; retried from it.
        const first = item.records.findIndex((r) => outcome.failed.has(r.id));
        if (first > 0) {
          await commit(item.records[first - 1]!.id);
          item.records = item.records.slice(first);
        }
        reason = 'reported batch item failures';
      } else {
        reason = outcome.reason;
      }
      item.attempts++;
      if (mapping.maximumRetryAttempts >= 0 && item.attempts > mapping.maximumRetryAttempts) {
        await deps.onFailure({
          mapping,
          shard,
          records: item.records,
          reason: 'RetryAttemptsExhausted',
          attempts: item.attempts,
          lastError: reason,
        });
        await commit(item.records[item.records.length - 1]!.id);
        pending.shift();
        continue;
      }
      if (
        outcome.kind === 'failure' &&
        mapping.bisectBatchOnFunctionError &&
        item.records.length > 1
      ) {
        const half = Math.ceil(item.records.length / 2);
        pending.splice(
          0,
          1,
          { records: item.records.slice(0, half), attempts: item.attempts },
          { records: item.records.slice(half), attempts: item.attempts },
        );
        continue;
      }
      const delay = Math.min(retryBackoffMs.first * 2 ** (item.attempts - 1), retryBackoffMs.max);
      await pause(deps.timer, delay, signal);
    }
    return true;
  }

  /**
   * Settles one round of records read from a shard: with one lane, as one batch; with more,
   * each lane's records in batches of batchSize, the lanes concurrently. The checkpoint is the
   * end of the longest prefix of the round that is done with.
   */
  async function settleRound(shard: string, round: SourceRecord[]): Promise<boolean> {
    if (factor === 1) return settle(shard, round, (upTo) => source.commit(shard, upTo));
    const lanes: SourceRecord[][] = Array.from({ length: factor }, () => []);
    for (const r of round) lanes[laneOf(r.key, factor)]!.push(r);
    const done = new Set<SourceRecord>();
    let prefix = 0;
    let committing: Promise<void> = Promise.resolve();
    const commitFor = (chunk: readonly SourceRecord[]) => async (upTo: string) => {
      const end = chunk.findIndex((r) => r.id === upTo);
      for (let i = 0; i <= end; i++) done.add(chunk[i]!);
      const before = prefix;
      while (prefix < round.length && done.has(round[prefix]!)) prefix++;
      if (prefix === before) return committing;
      const id = round[prefix - 1]!.id;
      // Commits go out in order, so a later one never lands before an earlier one.
      committing = committing.then(() => source.commit(shard, id));
      return committing;
    };
    const outcomes = await Promise.allSettled(
      lanes
        .filter((lane) => lane.length > 0)
        .map(async (lane) => {
          for (let i = 0; i < lane.length; i += mapping.batchSize) {
            const chunk = lane.slice(i, i + mapping.batchSize);
            if (!(await settle(shard, chunk, commitFor(chunk)))) return false;
          }
          return true;
        }),
    );
    // Every lane has stopped before an error goes up, so a retried round never overlaps.
    for (const o of outcomes) if (o.status === 'rejected') throw o.reason;
    return outcomes.every((o) => o.status === 'fulfilled' && o.value);
  }

  async function shardLoop(shard: string): Promise<void> {
    let cursor: ShardCheckpoint;
    let backoff = retryBackoffMs.first;
    for (;;) {
      if (signal.aborted) return;
      try {
        cursor ??= await source.checkpoint(shard);
        break;
      } catch (error) {
        deps.logger.error(
          { err: error, mapping: mapping.uuid, shard },
          'reading a checkpoint failed',
        );
        await pause(deps.timer, backoff, signal);
        backoff = Math.min(backoff * 2, retryBackoffMs.max);
      }
    }
    while (!signal.aborted) {
      try {
        let seen = cursor;
        const batch = await collectBatch(
          async (max, wait, s) => {
            const got = await source.read(shard, seen, max, wait, s);
            if (got.length > 0) seen = got[got.length - 1]!.id;
            return got;
          },
          {
            batchSize: mapping.batchSize * factor,
            windowMs: mapping.maximumBatchingWindowInSeconds * 1000,
            clock: deps.clock,
            signal,
            maxBytes: deps.maxBatchBytes,
          },
        );
        if (batch.length === 0) continue;
        // Stopped half way: the checkpoint stays where it was, so the rest is read again.
        if (!(await settleRound(shard, batch))) return;
        cursor = batch[batch.length - 1]!.id;
        backoff = retryBackoffMs.first;
      } catch (error) {
        deps.logger.error({ err: error, mapping: mapping.uuid, shard }, 'a shard batch failed');
        // Resume from the durable checkpoint: a failed commit must not skip anything.
        cursor = await source.checkpoint(shard).catch(() => cursor);
        await pause(deps.timer, backoff, signal);
        backoff = Math.min(backoff * 2, retryBackoffMs.max);
      }
    }
  }

  async function watchShards(): Promise<void> {
    while (!signal.aborted) {
      try {
        for (const shard of await source.shards()) {
          if (!shardLoops.has(shard)) shardLoops.set(shard, shardLoop(shard));
        }
      } catch (error) {
        deps.logger.error({ err: error, mapping: mapping.uuid }, 'listing shards failed');
      }
      await pause(deps.timer, deps.shardRefreshMs ?? 60_000, signal);
    }
  }

  const watching = watchShards();
  return {
    async stop() {
      aborted.abort();
      await watching;
      await Promise.all(shardLoops.values());
    },
  };
}

/** The lane of a record's key: FNV-1a, so a key always lands in the same lane. */
export function laneOf(key: string | undefined, lanes: number): number {
  if (key === undefined || lanes <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % lanes;
}
