import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TooManyRequestsError } from '../../src/platform/pool/pool-errors.js';
import type { RunningPlatform } from '../../src/platform/server.js';
import { type DeployedService, startWithService } from '../helpers/cli-platform.js';
import { waitUntil as until } from '../helpers/wait-for.js';
import { parsePrometheusText, sampleValue } from './prometheus-text.js';

const metricsToken = 'scrape-only-token-0123456789';

/** GET /metrics on a real platform, real processes: its counters match the invocations made. */
describe('GET /metrics', () => {
  let svc: DeployedService;
  let platform: RunningPlatform;

  before(async () => {
    svc = await startWithService(
      {
        'serverless.yml': [
          'service: meter',
          'provider:',
          '  name: aws',
          '  runtime: nodejs20.x',
          'functions:',
          '  ok:',
          '    handler: handler.ok',
          '  boom:',
          '    handler: handler.boom',
          '    maximumRetryAttempts: 0',
          '  closed:',
          '    handler: handler.ok',
          '    reservedConcurrency: 0',
          '',
        ].join('\n'),
        'handler.js':
          "exports.ok = async () => 'fine';\nexports.boom = async () => { throw new TypeError('no good'); };\n",
      },
      { options: { metricsToken } },
    );
    platform = svc.platform;
  });
  after(() => svc?.close());

  const scrape = async (token = metricsToken) => {
    const res = await fetch(`${platform.url}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await res.text());
  };
  const invoke = (name: string) =>
    platform.invoker.invoke(`meter-dev-${name}`, undefined, { payload: '{}' });

  test('counters, histograms and gauges match the invocations made', async () => {
    for (let i = 0; i < 5; i++) await invoke('ok');
    for (let i = 0; i < 2; i++) await invoke('boom');
    await assert.rejects(invoke('closed'), TooManyRequestsError);
    // Through the Invoke API too: the HTTP edge reaches the same counted boundary.
    const http = await fetch(`${platform.url}/2015-03-31/functions/meter-dev-ok/invocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.adminToken}` },
      body: '{}',
    });
    assert.equal(http.status, 200);
    await http.text();

    const m = await scrape();
    const ok = { function: 'meter-dev-ok', version: '1' };
    const boom = { function: 'meter-dev-boom', version: '1' };
    assert.equal(m.types.get('nimbus_invocations_total'), 'counter');
    assert.equal(m.types.get('nimbus_duration_seconds'), 'histogram');
    assert.equal(sampleValue(m, 'nimbus_invocations_total', ok), 6);
    assert.equal(sampleValue(m, 'nimbus_invocations_total', boom), 2);
    assert.equal(sampleValue(m, 'nimbus_errors_total', { ...boom, type: 'TypeError' }), 2);
    assert.equal(sampleValue(m, 'nimbus_errors_total', { ...ok, type: 'TypeError' }), 0);
    assert.equal(sampleValue(m, 'nimbus_duration_seconds_count', ok), 6);
    assert.equal(sampleValue(m, 'nimbus_cold_starts_total', ok), 1, 'one instance served them all');
    assert.equal(sampleValue(m, 'nimbus_init_duration_seconds_count', ok), 1);
    assert.equal(
      sampleValue(m, 'nimbus_throttles_total', {
        function: 'meter-dev-closed',
        reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      }),
      1,
    );
    assert.equal(sampleValue(m, 'nimbus_instances', { ...ok, state: 'idle' }), 1);
    assert.equal(sampleValue(m, 'nimbus_instances', { ...ok, state: 'busy' }), 0);
    // The platform's own process metrics.
    assert.ok(sampleValue(m, 'process_resident_memory_bytes', {}) > 0);
    assert.ok(sampleValue(m, 'process_cpu_seconds_total', {}) > 0);
    assert.ok(sampleValue(m, 'nodejs_heap_size_used_bytes', {}) > 0);
    assert.equal(m.types.get('nodejs_gc_duration_seconds'), 'histogram');
    const lag = sampleValue(m, 'nodejs_eventloop_lag_seconds', {});
    assert.ok(lag > 0 && lag < 5, `event loop lag ${lag} s`);
    const busy = sampleValue(m, 'nodejs_eventloop_utilization', {});
    assert.ok(busy > 0 && busy <= 1, `event loop utilization ${busy}`);
    // Not the delay histogram's statistics: the sampler behind them woke the platform 100 times
    // a second (docs/metrics.md).
    const stats = /^nodejs_eventloop_lag_(min|max|mean|stddev|p\d+)_seconds$/;
    assert.deepEqual(
      [...m.types.keys()].filter((n) => stats.test(n)),
      [],
    );
  });

  test('async: a failing event with no retries is a dead letter; the queue drains', async () => {
    await platform.asyncInvoker.accept('meter-dev-boom', undefined, '{}');
    await until(async () => {
      const m = await scrape();
      return sampleValue(m, 'nimbus_dead_letters_total', { function: 'meter-dev-boom' }) === 1;
    }, 'a dead letter counted');
    const m = await scrape(platform.adminToken);
    assert.equal(sampleValue(m, 'nimbus_async_queue_depth', { function: 'meter-dev-boom' }), 0);
    assert.equal(sampleValue(m, 'nimbus_async_retries_total', { function: 'meter-dev-boom' }), 0);
  });

  test('no token, a wrong token or another method: 401/405 with the control API shape', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer not-the-token' },
      { authorization: metricsToken },
    ];
    for (const headers of attempts) {
      const res = await fetch(`${platform.url}/metrics`, { headers });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      const body = (await res.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'NIMBUS_AUTH_REQUIRED');
    }
    const post = await fetch(`${platform.url}/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${metricsToken}` },
      body: 'x',
    });
    assert.equal(post.status, 405);
    await post.text();
  });

  test('nimbus metrics matches the REPORT lines of the same run', async () => {
    for (const key of ['ok', 'boom']) {
      const logs = await svc.cli('logs', '-f', key, '--startTime', '1h', '--json');
      assert.equal(logs.code, 0, logs.stderr);
      const reports = logs.stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { message: string }).message)
        .filter((m) => m.startsWith('REPORT RequestId'));
      const field = (line: string, name: string) => {
        const m = new RegExp(`${name}: ([\\d.]+)`).exec(line);
        return m ? Number(m[1]) : undefined;
      };
      const durations = reports.map((l) => field(l, 'Duration')!).sort((a, b) => a - b);
      const mbMs = reports.reduce(
        (sum, l) => sum + field(l, 'Memory Size')! * field(l, 'Billed Duration')!,
        0,
      );
      const coldStarts = reports.filter((l) => l.includes('Init Duration')).length;

      const res = await svc.cli('metrics', '-f', key, '--startTime', '1h', '--json');
      assert.equal(res.code, 0, res.stderr);
      const [usage] = (JSON.parse(res.stdout) as { functions: Record<string, number>[] }).functions;
      assert.equal(usage!.invocations, reports.length, key);
      assert.equal(usage!.coldStarts, coldStarts, key);
      assert.equal(usage!.errors, key === 'boom' ? reports.length : 0);
      assert.ok(Math.abs(usage!.gbSeconds! - mbMs / 1024 / 1000) < 1e-9, key);
      // Percentiles come from ~5% wide buckets: the bucket's upper bound, within 5% above.
      for (const [q, got] of [
        [0.5, usage!.p50Ms!],
        [0.99, usage!.p99Ms!],
      ] as const) {
        const exact = durations[Math.max(1, Math.ceil(q * durations.length)) - 1]!;
        assert.ok(
          got >= exact - 0.01 && got <= exact * 1.051 + 0.01,
          `${key} p${q}: ${got} vs ${exact}`,
        );
      }
    }
    const text = await svc.cli('metrics', '--startTime', '1h');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Invocations: 9\n/);
    assert.match(text.stdout, /Throttles: 1\n/);
    assert.match(text.stdout, /GB-seconds: /);
  });

  test('GET /v1/metrics refuses malformed parameters with a 400 in the control API shape', async () => {
    for (const query of [
      '',
      'function=a/b',
      'function=x&startTime=yesterday',
      'function=x&startTime=20&endTime=10',
    ]) {
      const res = await fetch(`${platform.url}/v1/metrics?${query}`, {
        headers: { authorization: `Bearer ${platform.adminToken}` },
      });
      assert.equal(res.status, 400, query);
      const body = (await res.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'NIMBUS_METRICS_BAD_PARAM');
    }
  });

  test('the metrics token opens nothing else', async () => {
    const res = await fetch(`${platform.url}/v1/services`, {
      headers: { authorization: `Bearer ${metricsToken}` },
    });
    assert.equal(res.status, 401);
    await res.text();
  });
});
