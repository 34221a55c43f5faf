import { ApiError, NoPlatformError } from '../../client/control-client.js';
import { type LogLine, LogsClient } from '../../client/logs-client.js';
import { CliError } from '../cli-error.js';
import type { CliContext, ServiceOptions } from '../context.js';
import { resolveEndpoint } from '../endpoint.js';
import { loadForCli } from '../load-for-cli.js';
import { formatLogLine, localTime } from '../log-format.js';
import { followLogStream } from '../log-stream-follow.js';
import { Output } from '../output.js';
import { notDeployedError, pickFunction } from '../pick-function.js';

export interface LogsOptions extends ServiceOptions {
  /** The function's key under `functions:`. */
  function?: string;
  tail?: boolean;
  startTime?: string;
  filter?: string;
  interval?: string;
}

/** Page size of the non-following read; pages are walked until the last. */
const pageSize = 1000;

/** `nimbus logs`; with -t it follows until SIGINT (Ctrl-C), then exits 0. */
export async function logsCommand(ctx: CliContext, opts: LogsOptions): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.on('SIGINT', stop);
  try {
    await runLogs(ctx, opts, controller.signal);
  } finally {
    process.off('SIGINT', stop);
  }
}

/** The command itself; `signal` ends a tail (SIGINT in the CLI, an AbortController in tests). */
export async function runLogs(
  ctx: CliContext,
  opts: LogsOptions,
  signal: AbortSignal,
): Promise<void> {
  const out = new Output(ctx, opts);
  const interval = parseInterval(opts.interval);
  const { definition } = await loadForCli(ctx, opts, out);
  const { key, fn } = pickFunction(definition, opts.function);
  const endpoint = await resolveEndpoint(definition.region, ctx.env);
  out.detail(`endpoint: ${endpoint.endpoint} (${endpoint.source})`);
  const client = new LogsClient(endpoint);
  const now = Date.now();
  const startTime =
    opts.startTime === undefined
      ? now - (opts.tail ? 10_000 : 10 * 60_000)
      : parseStartTime(opts.startTime, now);
  const filter = opts.filter || undefined;
  const color = Boolean(ctx.stdout.isTTY) && !ctx.env.NO_COLOR;
  let printed = 0;
  const print = (line: LogLine) => {
    printed++;
    if (opts.json) return void ctx.stdout.write(`${JSON.stringify(line)}\n`);
    const text = formatLogLine(line.message, { color });
    if (text !== undefined) ctx.stdout.write(`${text}\n`);
  };

  try {
    if (!opts.tail) {
      let after: number | null = null;
      do {
        const page = await client.query(fn.name, {
          startTime,
          filter,
          limit: pageSize,
          ...(after === null ? {} : { after }),
        });
        for (const line of page.events) print(line);
        after = page.next;
      } while (after !== null);
      // An empty stdout with exit 0 reads as "broken"; say why nothing is there (on stderr).
      if (printed === 0) {
        out.log(
          `No log lines for function "${key}" (${fn.name}) since ${localTime(startTime)}` +
            `${filter ? ` matching "${filter}"` : ': it has not run since then'}. ` +
            `Try --startTime 1d, or 'nimbus invoke -f ${key}'`,
        );
      }
      return;
    }
    await follow(client, fn.name, { startTime, filter, interval }, signal, print, out);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && error.code === 'NIMBUS_NOT_FOUND') {
      throw notDeployedError(definition, key);
    }
    throw error;
  }
}

/** Follows the tail stream; a lost stream is retried every `interval` ms, with one warning. */
async function follow(
  client: LogsClient,
  functionName: string,
  params: { startTime: number; filter: string | undefined; interval: number },
  signal: AbortSignal,
  print: (line: LogLine) => void,
  out: Output,
): Promise<void> {
  let warned = false;
  await followLogStream(
    client,
    functionName,
    {
      startTime: params.startTime,
      filter: params.filter,
      retryMs: params.interval,
      onLine: (line) => {
        warned = false;
        print(line);
      },
      onLost: (error, connected) => {
        // Refusals (404, 401, 400) will not change by retrying; nor will a platform that was
        // never there. A stream cut mid-way, or a restart under way, will.
        if (error instanceof ApiError) throw error;
        if (error instanceof NoPlatformError && !connected) throw error;
        if (!warned) {
          out.warn(
            `lost the log stream from ${client.endpoint}; retrying every ${params.interval} ms`,
          );
          warned = true;
        }
        return undefined;
      },
    },
    signal,
  );
}

/** `30m`, `2h`, `3d` (before now), epoch milliseconds, or a date; a date without a zone is UTC. */
export function parseStartTime(value: string, now: number): number {
  const relative = /^(\d+)([mhd])$/.exec(value.trim());
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd'];
    return now - Number(relative[1]) * unit;
  }
  const text = value.trim();
  if (/^\d{10,}$/.test(text)) return Number(text);
  // As dayjs.utc in the Serverless Framework: no zone means UTC, not the local zone.
  const local = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?$/.exec(text);
  const ms = local ? Date.parse(`${local[1]}T${local[2] ?? '00:00:00'}Z`) : Date.parse(text);
  if (Number.isNaN(ms)) {
    throw new CliError(
      `--startTime "${value}" is not a time: use 30m, 2h, 3d, an ISO date or epoch milliseconds`,
    );
  }
  return ms;
}

function parseInterval(value: string | undefined): number {
  if (value === undefined) return 1000;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) {
    throw new CliError(`--interval "${value}" must be a positive number of milliseconds`);
  }
  return n;
}
