// Small statistics helpers: nearest-rank quantiles on sorted copies.

export function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export const median = (values) => quantile(values, 0.5);

/** {median, min, max, n, values} of a list of trial results. */
export function summary(values) {
  const clean = values.filter((v) => Number.isFinite(v));
  return {
    median: median(clean),
    min: clean.length ? Math.min(...clean) : Number.NaN,
    max: clean.length ? Math.max(...clean) : Number.NaN,
    n: clean.length,
    values: clean.map((v) => round(v, 3)),
  };
}

export function round(v, digits = 2) {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
