import { get, request } from './api';
import { formatTime, useLoad } from './hooks';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, as much of it as this page reads: `name{a="b"} value`. */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

interface Node {
  name: string;
  url?: string;
  version?: string;
  healthy?: boolean;
  lastSeenAt?: number;
}

export function PlatformPage() {
  const metrics = useLoad(async () => parseMetrics((await request('GET', '/metrics')).text), 'm');
  const nodes = useLoad(
    () => get<{ mode: string; self: string; nodes: Node[] }>('/v1/cluster/nodes'),
    'n',
  );
  const samples = metrics.data ?? [];
  const byState = new Map<string, number>();
  for (const s of samples.filter((x) => x.name === 'nimbus_instances')) {
    const state = s.labels.state ?? '?';
    byState.set(state, (byState.get(state) ?? 0) + s.value);
  }
  const queues = new Map<string, { depth: number; age: number }>();
  for (const s of samples) {
    if (s.name !== 'nimbus_async_queue_depth' && s.name !== 'nimbus_async_oldest_age_seconds')
      continue;
    const fn = s.labels.function ?? '?';
    const q = queues.get(fn) ?? { depth: 0, age: 0 };
    if (s.name === 'nimbus_async_queue_depth') q.depth = s.value;
    else q.age = s.value;
    queues.set(fn, q);
  }
  const throttles = samples
    .filter((s) => s.name === 'nimbus_throttles_total')
    .reduce((a, s) => a + s.value, 0);
  const deadLetters = samples
    .filter((s) => s.name === 'nimbus_dead_letters_total')
    .reduce((a, s) => a + s.value, 0);
  const rateLimited = samples
    .filter((s) => s.name === 'nimbus_throttles_total' && s.labels.reason === 'RateLimitExceeded')
    .reduce((a, s) => a + s.value, 0);
  // custom.nimbus breakers (docs/protection.md): 0 closed, 0.5 half-open, 1 open.
  const breakers = samples
    .filter((s) => s.name === 'nimbus_breaker_open')
    .map((s) => ({
      fn: s.labels.function ?? '?',
      state: s.value >= 1 ? 'open' : s.value > 0 ? 'half-open' : 'closed',
    }));
  const lags = samples
    .filter((s) => s.name === 'nimbus_event_source_iterator_age_seconds')
    .map((s) => ({ mapping: s.labels.mapping ?? '?', fn: s.labels.function ?? '?', age: s.value }));
  const disk = samples.filter((s) => s.name === 'nimbus_disk_bytes');
  const one = (name: string) => samples.find((s) => s.name === name)?.value;
  const rss = one('process_resident_memory_bytes');
  return (
    <section>
      <h1>Platform</h1>
      {(metrics.error || nodes.error) && <p class="error">{metrics.error ?? nodes.error}</p>}
      <div class="cards">
        <article class="card" aria-label="instances">
          <h2>Instances by state</h2>
          <dl>
            {['idle', 'busy', 'starting', 'provisioned'].map((s) => (
              <>
                <dt>{s}</dt>
                <dd data-state={s}>{byState.get(s) ?? 0}</dd>
              </>
            ))}
          </dl>
        </article>
        <article class="card" aria-label="this node">
          <h2>This node</h2>
          <dl>
            <dt>Resident memory</dt>
            <dd>{rss === undefined ? '—' : `${(rss / 1048576).toFixed(1)} MiB`}</dd>
            <dt>Throttled requests</dt>
            <dd>{throttles}</dd>
            <dt>Rate-limit rejections</dt>
            <dd data-metric="rate-limited">{rateLimited}</dd>
            <dt>Dead letters since start</dt>
            <dd>{deadLetters}</dd>
            {disk.map((d) => (
              <>
                <dt>Disk: {d.labels.what}</dt>
                <dd data-disk={d.labels.what}>{formatBytes(d.value)}</dd>
              </>
            ))}
          </dl>
          <p class="muted">Counters start at zero when the platform starts.</p>
        </article>
        <article class="card" aria-label="nodes">
          <h2>Nodes ({nodes.data?.mode ?? '…'})</h2>
          <ul class="plain">
            {(nodes.data?.nodes ?? []).map((n) => (
              <li key={n.name}>
                <strong>{n.name}</strong> {n.version}{' '}
                <span class="muted">seen {formatTime(n.lastSeenAt)}</span>
              </li>
            ))}
          </ul>
        </article>
      </div>
      <h2>Circuit breakers</h2>
      {breakers.length === 0 ? (
        <p class="muted">No function has a circuit breaker (custom.nimbus.breakers).</p>
      ) : (
        <ul class="plain" aria-label="circuit breakers">
          {breakers.map((b) => (
            <li key={b.fn} data-breaker={b.state}>
              <strong>{b.fn}</strong> {b.state}
            </li>
          ))}
        </ul>
      )}
      <h2>Event source lag</h2>
      {lags.length === 0 ? (
        <p class="muted">No event source mapping has handed a batch to its function yet.</p>
      ) : (
        <div class="table-wrap">
          <table aria-label="event source lag">
            <thead>
              <tr>
                <th>Mapping</th>
                <th>Function</th>
                <th>Oldest record of the last batch (s)</th>
              </tr>
            </thead>
            <tbody>
              {lags.map((l) => (
                <tr key={l.mapping}>
                  <td>
                    <code>{l.mapping.slice(0, 8)}</code>
                  </td>
                  <td>{l.fn}</td>
                  <td>{l.age.toFixed(1)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Async queues</h2>
      {queues.size === 0 ? (
        <p class="muted">No async events waiting.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Function</th>
                <th>Depth</th>
                <th>Oldest (s)</th>
              </tr>
            </thead>
            <tbody>
              {[...queues].map(([fn, q]) => (
                <tr key={fn}>
                  <td>{fn}</td>
                  <td>{q.depth}</td>
                  <td>{q.age.toFixed(1)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <button type="button" onClick={metrics.reload}>
        Refresh
      </button>
    </section>
  );
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1073741824) return `${(n / 1048576).toFixed(1)} MiB`;
  return `${(n / 1073741824).toFixed(2)} GiB`;
}
