import { randomUUID } from 'node:crypto';
import type { LogEvent } from '../../model/invocation.js';
import { CliError } from '../cli-error.js';
import { readClientContext } from '../client-context.js';
import type { CliContext, ServiceOptions } from '../context.js';
import { type LocalFunction, startLocalFunction } from '../dev/local-function.js';
import { loadForCli } from '../load-for-cli.js';
import { formatLogLine } from '../log-format.js';
import { Output } from '../output.js';
import { pickFunction } from '../pick-function.js';
import { readInput } from '../read-input.js';

export interface InvokeLocalOptions extends ServiceOptions {
  /** The function's key under `functions:`. */
  function?: string;
  /** -p: a file holding the event, relative to the service dir. */
  path?: string;
  /** -d: the event as text. */
  data?: string;
  raw?: boolean;
  /** -e K=V, repeatable. */
  env?: string[];
  /** The client context as JSON text. */
  context?: string;
  /** -x: a file holding the client context. */
  contextPath?: string;
}

/**
 * `nimbus invoke local`: runs one function once through the platform's own runtime bootstrap,
 * with no platform. Log lines go to stderr as they come, the result to stdout (4-space JSON, as
 * the Serverless Framework prints it); a function error prints its error JSON and exits 1.
 */
export async function invokeLocalCommand(ctx: CliContext, opts: InvokeLocalOptions) {
  const out = new Output(ctx, opts);
  const loaded = await loadForCli(ctx, opts, out);
  const { fn } = pickFunction(loaded.definition, opts.function);
  const payload = await readEvent(loaded.serviceDir, opts);
  const clientContext = await readClientContext(loaded.serviceDir, opts);
  const env = { IS_LOCAL: 'true', ...parseEnv(opts.env ?? []) };

  const color = Boolean(ctx.stderr.isTTY) && !ctx.env.NO_COLOR;
  // onLog must stay cheap (it runs on the instance's read path): queue, print on the next tick.
  const queued: string[] = [];
  let flushing = false;
  const flush = () => {
    flushing = false;
    for (const text of queued.splice(0)) ctx.stderr.write(`${text}\n`);
  };
  const onLog = (event: LogEvent) => {
    const text = formatLogLine(event.message, { color });
    if (text === undefined) return;
    queued.push(text);
    if (!flushing) {
      flushing = true;
      setImmediate(flush);
    }
  };

  let local: LocalFunction | undefined;
  // The function runs in its own process group, out of reach of the terminal's Ctrl-C.
  const interrupt = () => local?.instance.kill();
  process.on('SIGINT', interrupt);
  try {
    local = await out.step('Packaging', () => startLocalFunction({ loaded, fn, env, onLog }));
    const result = await local.instance.invoke({
      requestId: randomUUID(),
      payload,
      deadlineMs: Date.now() + fn.timeout * 1000,
      ...(clientContext ? { clientContext } : {}),
    });
    await local.close();
    flush();
    if (result.outcome.status === 'error') {
      ctx.stdout.write(`${JSON.stringify(result.outcome.error, null, 4)}\n`);
      throw new CliError(`Function "${fn.key}" failed: ${result.outcome.error.errorType}`);
    }
    ctx.stdout.write(`${prettyPayload(result.outcome.payload)}\n`);
  } finally {
    process.off('SIGINT', interrupt);
    await local?.close();
  }
}

/** The event as JSON text: -p wins over -d (as in Serverless); text that is not JSON is a string. */
async function readEvent(serviceDir: string, opts: InvokeLocalOptions): Promise<string> {
  let text: string | undefined = opts.data;
  if (opts.path !== undefined) text = await readInput(serviceDir, opts.path, '--path');
  if (text === undefined) return '{}';
  if (opts.raw) return JSON.stringify(text);
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return JSON.stringify(text);
  }
}

/** -e K=V pairs; the value may itself hold `=`. */
export function parseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--env "${pair}" must look like KEY=value`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

function prettyPayload(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 4);
  } catch {
    return payload;
  }
}
