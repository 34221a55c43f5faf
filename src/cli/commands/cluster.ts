import type { Command } from 'commander';
import type { CliContext } from '../context.js';

interface ClusterOptions {
  region?: string;
  json?: boolean;
  verbose?: boolean;
}

/**
 * `nimbus cluster status`: the nodes sharing the platform's database, as any one of them sees
 * them (docs/cluster.md). Registered from main.ts; its modules load only when it runs.
 */
export function addClusterCommand(program: Command, ctx: CliContext): void {
  const cluster = program.command('cluster').description('inspect the nodes of a cluster');
  cluster
    .command('status')
    .description('list the nodes with health, version, instances and load')
    .option('-r, --region <region>', 'region: the name of a Nimbus platform endpoint')
    .option('--verbose', 'show more detail')
    .option('--json', 'machine-readable output on stdout')
    .action((_opts: unknown, cmd: Command) => clusterStatus(ctx, cmd.optsWithGlobals()));
}

async function clusterStatus(ctx: CliContext, opts: ClusterOptions): Promise<void> {
  const [{ ClusterClient }, { resolveEndpoint }, { Output }] = await Promise.all([
    import('../../client/cluster-client.js'),
    import('../endpoint.js'),
    import('../output.js'),
  ]);
  const out = new Output(ctx, opts);
  const resolved = await resolveEndpoint(opts.region ?? 'us-east-1', ctx.env);
  out.detail(`endpoint: ${resolved.endpoint} (${resolved.source})`);
  const view = await new ClusterClient(resolved).status();
  out.data(view);
  out.log(`${view.mode === 'cluster' ? 'Cluster' : 'Single node'}, answered by ${view.self}`);
  const now = Date.now();
  const rows = view.nodes.map((n) => [
    n.name,
    n.health,
    n.version,
    String(n.load.instances),
    String(n.load.busy),
    String(n.load.asyncRuns),
    `${Math.max(0, Math.round((now - n.heartbeatAt) / 1000))}s ago`,
    n.url,
  ]);
  const all = [
    ['NODE', 'HEALTH', 'VERSION', 'INSTANCES', 'BUSY', 'ASYNC', 'HEARTBEAT', 'URL'],
    ...rows,
  ];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  for (const row of all) {
    out.result(
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
  }
}
