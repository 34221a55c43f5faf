/** What every Kinesis operation runs with. */
import type { Clock } from '../../model/clock.js';
import type { KinesisStore } from './kinesis-store.js';
import type { KinesisRecordLog } from './record-log.js';
import type { ShardWriteLimits } from './write-limits.js';

export interface KinesisDeps {
  /** Streams' metadata. */
  store: KinesisStore;
  /** Their records: the SQL store or NATS JetStream (record-log.ts). */
  records: KinesisRecordLog;
  clock: Clock;
  region: string;
  /** Per-shard write throughput of PROVISIONED streams (this node's share). */
  limits: ShardWriteLimits;
}
