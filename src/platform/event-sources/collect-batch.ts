import type { Clock } from '../../model/clock.js';
import { recordJson } from './record-json.js';
import type { SourceRecord } from './source-port.js';

export type Receive = (max: number, waitMs: number, signal: AbortSignal) => Promise<SourceRecord[]>;

/** How long one poll waits for a first record: SQS's longest long poll. */
export const longPollMs = 20_000;

/**
 * One batch: waits (long polling) for a first record, then keeps receiving until `batchSize`
 * records are in or the batching window, counted from the first record, has passed. Lambda
 * also closes a batch at 6 MB of payload; `maxBytes` does that here.
 */
export async function collectBatch(
  receive: Receive,
  opts: {
    batchSize: number;
    windowMs: number;
    clock: Clock;
    signal: AbortSignal;
    maxBytes: number;
  },
): Promise<SourceRecord[]> {
  const { batchSize, clock, signal } = opts;
  const batch = await receive(batchSize, longPollMs, signal);
  if (batch.length === 0) return batch;
  const deadline = clock.now() + opts.windowMs;
  let bytes = batch.reduce((n, r) => n + sizeOf(r), 0);
  while (batch.length < batchSize && bytes < opts.maxBytes && !signal.aborted) {
    const left = deadline - clock.now();
    if (left <= 0) break;
    const more = await receive(batchSize - batch.length, left, signal);
    for (const r of more) {
      batch.push(r);
      bytes += sizeOf(r);
    }
  }
  return batch;
}

function sizeOf(r: SourceRecord): number {
  return Buffer.byteLength(recordJson(r));
}
