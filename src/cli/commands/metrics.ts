import { PlatformHttp } from '../../client/platform-http.js';
import type { FunctionUsage } from '../../platform/observe/metrics/rollup-recorder.js';
import type { CliContext, ServiceOptions } from '../context.js';
import { resolveEndpoint } from '../endpoint.js';
import { loadForCli } from '../load-for-cli.js';
import { localTime } from '../log-format.js';
import { Output } from '../output.js';
import { pickFunction } from '../pick-function.js';
import { parseStartTime } from './logs.js';

export interface MetricsOptions extends ServiceOptions {
  function?: string;
  startTime?: string;
  endTime?: string;
}

/**
 * `nimbus metrics`: as the Serverless Framework's, invocations, throttles, errors and duration
 * over a span (default the last 24 hours), for the service or one function; plus cold starts,
 * p50/p95/p99 and GB-seconds, from the platform's per-minute rollups (docs/metrics.md).
 */
export async function metricsCommand(ctx: CliContext, opts: MetricsOptions): Promise<void> {
  const out = new Output(ctx, opts);
  const { definition } = await loadForCli(ctx, opts, out);
  const picked = opts.function === undefined ? undefined : pickFunction(definition, opts.function);
  const functions = picked
    ? [{ key: picked.key, name: picked.fn.name }]
    : Object.entries(definition.functions).map(([key, fn]) => ({ key, name: fn.name }));
  const now = Date.now();
  const endTime = opts.endTime === undefined ? now : parseStartTime(opts.endTime, now);
  const startTime =
    opts.startTime === undefined ? endTime - 86_400_000 : parseStartTime(opts.startTime, now);
  const endpoint = await resolveEndpoint(definition.region, ctx.env);
  const http = new PlatformHttp(endpoint);
  const search = new URLSearchParams({ startTime: String(startTime), endTime: String(endTime) });
  for (const f of functions) search.append('function', f.name);
  const res = await http.request('GET', `/v1/metrics?${search}`);
  const body = (await res.json()) as { functions: FunctionUsage[] };
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify({ startTime, endTime, functions: body.functions })}\n`);
    return;
  }
  const total = body.functions.reduce(
    (t, f) => ({
      invocations: t.invocations + f.invocations,
      throttles: t.throttles + f.throttles,
      errors: t.errors + f.errors,
      coldStarts: t.coldStarts + f.coldStarts,
      gbSeconds: t.gbSeconds + f.gbSeconds,
    }),
    { invocations: 0, throttles: 0, errors: 0, coldStarts: 0, gbSeconds: 0 },
  );
  const ms = (v: number | null) => (v === null ? '-' : `${v}ms`);
  const lines = [
    picked ? picked.key : definition.service,
    `${localTime(startTime)} ~ ${localTime(endTime)}`,
    '',
    `Invocations: ${total.invocations}`,
    `Throttles: ${total.throttles}`,
    `Errors: ${total.errors}`,
    `Cold starts: ${total.coldStarts}`,
    `GB-seconds: ${total.gbSeconds.toFixed(3)}`,
  ];
  for (const f of body.functions) {
    const key = functions.find((x) => x.name === f.functionName)?.key ?? f.functionName;
    lines.push(
      `  ${key}: ${f.invocations} invocations, ${f.errors} errors, ${f.throttles} throttles, ` +
        `${f.coldStarts} cold starts, p50 ${ms(f.p50Ms)} p95 ${ms(f.p95Ms)} p99 ${ms(f.p99Ms)}, ` +
        `${f.gbSeconds.toFixed(3)} GB-s`,
    );
  }
  ctx.stdout.write(`${lines.join('\n')}\n`);
}
