import { Command, CommanderError, Option } from 'commander';
import { ApiError, NoPlatformError } from '../client/control-client.js';
import { CliError } from './cli-error.js';
import { addInvocationsCommand } from './commands/invocations.js';
import { addKeysCommand } from './commands/keys.js';
import type { CliContext } from './context.js';
import { packageVersion } from './package-root.js';

// Each command module is imported only when that command runs, so `nimbus --version` or
// `nimbus info` never pay for esbuild, the store drivers or the HTTP server.
const lazy =
  <O>(load: () => Promise<(ctx: CliContext, opts: O) => Promise<void>>, ctx: CliContext) =>
  async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const run = await load();
    await run(ctx, command.optsWithGlobals() as O);
  };

function serviceCommand(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'path to serverless.yml')
    .option('-s, --stage <stage>', 'stage of the service')
    .option('-r, --region <region>', 'region: the name of a Nimbus platform endpoint')
    .option('--param <key=value>', 'parameter for ${param:key} (repeatable)', collect, [])
    .option('--verbose', 'show more detail')
    .option('--json', 'machine-readable output on stdout');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('nimbus')
    .description('Nimbus: a self-hosted serverless platform that speaks serverless.yml')
    .version(packageVersion, '-v, --version')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    });

  program
    .command('server')
    .description('start the Nimbus platform')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (default 8642)')
    .option('--data-dir <dir>', 'where state and artifacts live')
    .option('--database-url <url>', 'sqlite: (default), sqlite:<file> or postgres://...')
    .option('--retain-deployments <n>', 'deployments kept per stage (default 5)')
    .option(
      '--idle-timeout <duration>',
      'stop instances idle this long: scale to zero (default 5m)',
    )
    .option('--max-instances <n>', 'platform-wide cap on function instances (default 100)')
    .option('--log-retention <duration>', 'how long function logs are kept (default 7d)')
    .option('--async-retry-delay <duration>', 'base delay between async retries (default 1m)')
    .option(
      '--async-lease <duration>',
      'how long a crashed worker holds an async event (default 30s)',
    )
    .option(
      '--shutdown-grace <duration>',
      'on SIGTERM/SIGINT, how long work in flight may finish (default 10s)',
    )
    .option(
      '--isolation <mode>',
      'uids (default: a uid per service stage, needs root) or none (docs/security.md)',
    )
    .option('--function-uids <first-last>', 'uids given to service stages (default 200000-265535)')
    .action(lazy(async () => (await import('./commands/server.js')).serverCommand, ctx));

  serviceCommand(program.command('package').description('package the service into artifacts'))
    .option('-p, --package <dir>', 'output directory (default .serverless)')
    .action(lazy(async () => (await import('./commands/package.js')).packageCommand, ctx));

  const deploy = serviceCommand(program.command('deploy').description('deploy the service'))
    .option('--force', 'deploy even when nothing changed')
    .action(lazy(async () => (await import('./commands/deploy.js')).deployCommand, ctx));
  const list = serviceCommand(
    deploy.command('list').description('list the retained deployments'),
  ).action(lazy(async () => (await import('./commands/deploy-list.js')).deployListCommand, ctx));
  serviceCommand(list.command('functions').description('list functions and their versions')).action(
    lazy(async () => (await import('./commands/deploy-list.js')).deployListFunctionsCommand, ctx),
  );

  const invoke = serviceCommand(program.command('invoke').description('invoke a deployed function'))
    .option('-f, --function <key>', 'function key in serverless.yml')
    .option('-d, --data <data>', 'event data (JSON, or a string)')
    .option('-p, --path <file>', 'file holding the event data')
    .option('-t, --type <type>', 'RequestResponse (default), DryRun or Event')
    .option('-q, --qualifier <qualifier>', 'version number or alias')
    .option('-l, --log', 'print the tail of the invocation log')
    .option('--raw', 'send --data as a string, without JSON parsing')
    .action(lazy(async () => (await import('./commands/invoke.js')).invokeCommand, ctx));

  serviceCommand(invoke.command('local').description('run a function once on this machine'))
    // Not required here: when `invoke` declares -f too, Commander hands the value to it.
    .option('-f, --function <key>', 'the function key in serverless.yml')
    .option('-p, --path <file>', 'file holding the event (wins over --data)')
    .option('-d, --data <data>', 'the event: JSON, else passed as a string')
    .option('--raw', 'pass --data as a string even when it is JSON')
    .option(
      '-e, --env <key=value>',
      'environment variable for the function (repeatable)',
      collect,
      [],
    )
    .option('--context <json>', 'client context (JSON) for the handler')
    .option('-x, --contextPath <file>', 'file holding the client context')
    .action(lazy(async () => (await import('./commands/invoke-local.js')).invokeLocalCommand, ctx));

  serviceCommand(program.command('dev').description('deploy, watch and redeploy on every change'))
    .option('--port <port>', 'port of the embedded platform, when one is started (default 8642)')
    .option('--data-dir <dir>', 'data dir of the embedded platform (default <service>/.nimbus)')
    .option(
      '--shutdown-grace <duration>',
      'on SIGTERM/SIGINT, how long the embedded platform lets work in flight finish (default 10s)',
    )
    .action(lazy(async () => (await import('./commands/dev.js')).devCommand, ctx));

  serviceCommand(program.command('info').description('show the deployed service')).action(
    lazy(async () => (await import('./commands/info.js')).infoCommand, ctx),
  );
  serviceCommand(
    program.command('remove').description('remove the service stage and its functions'),
  ).action(lazy(async () => (await import('./commands/remove.js')).removeCommand, ctx));
  serviceCommand(program.command('logs').description('show the log lines of a function'))
    .requiredOption('-f, --function <key>', 'the function key in serverless.yml')
    .option('-t, --tail', 'follow new lines until interrupted')
    .option('--startTime <time>', '30m, 2h, 3d or a date (default: 10m ago; 10s ago with -t)')
    .option('--filter <text>', 'only lines containing this text (case-sensitive)')
    .option('-i, --interval <ms>', 'with -t: how often to retry a lost stream (default 1000)')
    .action(lazy(async () => (await import('./commands/logs.js')).logsCommand, ctx));
  serviceCommand(program.command('print').description('print the resolved configuration'))
    .addOption(new Option('--format <format>', 'output format').choices(['yaml', 'json', 'text']))
    .option('--path <path>', 'print only this property (a.b.c)')
    .action(lazy(async () => (await import('./commands/print.js')).printCommand, ctx));

  program
    .command('create')
    .description('create a new service from a template')
    .option('-t, --template <name>', 'nodejs, nodejs-typescript, python (or aws-nodejs, ...)')
    .option('-p, --path <dir>', 'directory to create')
    .option('-n, --name <name>', 'service name (default: the directory name)')
    .action(lazy(async () => (await import('./commands/create.js')).createCommand, ctx));

  addKeysCommand(program, ctx);
  addInvocationsCommand(program, ctx, serviceCommand);

  return program;
}

/** Runs the CLI; returns the exit code instead of exiting, so tests can run it in-process. */
export async function main(argv: string[], ctx?: Partial<CliContext>): Promise<number> {
  const full: CliContext = {
    cwd: ctx?.cwd ?? process.cwd(),
    env: ctx?.env ?? process.env,
    stdout: ctx?.stdout ?? process.stdout,
    stderr: ctx?.stderr ?? process.stderr,
  };
  const program = buildProgram(full);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    return reportError(full, error);
  }
}

/** Errors from Nimbus modules carry a NIMBUS_* code and a message written for the user. */
function isNimbusError(error: unknown): error is Error {
  const code = (error as { code?: unknown })?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('NIMBUS_');
}

function reportError(ctx: CliContext, error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (unknown option, with a suggestion, ...).
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
      ? 0
      : error.exitCode || 1;
  }
  if (error instanceof CliError || error instanceof NoPlatformError || isNimbusError(error)) {
    ctx.stderr.write(`✖ ${error.message}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
  if (error instanceof ApiError) {
    ctx.stderr.write(`✖ ${error.message} (${error.code}, HTTP ${error.status})\n`);
    return 1;
  }
  const verbose = ctx.env.NIMBUS_DEBUG || process.argv.includes('--verbose');
  ctx.stderr.write(
    `✖ ${verbose ? ((error as Error)?.stack ?? error) : ((error as Error)?.message ?? error)}\n`,
  );
  return 1;
}
