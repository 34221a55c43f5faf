/**
 * How Kinesis places a record in a shard: the MD5 of the partition key, read as an unsigned
 * 128-bit big-endian integer, is the record's hash key (an ExplicitHashKey replaces it), and
 * each shard owns one contiguous range of the 0..2^128-1 hash key space. A stream of N shards
 * splits the space into N equal ranges, the last one ending at 2^128-1, as CreateStream does.
 */
import { createHash } from 'node:crypto';

const space = 1n << 128n;
export const maxHashKey = space - 1n;

export interface HashKeyRange {
  start: bigint;
  end: bigint;
}

/** The range of shard `index` of a stream of `count` shards. */
export function shardRange(index: number, count: number): HashKeyRange {
  const size = space / BigInt(count);
  const start = size * BigInt(index);
  const end = index === count - 1 ? maxHashKey : start + size - 1n;
  return { start, end };
}

/** The shard index owning `hashKey` in a stream of `count` shards. */
export function shardOfHashKey(hashKey: bigint, count: number): number {
  const size = space / BigInt(count);
  const index = Number(hashKey / size);
  return Math.min(index, count - 1);
}

export function hashKeyOfPartitionKey(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}

/** An ExplicitHashKey as Kinesis takes it (a decimal 0..2^128-1), or undefined when malformed. */
export function parseExplicitHashKey(text: string): bigint | undefined {
  if (!/^\d{1,39}$/.test(text)) return undefined;
  const n = BigInt(text);
  return n <= maxHashKey ? n : undefined;
}

/** `shardId-000000000003`, as Kinesis names a stream's fourth shard. */
export function shardIdOf(index: number): string {
  return `shardId-${String(index).padStart(12, '0')}`;
}

export function shardIndexOf(shardId: string): number | undefined {
  const m = /^shardId-(\d{12})$/.exec(shardId);
  return m ? Number(m[1]) : undefined;
}
