import type { Command } from 'commander';
import { ApiError } from '../../client/control-client.js';
import { CliError } from '../cli-error.js';
import type { CliContext, ServiceOptions } from '../context.js';
import { Output } from '../output.js';
import { notDeployedError, pickFunction } from '../pick-function.js';

interface InvocationsOptions extends ServiceOptions {
  /** The function's key under `functions:`. */
  function?: string;
  status?: string;
  limit?: string;
  /** redrive: dead letter ids (repeatable). */
  id?: string[];
}

/**
 * `nimbus invocations -f <key>` and its subcommands show, stop, redrive and dead: the task status
 * of asynchronous invocations and their dead letters (docs/async.md).
 *
 * Registered from main.ts, which passes its `serviceCommand` so the shared options (-c -s -r
 * --param --verbose --json) stay the same everywhere; what the actions need is imported only when
 * one runs, so startup stays cheap.
 */
export function addInvocationsCommand(
  program: Command,
  ctx: CliContext,
  serviceCommand: (cmd: Command) => Command,
): void {
  const run =
    (action: (ctx: CliContext, args: string[], opts: InvocationsOptions) => Promise<void>) =>
    (...args: unknown[]) => {
      const cmd = args.at(-1) as Command;
      const positional = args.slice(0, -2).filter((a): a is string => typeof a === 'string');
      return action(ctx, positional, cmd.optsWithGlobals() as InvocationsOptions);
    };

  const invocations = serviceCommand(
    program
      .command('invocations')
      .description('list asynchronous invocations of a function (newest first)'),
  )
    .option('-f, --function <key>', 'the function key in serverless.yml')
    .option('--status <status>', 'only this status: enqueued, running, retrying, succeeded, ...')
    .option('--limit <n>', 'at most this many (1-1000, default 20)')
    .action(run(listInvocations));

  serviceCommand(
    invocations
      .command('show')
      .argument('<id>', 'request id of the invocation')
      .description('show one invocation record'),
  ).action(run(showInvocation));
  serviceCommand(
    invocations
      .command('stop')
      .argument('<id>', 'request id of the invocation')
      .description('stop a queued or retrying invocation: it will not run again'),
  ).action(run(stopInvocation));
  serviceCommand(
    invocations.command('dead').description('list the dead letters of a function (oldest first)'),
  )
    // Not required here: when `invocations` declares -f too, Commander hands the value to it.
    .option('-f, --function <key>', 'the function key in serverless.yml')
    .option('--limit <n>', 'at most this many (1-1000, default 20)')
    .action(run(listDead));
  serviceCommand(
    invocations
      .command('redrive')
      .description('run dead letters again (all of the function, or those given with --id)'),
  )
    .option('-f, --function <key>', 'the function key in serverless.yml')
    .option('--id <id>', 'a dead letter id (repeatable)', (v: string, p: string[]) => [...p, v], [])
    .action(run(redriveDead));
}

async function listInvocations(
  ctx: CliContext,
  _args: string[],
  opts: InvocationsOptions,
): Promise<void> {
  const { client, out, fn } = await forFunction(ctx, opts);
  const limit = parseLimit(opts.limit);
  const records = await fn.call(() =>
    client.list(fn.name, {
      ...(opts.status ? { status: opts.status } : {}),
      ...(limit === undefined ? {} : { limit }),
    }),
  );
  out.data({ invocations: records });
  if (records.length === 0) {
    out.log(`No ${opts.status ? `${opts.status} ` : ''}asynchronous invocations of ${fn.name}`);
    return;
  }
  table(out, [
    ['ID', 'STATUS', 'ATTEMPTS', 'CREATED', 'LAST ERROR'],
    ...records.map((r) => [
      r.id,
      r.status,
      String(r.attempts),
      new Date(r.createdAt).toISOString(),
      errorTypeOf(r.lastError) ?? '',
    ]),
  ]);
}

async function showInvocation(
  ctx: CliContext,
  [id]: string[],
  opts: InvocationsOptions,
): Promise<void> {
  const { client, out } = await connect(ctx, opts);
  const r = await client.get(id!);
  out.data(r);
  const rows: [string, string][] = [
    ['id', r.id],
    ['function', r.functionName],
    ['version', r.version],
    ['status', r.status],
    ['attempts', String(r.attempts)],
    ['created', new Date(r.createdAt).toISOString()],
    ['updated', new Date(r.updatedAt).toISOString()],
  ];
  if (r.jobId !== undefined) rows.push(['job', r.jobId]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  for (const [key, value] of rows) out.result(`${`${key}:`.padEnd(width)} ${value}`);
  const block = (title: string, value: unknown) => {
    out.result(`${title}:`);
    for (const line of pretty(value).split('\n')) out.result(`  ${line}`);
  };
  if (r.lastError !== undefined) block('lastError', r.lastError);
  if (r.result !== undefined) block('result', parseOr(r.result));
  if (r.destination !== undefined) block('destination', r.destination);
}

async function stopInvocation(
  ctx: CliContext,
  [id]: string[],
  opts: InvocationsOptions,
): Promise<void> {
  const { client, out } = await connect(ctx, opts);
  const record = await client.stop(id!);
  out.data(record);
  out.success(`Invocation ${record.id} stopped: it will not run again`);
}

async function listDead(ctx: CliContext, _args: string[], opts: InvocationsOptions): Promise<void> {
  const { client, out, fn } = await forFunction(ctx, opts);
  const limit = parseLimit(opts.limit);
  const dead = await fn.call(() =>
    client.deadLetters(fn.name, limit === undefined ? {} : { limit }),
  );
  out.data({ deadLetters: dead });
  if (dead.length === 0) {
    out.log(`No dead letters for ${fn.name}`);
    return;
  }
  table(out, [
    ['ID', 'REQUEST ID', 'DEAD AT', 'ATTEMPTS', 'REASON'],
    ...dead.map((d) => [
      d.id,
      requestIdOf(d.payload) ?? '',
      new Date(d.deadAt).toISOString(),
      String(d.attempts),
      reasonOf(d.reason),
    ]),
  ]);
  out.log(`Run them again with 'nimbus invocations redrive -f ${fn.key}'`);
}

async function redriveDead(
  ctx: CliContext,
  _args: string[],
  opts: InvocationsOptions,
): Promise<void> {
  const { client, out, fn } = await forFunction(ctx, opts);
  const ids = opts.id && opts.id.length > 0 ? opts.id : undefined;
  const redriven = await fn.call(() => client.redrive(fn.name, ids));
  out.data({ redriven });
  out.success(
    `Redriven ${redriven} dead letter${redriven === 1 ? '' : 's'} of ${fn.key} (${fn.name})`,
  );
}

/** The function -f names, from serverless.yml; a 404 from the platform means not deployed. */
async function forFunction(ctx: CliContext, opts: InvocationsOptions) {
  const { loadForCli } = await import('../load-for-cli.js');
  const out = new Output(ctx, opts);
  const { definition } = await loadForCli(ctx, opts, out);
  const { key, fn: def } = pickFunction(definition, opts.function);
  const { client } = await clientFor(ctx, definition.region, out);
  const fn = {
    key,
    name: def.name,
    async call<T>(request: () => Promise<T>): Promise<T> {
      try {
        return await request();
      } catch (error) {
        if (
          error instanceof ApiError &&
          error.status === 404 &&
          error.code === 'NIMBUS_NOT_FOUND'
        ) {
          throw notDeployedError(definition, key);
        }
        throw error;
      }
    },
  };
  return { client, out, fn };
}

/**
 * show and stop need no function, but the region still picks the platform: -r, else the one of
 * the serverless.yml here (when there is one), else the default region.
 */
async function connect(ctx: CliContext, opts: InvocationsOptions) {
  const out = new Output(ctx, opts);
  let region = opts.region;
  if (region === undefined) {
    const [{ findConfigFile }, { loadForCli }] = await Promise.all([
      import('../../service/find-config.js'),
      import('../load-for-cli.js'),
    ]);
    const here = opts.config ?? (await findConfigFile(ctx.cwd).catch(() => undefined));
    region = here ? (await loadForCli(ctx, opts, out)).definition.region : 'us-east-1';
  }
  return clientFor(ctx, region, out);
}

async function clientFor(ctx: CliContext, region: string, out: Output) {
  const [{ InvocationsClient }, { resolveEndpoint }] = await Promise.all([
    import('../../client/invocations-client.js'),
    import('../endpoint.js'),
  ]);
  const resolved = await resolveEndpoint(region, ctx.env);
  out.detail(`endpoint: ${resolved.endpoint} (${resolved.source})`);
  return { client: new InvocationsClient(resolved), out };
}

function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value)) {
    throw new CliError(`--limit "${value}" must be a whole number from 1 to 1000`);
  }
  return Number(value);
}

function table(out: Output, rows: string[][]): void {
  const last = rows[0]!.length - 1;
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) {
    out.result(
      row
        .map((cell, i) => (i < last ? cell.padEnd(widths[i]!) : cell))
        .join('  ')
        .trimEnd(),
    );
  }
}

function errorTypeOf(error: unknown): string | undefined {
  const type = (error as { errorType?: unknown } | null | undefined)?.errorType;
  return typeof type === 'string' ? type : undefined;
}

function requestIdOf(payload: unknown): string | undefined {
  const id = (payload as { requestId?: unknown } | null)?.requestId;
  return typeof id === 'string' ? id : undefined;
}

/** The worker's reason is `{ condition, lastError }` (docs/async.md). */
function reasonOf(reason: unknown): string {
  const r = reason as { condition?: unknown; lastError?: unknown } | null;
  const parts = [
    typeof r?.condition === 'string' ? r.condition : undefined,
    errorTypeOf(r?.lastError),
  ].filter((p) => p !== undefined);
  return parts.length > 0 ? parts.join(': ') : JSON.stringify(reason ?? null);
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function pretty(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}
