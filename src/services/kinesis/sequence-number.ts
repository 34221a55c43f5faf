/**
 * Kinesis sequence numbers as Nimbus makes them: 56 decimal digits, as AWS's are, so clients
 * that store or compare them as strings keep working. `49`, then the shard index (6 digits),
 * then the record's position in its shard (48 digits). Fixed width makes string order the
 * same as numeric order within a shard; the position is what the Store keys records by.
 */
const prefix = '49';

export function formatSequenceNumber(shardIndex: number, position: number): string {
  return `${prefix}${String(shardIndex).padStart(6, '0')}${String(position).padStart(48, '0')}`;
}

/** The shard index and position of a sequence number, or undefined when it is not one of ours. */
export function parseSequenceNumber(
  text: string,
): { shardIndex: number; position: number } | undefined {
  const m = /^49(\d{6})(\d{48})$/.exec(text);
  if (!m) return undefined;
  const position = Number(m[2]);
  if (!Number.isSafeInteger(position)) return undefined;
  return { shardIndex: Number(m[1]), position };
}
