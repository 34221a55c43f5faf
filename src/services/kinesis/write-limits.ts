/**
 * The write throughput of a PROVISIONED stream's shard: 1,000 records and 1 MiB per second,
 * as Kinesis allows. A record over it is refused with ProvisionedThroughputExceededException
 * (per record in PutRecords), never queued. Counted per node in memory: a cluster of n nodes
 * admits up to n times the rate (docs/kinesis.md#limits). ON_DEMAND streams are not limited.
 */
import type { Clock } from '../../model/clock.js';

export interface ShardRate {
  records: number;
  bytes: number;
}

export const provisionedShardRate: ShardRate = { records: 1000, bytes: 1024 * 1024 };

export class ShardWriteLimits {
  readonly #windows = new Map<string, { second: number; records: number; bytes: number }>();
  readonly #clock: Clock;
  readonly #rate: ShardRate;

  constructor(clock: Clock, rate: ShardRate = provisionedShardRate) {
    this.#clock = clock;
    this.#rate = rate;
  }

  /** Counts a record of `bytes` against its shard's current second; false when it is over. */
  admit(stream: string, shard: number, bytes: number): boolean {
    const second = Math.floor(this.#clock.now() / 1000);
    const key = `${stream}\n${shard}`;
    let w = this.#windows.get(key);
    if (!w || w.second !== second) {
      w = { second, records: 0, bytes: 0 };
      this.#windows.set(key, w);
    }
    if (w.records + 1 > this.#rate.records || w.bytes + bytes > this.#rate.bytes) return false;
    w.records += 1;
    w.bytes += bytes;
    return true;
  }

  /** Drops the windows of a deleted stream. */
  forget(stream: string): void {
    for (const key of this.#windows.keys()) {
      if (key.startsWith(`${stream}\n`)) this.#windows.delete(key);
    }
  }
}
