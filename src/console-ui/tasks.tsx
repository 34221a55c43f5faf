import { useState } from 'preact/hooks';
import { api, enc, get, isReadOnly } from './api';
import { formatTime, href, messageOf, useLoad } from './hooks';

export interface InvocationRecord {
  id: string;
  functionName: string;
  version: string;
  status: string;
  jobId?: string;
  attempts: number;
  createdAt: number;
  updatedAt: number;
  lastError?: unknown;
  result?: string;
  destination?: unknown;
}

interface DeadJob {
  id: string;
  payload: unknown;
  attempts: number;
  deadAt: number;
  reason: unknown;
}

const statuses = [
  '',
  'Enqueued',
  'Running',
  'Retrying',
  'Succeeded',
  'Failed',
  'Expired',
  'Stopped',
];
const stoppable = new Set(['Enqueued', 'Retrying']);

export function InvocationsTable({ invocations }: { invocations: InvocationRecord[] }) {
  if (invocations.length === 0) return <p class="muted">None.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Request</th>
            <th>Status</th>
            <th>Attempts</th>
            <th>Created</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {invocations.map((r) => (
            <tr key={r.id} data-status={r.status}>
              <td>
                <a href={href('tasks', r.id)}>
                  <code>{r.id.slice(0, 8)}</code>
                </a>
              </td>
              <td>
                <span class={`status ${r.status}`}>{r.status}</span>
              </td>
              <td>{r.attempts}</td>
              <td>{formatTime(r.createdAt)}</td>
              <td class="error-text">{errorText(r.lastError)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function errorText(e: unknown): string {
  if (e === undefined || e === null) return '';
  if (typeof e === 'string') return e;
  const o = e as { errorType?: string; errorMessage?: string; type?: string; message?: string };
  const type = o.errorType ?? o.type;
  const message = o.errorMessage ?? o.message;
  return type || message
    ? `${type ?? ''}${type && message ? ': ' : ''}${message ?? ''}`
    : JSON.stringify(e);
}

/** Every deployed function's name, for the function picker. */
function useFunctionNames() {
  return useLoad(async () => {
    const { services } = await get<{ services: { functions: { functionName: string }[] }[] }>(
      '/v1/services',
    );
    return services.flatMap((s) => s.functions.map((f) => f.functionName)).sort();
  }, 'names');
}

export function TasksPage({ initialFunction }: { initialFunction?: string }) {
  const names = useFunctionNames();
  const [fn, setFn] = useState(initialFunction ?? '');
  const [status, setStatus] = useState('');
  const chosen = fn || names.data?.[0] || '';
  const list = useLoad(
    () =>
      chosen
        ? get<{ invocations: InvocationRecord[] }>(
            `/v1/functions/${enc(chosen)}/invocations?limit=100${status ? `&status=${status}` : ''}`,
          )
        : Promise.resolve({ invocations: [] }),
    `${chosen}/${status}`,
  );
  return (
    <section>
      <h1>Async tasks</h1>
      <form class="row filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Function{' '}
          <select value={chosen} onChange={(e) => setFn((e.target as HTMLSelectElement).value)}>
            {(names.data ?? []).map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status{' '}
          <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            {statuses.map((s) => (
              <option key={s} value={s}>
                {s || 'any'}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={list.reload}>
          Refresh
        </button>
      </form>
      {(list.error || names.error) && <p class="error">{list.error ?? names.error}</p>}
      <InvocationsTable invocations={list.data?.invocations ?? []} />
      {chosen && <DeadLetters name={chosen} onRedriven={list.reload} />}
    </section>
  );
}

function DeadLetters({ name, onRedriven }: { name: string; onRedriven: () => void }) {
  const dead = useLoad(
    () => get<{ deadLetters: DeadJob[] }>(`/v1/functions/${enc(name)}/dead-letters?limit=100`),
    name,
  );
  const [message, setMessage] = useState('');
  const redrive = async (ids?: string[]) => {
    try {
      const { redriven } = await api<{ redriven: number }>(
        'POST',
        `/v1/functions/${enc(name)}/dead-letters/redrive`,
        ids ? { ids } : {},
      );
      setMessage(`Redrove ${redriven} dead letter${redriven === 1 ? '' : 's'}.`);
      dead.reload();
      onRedriven();
    } catch (e) {
      setMessage(messageOf(e));
    }
  };
  const rows = dead.data?.deadLetters ?? [];
  return (
    <section aria-label="dead letters">
      <h2>
        Dead letters{' '}
        {rows.length > 0 && !isReadOnly() && (
          <button type="button" onClick={() => redrive()}>
            Redrive all
          </button>
        )}
      </h2>
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
      {dead.error && <p class="error">{dead.error}</p>}
      {rows.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Dead letter</th>
                <th>Attempts</th>
                <th>Given up</th>
                <th>Reason</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.id} data-dead-letter={d.id}>
                  <td>
                    <code>{d.id.slice(0, 8)}</code>
                  </td>
                  <td>{d.attempts}</td>
                  <td>{formatTime(d.deadAt)}</td>
                  <td class="error-text">{errorText(d.reason)}</td>
                  <td>
                    {!isReadOnly() && (
                      <button type="button" onClick={() => redrive([d.id])}>
                        Redrive
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function TaskPage({ id }: { id: string }) {
  const { data, error, reload } = useLoad(
    () => get<InvocationRecord>(`/v1/invocations/${enc(id)}`),
    id,
  );
  const [message, setMessage] = useState('');
  const stop = async () => {
    try {
      await api('POST', `/v1/invocations/${enc(id)}/stop`);
      setMessage('Stopped.');
      reload();
    } catch (e) {
      setMessage(messageOf(e));
    }
  };
  return (
    <section>
      <p>
        <a href="#/tasks">Async tasks</a> /
      </p>
      <h1>
        Task <code>{id}</code>
      </h1>
      {error && <p class="error">{error}</p>}
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
      {data && (
        <article class="card">
          <dl>
            <dt>Function</dt>
            <dd>
              <a href={href('functions', data.functionName)}>{data.functionName}</a> (version{' '}
              {data.version})
            </dd>
            <dt>Status</dt>
            <dd>
              <span class={`status ${data.status}`} data-testid="task-status">
                {data.status}
              </span>
            </dd>
            <dt>Attempts</dt>
            <dd>{data.attempts}</dd>
            <dt>Created</dt>
            <dd>{formatTime(data.createdAt)}</dd>
            <dt>Updated</dt>
            <dd>{formatTime(data.updatedAt)}</dd>
            {data.lastError !== undefined && (
              <>
                <dt>Last error</dt>
                <dd class="error-text">{errorText(data.lastError)}</dd>
              </>
            )}
          </dl>
          {data.result !== undefined && (
            <>
              <h2>Result</h2>
              <pre>{data.result}</pre>
            </>
          )}
          <h2>Destination record</h2>
          <pre>
            {data.destination === undefined
              ? 'none yet'
              : JSON.stringify(data.destination, null, 2)}
          </pre>
          <div class="row">
            {stoppable.has(data.status) && !isReadOnly() && (
              <button type="button" class="danger" onClick={stop}>
                Stop
              </button>
            )}
            <button type="button" onClick={reload}>
              Refresh
            </button>
          </div>
        </article>
      )}
    </section>
  );
}
