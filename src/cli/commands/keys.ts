import type { Command } from 'commander';
import type { CliContext } from '../context.js';

interface KeysOptions {
  region?: string;
  json?: boolean;
  verbose?: boolean;
  description?: string;
  service?: string;
  stage?: string;
  functions?: string;
  readOnly?: boolean;
}

/**
 * `nimbus keys create|list|delete <id>`: access keys for the Lambda Invoke API (AWS SDK, AWS
 * CLI). No serverless.yml is involved; `--region` names the platform as for every command.
 *
 * Registered from main.ts; what the actions need is imported only when one runs, as main.ts does
 * for the other commands, so startup stays cheap.
 */
export function addKeysCommand(program: Command, ctx: CliContext): void {
  const keys = program
    .command('keys')
    .description('manage access keys for the Lambda Invoke API (AWS SDK, AWS CLI)');
  const common = (cmd: Command) =>
    cmd
      .option('-r, --region <region>', 'region: the name of a Nimbus platform endpoint')
      .option('--verbose', 'show more detail')
      .option('--json', 'machine-readable output on stdout');

  common(keys.command('create').description('create an access key; its secret is shown once'))
    .option('-d, --description <text>', 'a label to recognize the key by')
    .option('--service <name>', 'scope: only functions of this service')
    .option('--stage <name>', 'scope: only functions of this stage')
    .option('--functions <a,b>', 'scope: only these functions (keys or deployed names)')
    .option('--read-only', 'scope: reads only (no Invoke)')
    .action((_opts: unknown, cmd: Command) => keysCreate(ctx, cmd.optsWithGlobals()));
  common(keys.command('list').description('list access keys (never their secrets)')).action(
    (_opts: unknown, cmd: Command) => keysList(ctx, cmd.optsWithGlobals()),
  );
  common(
    keys.command('delete').argument('<id>', 'access key id').description('delete a key'),
  ).action((id: string, _opts: unknown, cmd: Command) =>
    keysDelete(ctx, id, cmd.optsWithGlobals()),
  );
}

async function keysCreate(ctx: CliContext, opts: KeysOptions): Promise<void> {
  const { client, out } = await connect(ctx, opts);
  const scope: NonNullable<Parameters<typeof client.create>[1]> = {};
  if (opts.service) scope.service = opts.service;
  if (opts.stage) scope.stage = opts.stage;
  if (opts.functions) {
    scope.functions = opts.functions
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean);
  }
  if (opts.readOnly) scope.readOnly = true;
  const key = await client.create(
    opts.description,
    Object.keys(scope).length > 0 ? scope : undefined,
  );
  out.data({ key });
  out.success('Access key created. The secret is shown this once: store it now.');
  out.result(`accessKeyId: ${key.id}`);
  out.result(`secretAccessKey: ${key.secret}`);
  if (key.description) out.result(`description: ${key.description}`);
  if (key.scope) out.result(`scope: ${describeScope(key.scope)}`);
  out.log(`Use it with an AWS SDK or the AWS CLI, endpoint ${client.endpoint}:`);
  out.log(`  export AWS_ACCESS_KEY_ID=${key.id} AWS_SECRET_ACCESS_KEY=<the secret above>`);
}

async function keysList(ctx: CliContext, opts: KeysOptions): Promise<void> {
  const { client, out } = await connect(ctx, opts);
  const keys = await client.list();
  out.data({ keys });
  if (keys.length === 0) {
    out.log("No access keys; create one with 'nimbus keys create'.");
    return;
  }
  const rows = keys.map((k) => [
    k.id,
    k.createdAt,
    k.lastUsedAt ?? 'never',
    k.scope ? describeScope(k.scope) : 'all',
    k.description ?? '',
  ]);
  const all = [['ID', 'CREATED', 'LAST USED', 'SCOPE', 'DESCRIPTION'], ...rows];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...all.map((r) => r[i]!.length)));
  for (const row of all) {
    out.result(
      row
        .map((cell, i) => (i < 4 ? cell.padEnd(widths[i]!) : cell))
        .join('  ')
        .trimEnd(),
    );
  }
}

async function keysDelete(ctx: CliContext, id: string, opts: KeysOptions): Promise<void> {
  const { client, out } = await connect(ctx, opts);
  const { CliError } = await import('../cli-error.js');
  if (!(await client.delete(id))) throw new CliError(`Access key ${id} does not exist`);
  out.data({ deleted: id });
  out.success(`Access key ${id} deleted`);
}

async function connect(ctx: CliContext, opts: KeysOptions) {
  const [{ KeysClient }, { resolveEndpoint }, { Output }] = await Promise.all([
    import('../../client/keys-client.js'),
    import('../endpoint.js'),
    import('../output.js'),
  ]);
  const out = new Output(ctx, opts);
  // The same default as serverless.yml's provider.region (DEFAULT_REGION).
  const resolved = await resolveEndpoint(opts.region ?? 'us-east-1', ctx.env);
  out.detail(`endpoint: ${resolved.endpoint} (${resolved.source})`);
  return { client: new KeysClient(resolved), out };
}

/** `service=svc stage=dev functions=a,b read-only`, as `keys create` and `keys list` show it. */
function describeScope(scope: {
  service?: string;
  stage?: string;
  functions?: string[];
  readOnly?: boolean;
}): string {
  const parts: string[] = [];
  if (scope.service) parts.push(`service=${scope.service}`);
  if (scope.stage) parts.push(`stage=${scope.stage}`);
  if (scope.functions) parts.push(`functions=${scope.functions.join(',')}`);
  if (scope.readOnly) parts.push('read-only');
  return parts.join(' ');
}
