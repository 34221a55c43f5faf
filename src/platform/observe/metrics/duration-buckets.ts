/**
 * Logarithmic duration buckets for the rollups: each ~5% wider than the last, from 0.01 ms, so a
 * percentile read from them is within 5% of the true one whatever the span and the scale.
 */
const growth = 1.05;
const floorMs = 0.01;

export function bucketOf(durationMs: number): number {
  if (durationMs <= floorMs) return 0;
  return Math.ceil(Math.log(durationMs / floorMs) / Math.log(growth));
}

/** The bucket's upper bound, ms: what a percentile falling in it reads as. */
export function bucketUpperMs(bucket: number): number {
  return floorMs * growth ** bucket;
}

/** The q-quantile (0..1) of durations given as counts per bucket; undefined with none. */
export function quantileMs(counts: Map<number, number>, q: number): number | undefined {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  // Nearest rank, as CloudWatch's percentile statistics.
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const bucket of [...counts.keys()].sort((a, b) => a - b)) {
    seen += counts.get(bucket)!;
    if (seen >= rank) return bucketUpperMs(bucket);
  }
  return undefined;
}
