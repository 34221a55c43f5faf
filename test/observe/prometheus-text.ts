/**
 * A strict reader of the Prometheus text exposition format 0.0.4, for tests: every line is a
 * HELP, a TYPE or a sample of a declared family, label values are escaped as the format says,
 * histograms have cumulative buckets ending in +Inf that equal their _count.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

const nameRe = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const types = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parsePrometheusText(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const out: Exposition = { types: new Map(), samples: [] };
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${line}`;
    if (line === '') return;
    if (line.startsWith('# HELP ')) {
      const name = line.slice(7).split(' ')[0]!;
      if (!nameRe.test(name)) throw new Error(`bad HELP name, ${where}`);
      return;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type, ...rest] = line.slice(7).split(' ');
      if (!name || !nameRe.test(name) || !type || !types.has(type) || rest.length > 0)
        throw new Error(`bad TYPE, ${where}`);
      if (out.types.has(name)) throw new Error(`TYPE declared twice, ${where}`);
      out.types.set(name, type);
      return;
    }
    if (line.startsWith('#')) return;
    out.samples.push(parseSample(line, where));
  });
  for (const s of out.samples) {
    const family = familyOf(s.name, out.types);
    if (!family) throw new Error(`sample ${s.name} has no TYPE`);
  }
  checkHistograms(out);
  return out;
}

function parseSample(line: string, where: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)( -?\d+)?$/.exec(line);
  if (!m) throw new Error(`bad sample, ${where}`);
  const value = parseValue(m[3]!, where);
  return { name: m[1]!, labels: m[2] ? parseLabels(m[2], where) : {}, value };
}

function parseValue(raw: string, where: string): number {
  // Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case (prom-client
  // writes `Nan` for an event-loop mean not yet measured).
  const word = raw.toLowerCase();
  if (word === '+inf' || word === 'inf') return Number.POSITIVE_INFINITY;
  if (word === '-inf') return Number.NEGATIVE_INFINITY;
  if (word === 'nan') return Number.NaN;
  if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new Error(`bad value, ${where}`);
  return Number(raw);
}

function parseLabels(raw: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = raw.slice(1, -1);
  while (rest.length > 0) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,?)/.exec(rest);
    if (!m) throw new Error(`bad labels, ${where}`);
    if (m[1]! in labels) throw new Error(`label twice, ${where}`);
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(m[0].length);
    if (m[3] === '' && rest.length > 0) throw new Error(`bad labels, ${where}`);
  }
  return labels;
}

function familyOf(name: string, declared: Map<string, string>): string | undefined {
  if (declared.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
    const type = base && declared.get(base);
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base;
  }
  return undefined;
}

function checkHistograms(out: Exposition): void {
  for (const [name, type] of out.types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, { le: number; value: number }[]>();
    for (const s of out.samples.filter((x) => x.name === `${name}_bucket`)) {
      const { le, ...rest } = s.labels;
      if (le === undefined) throw new Error(`${name}_bucket without le`);
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), { le: parseValue(le, name), value: s.value }]);
    }
    for (const [key, buckets] of series) {
      for (let i = 1; i < buckets.length; i++) {
        if (buckets[i]!.le <= buckets[i - 1]!.le || buckets[i]!.value < buckets[i - 1]!.value)
          throw new Error(`${name}${key}: buckets not cumulative`);
      }
      const last = buckets.at(-1)!;
      const count = out.samples.find(
        (s) => s.name === `${name}_count` && JSON.stringify(s.labels) === key,
      );
      if (last.le !== Number.POSITIVE_INFINITY || !count || count.value !== last.value)
        throw new Error(`${name}${key}: +Inf bucket must equal _count`);
    }
  }
}

/** The value of one series, 0 when absent (a counter never incremented). */
export function sampleValue(exp: Exposition, name: string, labels: Record<string, string>): number {
  const hit = exp.samples.find(
    (s) =>
      s.name === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
      Object.keys(s.labels).length === Object.keys(labels).length,
  );
  return hit?.value ?? 0;
}
