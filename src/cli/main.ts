import { Command, CommanderError, Option } from 'commander';
import { ApiError, NoPlatformError } from '../client/control-client.js';
import { packageVersion } from '../package-root.js';
import { apiErrorLine } from './api-error-line.js';
import { CliError } from './cli-error.js';
import { addClusterCommand } from './commands/cluster.js';
import { addInvocationsCommand } from './commands/invocations.js';
import { addKeysCommand } from './commands/keys.js';
import { addUserPoolsCommand } from './commands/userpools.js';
import type { CliContext } from './context.js';

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
    // `-v/--version` is the program's only before the command name, so `alias set --version 7`
    // means the function version, as in the Serverless Framework's own commands.
    .enablePositionalOptions()
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
    .option(
      '--sqlite-synchronous <mode>',
      'SQLite: full (default, fsync per commit) or normal (survives a process crash, not a power loss)',
    )
    .option('--node-name <name>', 'this node in a cluster (default <hostname>:<port>)')
    .option(
      '--nats-url <url>',
      'async queue on NATS JetStream, nats://[user:pass@]host:4222 (or NIMBUS_NATS_URL)',
    )
    .option('--nats-prefix <prefix>', 'JetStream stream and subject prefix (default nimbus)')
    .option(
      '--blobs <where>',
      'artifact storage: local, postgres or s3://bucket[/prefix] (default: postgres with one)',
    )
    .option('--blobs-endpoint <url>', 'S3-compatible endpoint of --blobs s3:// (default AWS S3)')
    .option('--blobs-region <region>', 'region of --blobs s3:// (default AWS_REGION or us-east-1)')
    .option(
      '--blobs-path-style <on|off>',
      'bucket in the path, not the host name (default: on with --blobs-endpoint)',
    )
    .option('--retain-deployments <n>', 'deployments kept per stage (default 5)')
    .option(
      '--idle-timeout <duration>',
      'stop instances idle this long: scale to zero (default 5m)',
    )
    .option('--max-instances <n>', 'platform-wide cap on function instances (default 100)')
    .option('--log-retention <duration>', 'how long function logs are kept (default 7d)')
    .option(
      '--mqtt-port <port>',
      'embedded MQTT broker port (default 1883, a free one if taken; 0: free; off: no MQTT)',
    )
    .option('--mqtt-url <url>', 'use this MQTT broker instead (mqtt[s]://user:pass@host:port)')
    .option(
      '--smtp-url <url>',
      'send user-pool email by SMTP, smtp[s]://user:pass@host:port (or NIMBUS_SMTP_URL; default: the outbox)',
    )
    .option('--smtp-from <address>', 'sender of user-pool email when a pool names none')
    .option('--async-retry-delay <duration>', 'base delay between async retries (default 1m)')
    .option(
      '--async-lease <duration>',
      'how long a crashed worker holds an async event (default 30s)',
    )
    .option(
      '--shutdown-grace <duration>',
      'on SIGTERM/SIGINT, how long work in flight may finish (default 10s)',
    )
    .option('--log-format <format>', 'pretty or json (default: pretty on a terminal, else json)')
    .option(
      '--isolation <mode>',
      'uids (default: a uid per service stage, needs root) or none (docs/security.md)',
    )
    .option('--function-uids <first-last>', 'uids given to service stages (default 200000-265535)')
    .option(
      '--otlp-endpoint <url>',
      'export spans over OTLP/HTTP to this collector (or OTEL_EXPORTER_OTLP_ENDPOINT)',
    )
    .option(
      '--otlp-sample-ratio <ratio>',
      'share of traces exported, above 0 up to 1 (default 1: every trace)',
    )
    .option(
      '--trusted-proxies <cidr,...>',
      'proxies whose X-Forwarded-For rate limits believe (or NIMBUS_TRUSTED_PROXIES)',
    )
    .option(
      '--network-guard',
      'refuse, with nftables, connections from function uids to the store (needs root and nft)',
    )
    .option(
      '--network-guard-deny <host:port,...>',
      'more endpoints functions must not reach (with --network-guard)',
    )
    .option(
      '--metrics-token <token>',
      'a token that opens GET /metrics only (or NIMBUS_METRICS_TOKEN)',
    )
    .option('--tls-cert <file>', 'serve HTTPS too, with this PEM certificate (chain)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert (mode 0600)')
    .option('--tls-port <port>', 'the HTTPS port (default 8443)')
    .option(
      '--tls-domain <host=cert,key>',
      'a certificate of its own for a host name, picked by SNI (repeatable; *.example.com works)',
      collect,
      [],
    )
    .option('--tls-redirect', 'answer plain HTTP gateway requests with a 308 to HTTPS')
    .action(lazy(async () => (await import('./commands/server.js')).serverCommand, ctx));

  serviceCommand(program.command('package').description('package the service into artifacts'))
    .option('-p, --package <dir>', 'output directory (default .serverless)')
    .action(lazy(async () => (await import('./commands/package.js')).packageCommand, ctx));

  const deploy = serviceCommand(program.command('deploy').description('deploy the service'))
    .option('--force', 'deploy even when nothing changed')
    .option('-p, --package <dir>', 'deploy what `nimbus package` wrote to dir, without packaging')
    .action(lazy(async () => (await import('./commands/deploy.js')).deployCommand, ctx));
  serviceCommand(deploy.command('function').description('deploy the code of one function'))
    .requiredOption('-f, --function <key>', 'the function key in serverless.yml')
    .option('-u, --update-config', 'update its configuration only, not its code')
    .option('--force', 'deploy even when the code did not change')
    .action(
      lazy(async () => (await import('./commands/deploy-function.js')).deployFunctionCommand, ctx),
    );
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
    .option('--context <json>', 'client context (JSON) for the handler')
    .option('-x, --contextPath <file>', 'file holding the client context')
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

  serviceCommand(
    program
      .command('dev')
      // For serverless-offline users: the same local loop, on a real platform.
      .alias('offline')
      .description('deploy, watch and redeploy on every change'),
  )
    .option('--port <port>', 'port of the embedded platform, when one is started (default 8642)')
    .option('--data-dir <dir>', 'data dir of the embedded platform (default <service>/.nimbus)')
    .option(
      '--shutdown-grace <duration>',
      'on SIGTERM/SIGINT, how long the embedded platform lets work in flight finish (default 10s)',
    )
    .option(
      '--log-format <format>',
      'platform logs: pretty or json (default: pretty on a terminal)',
    )
    .action(lazy(async () => (await import('./commands/dev.js')).devCommand, ctx));

  const rollback = serviceCommand(
    program.command('rollback').description('restore a retained deployment (list them without -t)'),
  )
    .option('-t, --timestamp <timestamp>', 'the deployment to restore (from deploy list)')
    .action(lazy(async () => (await import('./commands/rollback.js')).rollbackCommand, ctx));
  serviceCommand(rollback.command('function').description('point a function back at a version'))
    .requiredOption('-f, --function <key>', 'the function key in serverless.yml')
    .requiredOption('--function-version <n>', 'the version to serve again')
    .action(
      lazy(async () => (await import('./commands/rollback.js')).rollbackFunctionCommand, ctx),
    );

  const alias = program
    .command('alias')
    .description('point a stage alias (or a named one) at a version, or route a canary weight');
  const aliasOptions = (cmd: Command) =>
    serviceCommand(cmd)
      .requiredOption('-f, --function <key>', 'the function key in serverless.yml')
      .option('-n, --name <alias>', 'a named alias (default: the stage alias)');
  aliasOptions(alias.command('set').description('serve a version, or with --weight a canary'))
    .requiredOption('--version <n>', 'the version to serve (or, with --weight, the canary)')
    .option('--weight <percent>', 'share of invocations the version gets, 0..100 exclusive')
    .action(lazy(async () => (await import('./commands/alias.js')).aliasSetCommand, ctx));
  aliasOptions(alias.command('promote').description('the canary version takes all traffic')).action(
    lazy(async () => (await import('./commands/alias.js')).aliasPromoteCommand, ctx),
  );
  aliasOptions(
    alias.command('clear').description('end the canary: the alias version serves all'),
  ).action(lazy(async () => (await import('./commands/alias.js')).aliasClearCommand, ctx));

  serviceCommand(program.command('info').description('show the deployed service')).action(
    lazy(async () => (await import('./commands/info.js')).infoCommand, ctx),
  );
  serviceCommand(
    program.command('remove').description('remove the service stage and its functions'),
  ).action(lazy(async () => (await import('./commands/remove.js')).removeCommand, ctx));
  serviceCommand(program.command('logs').description('show the log lines of a function'))
    .option('-f, --function <key>', 'the function key in serverless.yml')
    .option('-t, --tail', 'follow new lines until interrupted')
    .option('--startTime <time>', '30m, 2h, 3d or a date (default: 10m ago; 10s ago with -t)')
    .option('--filter <text>', 'only lines containing this text (case-sensitive)')
    .option('-i, --interval <ms>', 'with -t: how often to retry a lost stream (default 1000)')
    .action(lazy(async () => (await import('./commands/logs.js')).logsCommand, ctx));
  serviceCommand(program.command('metrics').description('usage of the service or a function'))
    .option('-f, --function <key>', 'the function key in serverless.yml')
    .option('--startTime <time>', '30m, 2h, 3d or a date (default: 24h before the end)')
    .option('--endTime <time>', 'as --startTime (default: now)')
    .action(lazy(async () => (await import('./commands/metrics.js')).metricsCommand, ctx));
  serviceCommand(program.command('print').description('print the resolved configuration'))
    .addOption(new Option('--format <format>', 'output format').choices(['yaml', 'json', 'text']))
    .option('--path <path>', 'print only this property (a.b.c)')
    .action(lazy(async () => (await import('./commands/print.js')).printCommand, ctx));

  program
    .command('create')
    .description('create a new service from a template')
    .option('-t, --template <name>', 'nodejs, nodejs-typescript, python (or aws-nodejs, ...)')
    .option('--template-path <dir>', 'a local service folder or .zip / .tar.gz to start from')
    .option('--template-url <url>', 'a .zip / .tar.gz URL, or a git URL (needs git)')
    .option('-p, --path <dir>', 'directory to create')
    .option('-n, --name <name>', 'service name (default: the directory name)')
    .action(lazy(async () => (await import('./commands/create.js')).createCommand, ctx));
  program
    .command('install')
    .description('install a service from a folder, an archive or a git repository')
    .requiredOption('-u, --url <source>', 'folder, .zip / .tar.gz (path or URL), or git URL')
    .option('-n, --name <name>', 'directory and service name (default: from the source)')
    .action(lazy(async () => (await import('./commands/install.js')).installCommand, ctx));

  program
    .command('login')
    .description('save a platform endpoint and its token in ~/.nimbus/config.yml')
    .option('--endpoint <url>', 'the platform, e.g. http://127.0.0.1:9000')
    .option('--token <token>', 'its admin token (default: read from --data-dir)')
    .option('--data-dir <dir>', 'data dir of a local platform, to read its admin token from')
    .option('-r, --region <region>', 'region name to save it as (default us-east-1)')
    .action(lazy(async () => (await import('./commands/login.js')).loginCommand, ctx));

  program
    .command('backup')
    .description('write a consistent backup of the platform to a file')
    .option('--output <file>', 'the backup file to write (must not exist)')
    .option('--data-dir <dir>', 'back up this data dir directly instead of asking the platform')
    .option('-r, --region <region>', 'region: the name of a Nimbus platform endpoint')
    .action(lazy(async () => (await import('./commands/backup.js')).backupCommand, ctx));
  program
    .command('restore')
    .description('restore a backup into a new data dir')
    .option('--input <file>', 'the backup file')
    .option('--data-dir <dir>', 'the new data dir (must not exist or be empty)')
    .action(lazy(async () => (await import('./commands/restore.js')).restoreCommand, ctx));

  program
    .command('version')
    .description('print the CLI version and the platform version')
    .option('-r, --region <region>', 'region: the name of a Nimbus platform endpoint')
    .option('--json', 'machine-readable output on stdout')
    .action(lazy(async () => (await import('./commands/version.js')).versionCommand, ctx));

  addKeysCommand(program, ctx);
  addClusterCommand(program, ctx);
  addUserPoolsCommand(program, ctx);
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
  // `--version` alone is the CLI's own version, printed without building the program or asking
  // the platform (as `serverless --version` prints the Framework's): the floor of every command.
  // `nimbus version` also asks the platform.
  const args = argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    full.stdout.write(`Nimbus CLI ${packageVersion}\n`);
    return 0;
  }
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
  // One line always; --verbose (or NIMBUS_DEBUG) adds the stack of an unexpected error.
  const verbose = ctx.env.NIMBUS_DEBUG || process.argv.includes('--verbose');
  if (error instanceof ApiError) {
    ctx.stderr.write(`✖ ${apiErrorLine(error, ctx.env)}\n`);
    return 1;
  }
  if (error instanceof CliError || error instanceof NoPlatformError || isNimbusError(error)) {
    ctx.stderr.write(`✖ ${error.message}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
  ctx.stderr.write(
    `✖ ${verbose ? ((error as Error)?.stack ?? error) : `${(error as Error)?.message ?? error} (--verbose shows where)`}\n`,
  );
  return 1;
}
