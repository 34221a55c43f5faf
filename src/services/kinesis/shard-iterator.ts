/**
 * Shard iterators: an opaque token naming a stream (and its creation time, so an iterator of a
 * deleted and re-created stream does not read the new one), a shard and the position after
 * which reading continues. Valid five minutes from issue, as on Kinesis. Nothing secret is in
 * it: a forged one can only name a shard the caller could read with GetShardIterator anyway.
 */
import { expiredIterator, invalidArgument } from './kinesis-errors.js';

export const iteratorLifetimeMs = 5 * 60 * 1000;

export interface IteratorState {
  stream: string;
  createdAt: number;
  shardIndex: number;
  /** Records after this position come next. */
  after: number;
  issuedAt: number;
}

export function encodeIterator(s: IteratorState): string {
  return Buffer.from(
    JSON.stringify([1, s.stream, s.createdAt, s.shardIndex, s.after, s.issuedAt]),
    'utf8',
  ).toString('base64url');
}

export function decodeIterator(token: string, now: number): IteratorState {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  if (
    !Array.isArray(parts) ||
    parts.length !== 6 ||
    parts[0] !== 1 ||
    typeof parts[1] !== 'string' ||
    !parts.slice(2).every((n) => Number.isSafeInteger(n) && (n as number) >= 0)
  ) {
    throw invalidArgument(`Invalid ShardIterator.`);
  }
  const [, stream, createdAt, shardIndex, after, issuedAt] = parts as [
    number,
    string,
    number,
    number,
    number,
    number,
  ];
  if (now - issuedAt > iteratorLifetimeMs) {
    throw expiredIterator(
      `Iterator expired. The iterator was created at time ${new Date(issuedAt).toUTCString()} while right now it is ${new Date(now).toUTCString()} which is further in the future than the tolerated delay of ${iteratorLifetimeMs} milliseconds.`,
    );
  }
  return { stream, createdAt, shardIndex, after, issuedAt };
}
