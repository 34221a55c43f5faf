/**
 * Per function version accumulators for the counters and histograms every invocation touches:
 * plain numbers bumped on the request path and turned into Prometheus samples only when
 * scraped. prom-client's own label handling costs about a microsecond per update (it hashes
 * the label set each time); this costs a map lookup and a few additions.
 */
export class VersionSeries {
  invocations = 0;
  coldStarts = 0;
  readonly duration: Distribution;
  readonly initDuration: Distribution;

  constructor(
    readonly labels: { function: string; version: string },
    bounds: readonly number[],
  ) {
    this.duration = new Distribution(bounds);
    this.initDuration = new Distribution(bounds);
  }
}

/** A histogram's state: a count per bucket (not cumulative until rendered), sum and count. */
export class Distribution {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    // One more than the bounds: the +Inf bucket.
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** One sample as prom-client's registry renders it. */
export interface RenderedSample {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/** The samples of a Prometheus histogram: cumulative `_bucket`s ending in +Inf, `_sum`, `_count`. */
export function histogramSamples(
  name: string,
  labels: Record<string, string>,
  d: Distribution,
): RenderedSample[] {
  const out: RenderedSample[] = [];
  let cumulative = 0;
  d.bounds.forEach((le, i) => {
    cumulative += d.counts[i]!;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
  });
  out.push({
    metricName: `${name}_bucket`,
    labels: { ...labels, le: '+Inf' },
    value: d.count,
  });
  out.push({ metricName: `${name}_sum`, labels, value: d.sum });
  out.push({ metricName: `${name}_count`, labels, value: d.count });
  return out;
}
