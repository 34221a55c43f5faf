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

/** A node as `GET /v1/cluster/nodes` lists it (what `nimbus cluster status` prints). */
interface ClusterNode {
  name: string;
  url: string;
  version: string;
  startedAt: number;
  heartbeatAt: number;
  health: 'up' | 'down' | 'stopped';
  load: { instances: number; busy: number; asyncRuns: number };
}

interface ClusterView {
  mode: 'single' | 'cluster';
  self: string;
  nodes: ClusterNode[];
}

export function PlatformPage() {
  const metrics = useLoad(async () => parseMetrics((await request('GET', '/metrics')).text), 'm');
  const nodes = useLoad(() => get<ClusterView>('/v1/cluster/nodes'), 'n');
  const refresh = () => {
    metrics.reload();
    nodes.reload();
  };
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
      </div>
      <NodesTable view={nodes.data} />
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
      <button type="button" onClick={refresh}>
        Refresh
      </button>
    </section>
  );
}

/** Every node of the cluster (one row on a single node), as `nimbus cluster status` lists them. */
function NodesTable({ view }: { view: ClusterView | undefined }) {
  const now = Date.now();
  return (
    <>
      <h2>Nodes{view ? ` (${view.mode}, answered by ${view.self})` : ''}</h2>
      <div class="table-wrap">
        <table aria-label="nodes">
          <thead>
            <tr>
              <th>Node</th>
              <th>Health</th>
              <th>Version</th>
              <th>Instances</th>
              <th>Busy</th>
              <th>Async runs</th>
              <th>Heartbeat</th>
              <th>URL</th>
            </tr>
          </thead>
          <tbody>
            {(view?.nodes ?? []).map((n) => (
              <tr key={n.name} data-node={n.name} data-health={n.health}>
                <td>
                  <strong>{n.name}</strong>
                  {n.name === view?.self ? <span class="muted"> (this node)</span> : null}
                </td>
                <td class={n.health === 'up' ? 'ok' : 'error-text'}>{n.health}</td>
                <td>{n.version}</td>
                <td data-load="instances">{n.load.instances}</td>
                <td data-load="busy">{n.load.busy}</td>
                <td data-load="async">{n.load.asyncRuns}</td>
                <td title={formatTime(n.heartbeatAt)}>{formatAgo(now - n.heartbeatAt)}</td>
                <td>
                  <code>{n.url}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function formatAgo(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1073741824) return `${(n / 1048576).toFixed(1)} MiB`;
  return `${(n / 1073741824).toFixed(2)} GiB`;
}
