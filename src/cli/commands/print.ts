import { stringify } from 'yaml';
import { CliError } from '../cli-error.js';
import type { CliContext, ServiceOptions } from '../context.js';
import { loadForCli } from '../load-for-cli.js';
import { Output } from '../output.js';

/** `print`: the configuration with every variable resolved, as yaml (default), json or text. */
export async function printCommand(
  ctx: CliContext,
  opts: ServiceOptions & { format?: string; path?: string },
) {
  const out = new Output(ctx, { ...opts, json: false });
  const loaded = await loadForCli(ctx, opts, out);
  let value: unknown = loaded.resolved;
  if (opts.path) {
    for (const part of opts.path.split('.')) {
      if (value === null || typeof value !== 'object' || !(part in value)) {
        throw new CliError(`Path "${opts.path}" not found in the configuration`);
      }
      value = (value as Record<string, unknown>)[part];
    }
  }
  const format = opts.json ? 'json' : (opts.format ?? 'yaml');
  if (format === 'json') ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else if (format === 'yaml') ctx.stdout.write(stringify(value));
  else if (format === 'text') {
    if (value !== null && typeof value === 'object') {
      throw new CliError('--format text needs --path to a single value');
    }
    ctx.stdout.write(`${String(value)}\n`);
  } else throw new CliError(`--format must be yaml, json or text, not "${format}"`);
}
