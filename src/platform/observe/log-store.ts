/**
 * The LogStore port: where function log lines land and are read back (docs/logs.md). The one
 * adapter, on the shared Kysely handle, is in log-store/; both dialects pass test/observe/.
 */
import type { LogEvent } from '../../model/invocation.js';

/** A stored event: `id` increases in insertion order and is the cursor for `after`. */
export interface StoredLogEvent extends LogEvent {
  id: number;
}

export interface LogQuery {
  /** Deployed name; every read is for one function. */
  functionName: string;
  /** Epoch ms, inclusive. */
  startTime?: number;
  /** Epoch ms, inclusive. */
  endTime?: number;
  /** Literal, case-sensitive substring of the message; empty means no filter. */
  filter?: string;
  /** Only events with an id greater than this. */
  after?: number;
  /** Events before this id only (a tail's history stops where live delivery took over). */
  before?: number;
  limit: number;
}

export interface RetentionScope {
  functionName?: string;
  except?: readonly string[];
}

export interface LogStore {
  /** Stores the events in order; resolves to their ids, in the same order. */
  append(events: LogEvent[]): Promise<number[]>;
  /** Oldest id first: the order a cursor walks in. */
  query(q: LogQuery): Promise<StoredLogEvent[]>;
  /**
   * Deletes every event with a timestamp before `cutoffMs` (only `functionName`'s, or every
   * function's but those in `except`); resolves to how many went.
   */
  deleteOlderThan(cutoffMs: number, scope?: RetentionScope): Promise<number>;
}
