import { AliasApiError, AliasClient, type AliasView } from '../../client/alias-client.js';
import { CliError } from '../cli-error.js';
import type { CliContext, ServiceOptions } from '../context.js';
import { resolveEndpoint } from '../endpoint.js';
import { loadForCli } from '../load-for-cli.js';
import { Output } from '../output.js';
import { pickFunction } from '../pick-function.js';

export interface AliasOptions extends ServiceOptions {
  function: string;
  /** A named alias; default the stage alias. */
  name?: string;
  version?: string;
  weight?: string;
}

/**
 * `alias set --version N`: the alias serves version N; with `--weight P`, the alias keeps its
 * version and sends P% of invocations to N instead (a canary). A named alias is created on first
 * use.
 */
export async function aliasSetCommand(ctx: CliContext, opts: AliasOptions) {
  const version = opts.version;
  if (version === undefined || !/^\d{1,10}$/.test(version)) {
    throw new CliError(`--version must be a version number, not "${version}"`);
  }
  await withAlias(ctx, opts, async (client, name, alias, out) => {
    if (opts.weight === undefined) {
      const body = { FunctionVersion: version, RoutingConfig: {} };
      const view = alias
        ? await client.update(name, alias.Name, body)
        : await client.create(name, { Name: aliasOf(opts), ...body });
      return report(out, view, `Alias ${view.Name} serves version ${version}`);
    }
    const percent = Number(opts.weight);
    if (!/^\d+(\.\d+)?$/.test(opts.weight) || percent <= 0 || percent >= 100) {
      throw new CliError(
        `--weight must be a percentage above 0 and below 100, not "${opts.weight}"`,
      );
    }
    if (!alias)
      throw new CliError(`Alias ${aliasOf(opts)} does not exist: set it without --weight first`);
    const view = await client.update(name, alias.Name, {
      RoutingConfig: { AdditionalVersionWeights: { [version]: percent / 100 } },
    });
    return report(
      out,
      view,
      `Alias ${view.Name}: ${percent}% to version ${version}, the rest to version ${view.FunctionVersion}`,
    );
  });
}

/** `alias promote`: the canary version becomes the alias's version and takes all traffic. */
export async function aliasPromoteCommand(ctx: CliContext, opts: AliasOptions) {
  await withAlias(ctx, opts, async (client, name, alias, out) => {
    const canary = canaryOf(alias, opts);
    const view = await client.update(name, alias!.Name, {
      FunctionVersion: canary,
      RoutingConfig: {},
    });
    return report(out, view, `Alias ${view.Name} promoted: version ${canary} serves everything`);
  });
}

/** `alias clear`: the canary ends; the alias's version takes all traffic again. */
export async function aliasClearCommand(ctx: CliContext, opts: AliasOptions) {
  await withAlias(ctx, opts, async (client, name, alias, out) => {
    canaryOf(alias, opts);
    const view = await client.update(name, alias!.Name, { RoutingConfig: {} });
    return report(
      out,
      view,
      `Alias ${view.Name} cleared: version ${view.FunctionVersion} serves everything`,
    );
  });
}

function aliasOf(opts: AliasOptions & { stageName?: string }): string {
  return opts.name ?? opts.stageName!;
}

async function withAlias(
  ctx: CliContext,
  opts: AliasOptions,
  run: (
    client: AliasClient,
    name: string,
    alias: AliasView | undefined,
    out: Output,
  ) => Promise<void>,
) {
  const out = new Output(ctx, opts);
  const { definition } = await loadForCli(ctx, opts, out);
  const { fn } = pickFunction(definition, opts.function);
  const client = new AliasClient(await resolveEndpoint(definition.region, ctx.env));
  const named = { ...opts, stageName: definition.stage };
  const aliasName = aliasOf(named);
  try {
    const alias = await client.get(fn.name, aliasName).catch((error: unknown) => {
      if (error instanceof AliasApiError && error.type === 'ResourceNotFoundException') {
        if (/^Function not found/.test(error.message)) {
          throw new CliError(`Function "${opts.function}" (${fn.name}) is not deployed`);
        }
        return undefined;
      }
      throw error;
    });
    if (!alias && opts.version === undefined) {
      throw new CliError(`Function ${fn.name} has no alias "${aliasName}"`);
    }
    await run(client, fn.name, alias, out);
  } catch (error) {
    if (error instanceof AliasApiError) throw new CliError(`${error.type}: ${error.message}`);
    throw error;
  }
}

function canaryOf(alias: AliasView | undefined, opts: AliasOptions): string {
  const [canary] = Object.keys(alias?.RoutingConfig?.AdditionalVersionWeights ?? {});
  if (!canary) throw new CliError(`Alias ${alias?.Name ?? opts.name} has no canary version`);
  return canary;
}

function report(out: Output, view: AliasView, message: string): void {
  out.data(view);
  out.success(message);
}
