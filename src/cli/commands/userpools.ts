import type { Command } from 'commander';
import type { CliContext } from '../context.js';

interface OutboxOptions {
  region?: string;
  pool?: string;
  limit?: string;
  json?: boolean;
  verbose?: boolean;
}

/**
 * `nimbus userpools outbox`: the messages user pools sent (verification codes, temporary
 * passwords, reset codes), newest first: the development delivery channel (docs/cognito.md).
 * Registered from main.ts; its modules load only when it runs.
 */
export function addUserPoolsCommand(program: Command, ctx: CliContext): void {
  const pools = program.command('userpools').description('inspect user pools (Cognito-compatible)');
  pools
    .command('outbox')
    .description('list the messages user pools sent, newest first')
    .option('-r, --region <region>', 'region: the name of a Nimbus platform endpoint')
    .option('--pool <id>', 'only this user pool')
    .option('--limit <n>', 'at most this many messages (default 50)')
    .option('--verbose', 'show more detail')
    .option('--json', 'machine-readable output on stdout')
    .action((_opts: unknown, cmd: Command) => outbox(ctx, cmd.optsWithGlobals()));
}

async function outbox(ctx: CliContext, opts: OutboxOptions): Promise<void> {
  const [{ UserPoolsClient }, { resolveEndpoint }, { Output }] = await Promise.all([
    import('../../client/userpools-client.js'),
    import('../endpoint.js'),
    import('../output.js'),
  ]);
  const out = new Output(ctx, opts);
  const resolved = await resolveEndpoint(opts.region ?? 'us-east-1', ctx.env);
  out.detail(`endpoint: ${resolved.endpoint} (${resolved.source})`);
  const limit = opts.limit === undefined ? undefined : Number(opts.limit);
  const view = await new UserPoolsClient(resolved).outbox({
    ...(opts.pool ? { pool: opts.pool } : {}),
    ...(limit === undefined ? {} : { limit }),
  });
  out.data(view);
  if (view.messages.length === 0) {
    out.log('No messages.');
    return;
  }
  for (const m of view.messages) {
    out.result(
      `${new Date(m.createdAt).toISOString()}  ${m.poolId}  ${m.kind}  to ${m.destination} (${m.username})`,
    );
    out.result(`  ${m.message}`);
  }
}
