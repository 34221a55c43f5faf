import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { enc, get, isReadOnly, request } from './api';
import { Chart } from './chart';
import { formatTime, href, messageOf, useLoad } from './hooks';
import { type InvocationRecord, InvocationsTable } from './tasks';

interface FunctionView {
  function?: {
    key: string;
    functionName: string;
    version: number;
    runtime: string;
    handler: string;
  };
  service: string;
  stage: string;
  aliases: { name: string; version: number }[];
  versions: {
    version: number;
    codeSha256: string;
    config: Record<string, unknown>;
    createdAt: number;
  }[];
}

export function FunctionPage({ name }: { name: string }) {
  const view = useLoad(() => get<FunctionView>(`/v1/functions/${enc(name)}`), name);
  const v = view.data;
  const current = v?.versions.find((x) => x.version === v.function?.version) ?? v?.versions.at(-1);
  return (
    <section>
      {v && (
        <p>
          <a href="#/">Services</a> /{' '}
          <a href={href('services', v.service, v.stage)}>
            {v.service} {v.stage}
          </a>{' '}
          /
        </p>
      )}
      <h1>{name}</h1>
      {view.error && <p class="error">{view.error}</p>}
      {v && (
        <div class="cards">
          <article class="card">
            <h2>Configuration</h2>
            <dl>
              <dt>Runtime</dt>
              <dd>{v.function?.runtime}</dd>
              <dt>Handler</dt>
              <dd>
                <code>{v.function?.handler}</code>
              </dd>
              <dt>Current version</dt>
              <dd>{v.function?.version}</dd>
            </dl>
            <details>
              <summary>Full configuration</summary>
              <pre>{JSON.stringify(current?.config ?? {}, null, 2)}</pre>
            </details>
          </article>
          <article class="card">
            <h2>Versions and aliases</h2>
            <ul class="plain">
              {v.aliases.map((a) => (
                <li key={a.name}>
                  alias <strong>{a.name}</strong> → v{a.version}
                </li>
              ))}
            </ul>
            <ul class="plain">
              {[...v.versions].reverse().map((x) => (
                <li key={x.version}>
                  v{x.version} <span class="muted">{formatTime(x.createdAt)}</span>{' '}
                  <code>{x.codeSha256.slice(0, 10)}</code>
                </li>
              ))}
            </ul>
          </article>
        </div>
      )}
      <Charts name={name} />
      <div class="cards">
        {!isReadOnly() && <TestInvoke name={name} />}
        <LiveLogs name={name} />
      </div>
      <RecentInvocations name={name} />
    </section>
  );
}

interface Usage {
  invocations: number;
  errors: number;
  throttles: number;
  coldStarts: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

const windows = {
  hour: { buckets: 12, stepMs: 5 * 60_000 },
  day: { buckets: 24, stepMs: 3_600_000 },
};

/** Charts from the per-minute rollups (GET /v1/metrics), one request per bucket. */
function Charts({ name }: { name: string }) {
  const [range, setRange] = useState<'hour' | 'day'>('hour');
  const [refresh, setRefresh] = useState(0);
  const { data, error } = useLoad(async () => {
    const { buckets, stepMs } = windows[range];
    // Buckets end at the next whole step, so one's edges stay put between refreshes.
    const end = Math.ceil(Date.now() / stepMs) * stepMs;
    const starts = Array.from({ length: buckets }, (_, i) => end - (buckets - i) * stepMs);
    const answers = await Promise.all(
      starts.map((s) =>
        get<{ functions: Usage[] }>(
          `/v1/metrics?function=${enc(name)}&startTime=${s}&endTime=${s + stepMs - 1}`,
        ),
      ),
    );
    return starts.map((s, i) => ({ start: s, usage: answers[i]!.functions[0] }));
  }, `${name}/${range}/${refresh}`);
  const labels = (data ?? []).map((b) =>
    new Date(b.start).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
  );
  const series = (pick: (u: Usage) => number | null) =>
    (data ?? []).map((b) => (b.usage ? pick(b.usage) : 0));
  return (
    <section aria-label="charts">
      <h2>
        Metrics{' '}
        <span class="segmented">
          <button type="button" aria-pressed={range === 'hour'} onClick={() => setRange('hour')}>
            Last hour
          </button>
          <button type="button" aria-pressed={range === 'day'} onClick={() => setRange('day')}>
            Last day
          </button>
          <button type="button" onClick={() => setRefresh((r) => r + 1)}>
            Refresh
          </button>
        </span>
      </h2>
      {error && <p class="error">{error}</p>}
      <div class="charts">
        <Chart title="Invocations" labels={labels} values={series((u) => u.invocations)} />
        <Chart title="Errors" labels={labels} values={series((u) => u.errors)} />
        <Chart title="Throttles" labels={labels} values={series((u) => u.throttles)} />
        <Chart title="Cold starts" labels={labels} values={series((u) => u.coldStarts)} />
        <Chart title="p50 duration" unit="ms" labels={labels} values={series((u) => u.p50Ms)} />
        <Chart title="p95 duration" unit="ms" labels={labels} values={series((u) => u.p95Ms)} />
      </div>
    </section>
  );
}

const eventsKey = (name: string) => `nimbus.console.testEvents.${name}`;

function loadEvents(name: string): Record<string, string> {
  try {
    return JSON.parse(localStorage.getItem(eventsKey(name)) ?? '{}') as Record<string, string>;
  } catch {
    return {};
  }
}

/** Lambda console's Test tab: a payload editor, saved events (this browser only), the answer. */
function TestInvoke({ name }: { name: string }) {
  const [payload, setPayload] = useState('{\n  "hello": "world"\n}');
  const [events, setEvents] = useState(() => loadEvents(name));
  const [eventName, setEventName] = useState('');
  const [result, setResult] = useState<
    { status: number; functionError: string | null; body: string; log: string } | undefined
  >();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const save = () => {
    const key = eventName.trim();
    if (!key) return;
    const next = { ...events, [key]: payload };
    localStorage.setItem(eventsKey(name), JSON.stringify(next));
    setEvents(next);
  };
  const remove = () => {
    const next = { ...events };
    delete next[eventName];
    localStorage.setItem(eventsKey(name), JSON.stringify(next));
    setEvents(next);
  };
  const invoke = async () => {
    setError('');
    try {
      JSON.parse(payload);
    } catch (e) {
      setError(`The payload is not JSON: ${(e as Error).message}`);
      return;
    }
    setBusy(true);
    try {
      const answer = await request(
        'POST',
        `/2015-03-31/functions/${enc(name)}/invocations`,
        payload,
        { 'x-amz-log-type': 'Tail' },
      );
      const log = answer.headers.get('x-amz-log-result');
      setResult({
        status: answer.status,
        functionError: answer.headers.get('x-amz-function-error'),
        body: answer.text,
        log: log ? decodeBase64(log) : '',
      });
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <article class="card" aria-label="test invoke">
      <h2>Test</h2>
      <label>
        Saved event{' '}
        <select
          value={events[eventName] === undefined ? '' : eventName}
          onChange={(e) => {
            const key = (e.target as HTMLSelectElement).value;
            setEventName(key);
            if (events[key] !== undefined) setPayload(events[key]!);
          }}
        >
          <option value="">(new event)</option>
          {Object.keys(events).map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </label>
      <label>
        Payload (JSON)
        <textarea
          name="payload"
          rows={6}
          spellcheck={false}
          value={payload}
          onInput={(e) => setPayload((e.target as HTMLTextAreaElement).value)}
        />
      </label>
      <div class="row">
        <input
          aria-label="event name"
          placeholder="event name"
          value={eventName}
          onInput={(e) => setEventName((e.target as HTMLInputElement).value)}
        />
        <button type="button" onClick={save}>
          Save event
        </button>
        {events[eventName] !== undefined && (
          <button type="button" onClick={remove}>
            Delete event
          </button>
        )}
        <button type="button" class="primary" disabled={busy} onClick={invoke}>
          {busy ? 'Invoking…' : 'Invoke'}
        </button>
      </div>
      {error && <p class="error">{error}</p>}
      {result && (
        <div class="result" data-testid="invoke-result">
          <p>
            Status {result.status}
            {result.functionError ? (
              <span class="error"> · function error: {result.functionError}</span>
            ) : (
              <span class="ok"> · succeeded</span>
            )}
          </p>
          <pre>{result.body}</pre>
          {result.log && (
            <details>
              <summary>Log tail</summary>
              <pre>{result.log}</pre>
            </details>
          )}
        </div>
      )}
    </article>
  );
}

function decodeBase64(b64: string): string {
  try {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  } catch {
    return '';
  }
}

interface LogLine {
  timestamp: number;
  message: string;
  requestId?: string;
}

/** Follows the tail endpoint as Server-Sent Events; the filter box narrows what is shown. */
function LiveLogs({ name }: { name: string }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [filter, setFilter] = useState('');
  const [state, setState] = useState('connecting');
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    setLines([]);
    const since = Date.now() - 15 * 60_000;
    const source = new EventSource(`api/v1/functions/${enc(name)}/logs/tail?startTime=${since}`);
    source.onopen = () => setState('live');
    source.onerror = () =>
      setState(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
    source.onmessage = (e: MessageEvent<string>) => {
      const line = JSON.parse(e.data) as LogLine;
      setLines((old) => [...old.slice(-499), line]);
    };
    return () => source.close();
  }, [name]);
  const shown = useMemo(() => {
    const f = filter.toLowerCase();
    return f ? lines.filter((l) => l.message.toLowerCase().includes(f)) : lines;
  }, [lines, filter]);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [shown.length]);
  return (
    <article class="card" aria-label="live logs">
      <h2>
        Live logs <span class={`badge ${state}`}>{state}</span>
      </h2>
      <input
        type="search"
        aria-label="filter log lines"
        placeholder="filter"
        value={filter}
        onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
      />
      <div class="logs" ref={box} role="log" aria-live="polite" data-testid="log-lines">
        {shown.map((l, i) => (
          <div class="log-line" key={i}>
            <span class="muted">{new Date(l.timestamp).toLocaleTimeString()}</span>{' '}
            <span class="msg">{l.message}</span>
          </div>
        ))}
        {shown.length === 0 && <p class="muted">No lines yet.</p>}
      </div>
    </article>
  );
}

interface RecentRun {
  requestId: string;
  timestamp: number;
  version: string;
  durationMs: number;
  billedDurationMs: number;
  maxMemoryUsedMb: number;
  memorySizeMb: number;
  initDurationMs?: number;
  coldStart: boolean;
  failed: boolean;
}

function RecentInvocations({ name }: { name: string }) {
  const runs = useLoad(
    () =>
      get<{ invocations: RecentRun[] }>(`/v1/functions/${enc(name)}/invocations/recent?limit=20`),
    `${name}/recent`,
  );
  const { data, error, reload } = useLoad(
    () =>
      get<{ invocations: InvocationRecord[] }>(`/v1/functions/${enc(name)}/invocations?limit=20`),
    name,
  );
  return (
    <section>
      <h2>
        Recent invocations{' '}
        <button type="button" onClick={runs.reload}>
          Refresh
        </button>
      </h2>
      <p class="muted">
        Every kind (HTTP, Invoke API, async, event sources), last hour, from REPORT lines.
      </p>
      {runs.error && <p class="error">{runs.error}</p>}
      <div class="table-wrap">
        <table aria-label="recent invocations">
          <thead>
            <tr>
              <th>When</th>
              <th>Request id</th>
              <th>Version</th>
              <th>Status</th>
              <th>Duration (ms)</th>
              <th>Memory (MB)</th>
              <th>Cold start</th>
            </tr>
          </thead>
          <tbody>
            {(runs.data?.invocations ?? []).map((r) => (
              <tr key={r.requestId} data-status={r.failed ? 'failed' : 'ok'}>
                <td>{formatTime(r.timestamp)}</td>
                <td>
                  <code>{r.requestId}</code>
                </td>
                <td>{r.version}</td>
                <td>{r.failed ? 'error' : 'ok'}</td>
                <td>{r.durationMs.toFixed(1)}</td>
                <td>
                  {r.maxMemoryUsedMb} / {r.memorySizeMb}
                </td>
                <td>{r.coldStart ? `yes (${(r.initDurationMs ?? 0).toFixed(0)} ms)` : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>
        Recent async invocations{' '}
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </h2>
      {error && <p class="error">{error}</p>}
      <InvocationsTable invocations={data?.invocations ?? []} />
    </section>
  );
}
