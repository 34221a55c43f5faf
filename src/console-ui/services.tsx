import { useState } from 'preact/hooks';
import { api, enc, get, isReadOnly } from './api';
import { formatTime, href, messageOf, useLoad } from './hooks';

interface FunctionSummary {
  key: string;
  functionName: string;
  version: number;
  runtime: string;
  handler: string;
}
interface Endpoint {
  method?: string;
  path?: string;
  url?: string;
}
export interface Deployment {
  id: string;
  timestamp: number;
  hash: string;
  definition: unknown;
  functions: Record<string, number>;
  artifacts: Record<string, string>;
}
interface ServiceStage {
  service: string;
  stage: string;
  region: string;
  updatedAt: number;
  current?: Deployment;
  functions: FunctionSummary[];
  endpoints: (Endpoint | string)[];
}

export function ServicesPage() {
  const { data, error } = useLoad(() => get<{ services: ServiceStage[] }>('/v1/services'), 'all');
  return (
    <section>
      <h1>Services</h1>
      {error && <p class="error">{error}</p>}
      {data && data.services.length === 0 && (
        <p>No service is deployed yet: run `nimbus deploy` in a service directory.</p>
      )}
      <div class="cards">
        {data?.services.map((s) => (
          <article class="card" key={`${s.service}/${s.stage}`} data-service={s.service}>
            <h2>
              <a href={href('services', s.service, s.stage)}>
                {s.service} <span class="badge">{s.stage}</span>
              </a>
            </h2>
            <p class="muted">updated {formatTime(s.updatedAt)}</p>
            <FunctionList functions={s.functions} />
            <Endpoints endpoints={s.endpoints} />
          </article>
        ))}
      </div>
    </section>
  );
}

function FunctionList({ functions }: { functions: FunctionSummary[] }) {
  return (
    <ul class="plain">
      {functions.map((f) => (
        <li key={f.functionName}>
          <a href={href('functions', f.functionName)}>{f.key}</a>{' '}
          <span class="muted">
            {f.runtime} · v{f.version}
          </span>
        </li>
      ))}
    </ul>
  );
}

function endpointUrl(e: Endpoint | string): { label: string; url: string | undefined } {
  if (typeof e === 'string') {
    const m = /^(\S+)\s+-\s+(\S+)$/.exec(e) ?? /^(\S+)\s+(\S+)$/.exec(e);
    const url = m ? m[2] : e;
    return {
      label: e,
      url: url && /^https?:\/\//.test(url) && !url.includes('{') ? url : undefined,
    };
  }
  const url = e.url;
  return {
    label: `${e.method ?? ''} ${url ?? e.path ?? ''}`.trim(),
    url: url && /^https?:\/\//.test(url) && !url.includes('{') ? url : undefined,
  };
}

function Endpoints({ endpoints }: { endpoints: (Endpoint | string)[] }) {
  if (endpoints.length === 0) return null;
  return (
    <ul class="plain endpoints">
      {endpoints.map((e) => {
        const { label, url } = endpointUrl(e);
        return (
          <li key={label}>
            {url ? (
              <a href={url} target="_blank" rel="noopener noreferrer">
                {label}
              </a>
            ) : (
              <code>{label}</code>
            )}
          </li>
        );
      })}
    </ul>
  );
}

export function StagePage({ service, stage }: { service: string; stage: string }) {
  const base = `/v1/services/${enc(service)}/stages/${enc(stage)}`;
  const view = useLoad(() => get<ServiceStage>(base), base);
  const history = useLoad(() => get<{ deployments: Deployment[] }>(`${base}/deployments`), base);
  const resources = useLoad(
    () =>
      get<{ resources: { logicalId: string; type: string; physicalId: string }[] }>(
        `${base}/resources`,
      ),
    `${base}/resources`,
  );
  const [compare, setCompare] = useState<string[]>([]);
  const [message, setMessage] = useState('');

  const rollback = async (d: Deployment) => {
    if (!confirm(`Roll ${service} ${stage} back to the deployment of ${formatTime(d.timestamp)}?`))
      return;
    try {
      await api('POST', `${base}/rollback`, { timestamp: d.timestamp });
      setMessage(`Rolled back to ${formatTime(d.timestamp)}.`);
      view.reload();
      history.reload();
    } catch (e) {
      setMessage(messageOf(e));
    }
  };
  const toggle = (id: string) =>
    setCompare((c) => (c.includes(id) ? c.filter((x) => x !== id) : [...c, id].slice(-2)));
  const deployments = history.data?.deployments ?? [];
  const picked = deployments.filter((d) => compare.includes(d.id));

  return (
    <section>
      <p>
        <a href="#/">Services</a> /
      </p>
      <h1>
        {service} <span class="badge">{stage}</span>
      </h1>
      {view.error && <p class="error">{view.error}</p>}
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
      {view.data && (
        <div class="cards">
          <article class="card">
            <h2>Functions</h2>
            <FunctionList functions={view.data.functions} />
          </article>
          <article class="card">
            <h2>Endpoints</h2>
            <Endpoints endpoints={view.data.endpoints} />
            {view.data.endpoints.length === 0 && <p class="muted">none</p>}
          </article>
          <article class="card" aria-label="resources">
            <h2>Resources</h2>
            {(resources.data?.resources ?? []).length === 0 ? (
              <p class="muted">none</p>
            ) : (
              <ul class="plain">
                {(resources.data?.resources ?? []).map((r) => (
                  <li key={r.logicalId}>
                    <strong>{r.logicalId}</strong> <span class="muted">{r.type}</span>{' '}
                    <code>{r.physicalId}</code>
                  </li>
                ))}
              </ul>
            )}
          </article>
        </div>
      )}
      <h2>Deployments</h2>
      {history.error && <p class="error">{history.error}</p>}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Compare</th>
              <th>When</th>
              <th>Functions</th>
              <th>Hash</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {deployments.map((d, i) => (
              <tr key={d.id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`compare deployment of ${formatTime(d.timestamp)}`}
                    checked={compare.includes(d.id)}
                    onChange={() => toggle(d.id)}
                  />
                </td>
                <td>{formatTime(d.timestamp)}</td>
                <td>
                  {Object.entries(d.functions)
                    .map(([k, v]) => `${k} v${v}`)
                    .join(', ')}
                </td>
                <td>
                  <code>{d.hash.slice(0, 12)}</code>
                </td>
                <td>
                  {i === 0 ? (
                    <span class="badge">current</span>
                  ) : isReadOnly() ? null : (
                    <button type="button" onClick={() => rollback(d)}>
                      Roll back to this
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {picked.length === 2 ? (
        <DeploymentDiff older={picked[1]!} newer={picked[0]!} />
      ) : (
        deployments.length > 1 && <p class="muted">Tick two deployments to see what changed.</p>
      )}
    </section>
  );
}

/** Flattens a definition to `a.b[0].c -> value` lines, so two can be compared key by key. */
function flatten(value: unknown, prefix: string, out: Map<string, string>): Map<string, string> {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value)
      ? value.map((v, i) => [`${prefix}[${i}]`, v] as const)
      : Object.entries(value).map(([k, v]) => [prefix ? `${prefix}.${k}` : k, v] as const);
    if (entries.length === 0) out.set(prefix, Array.isArray(value) ? '[]' : '{}');
    for (const [k, v] of entries) flatten(v, k, out);
  } else {
    out.set(prefix, JSON.stringify(value));
  }
  return out;
}

export function diffDeployments(older: Deployment, newer: Deployment) {
  const a = flatten(
    { definition: older.definition, functions: older.functions, artifacts: older.artifacts },
    '',
    new Map(),
  );
  const b = flatten(
    { definition: newer.definition, functions: newer.functions, artifacts: newer.artifacts },
    '',
    new Map(),
  );
  const rows: { key: string; before?: string; after?: string }[] = [];
  for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    if (a.get(key) !== b.get(key)) rows.push({ key, before: a.get(key), after: b.get(key) });
  }
  return rows;
}

function DeploymentDiff({ older, newer }: { older: Deployment; newer: Deployment }) {
  const rows = diffDeployments(older, newer);
  return (
    <section class="diff" aria-label="deployment diff">
      <h3>
        Changes from {formatTime(older.timestamp)} to {formatTime(newer.timestamp)}
      </h3>
      {rows.length === 0 && <p>No difference.</p>}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Key</th>
              <th>Before</th>
              <th>After</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <td>
                  <code>{r.key}</code>
                </td>
                <td class="removed">{r.before ?? '—'}</td>
                <td class="added">{r.after ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
