import { CliError } from './cli-error.js';
import { readInput } from './read-input.js';

/**
 * `--context` / `--contextPath` (`-x`) of `invoke` and `invoke local`: JSON, sent base64 as
 * Lambda's client context, which the handler sees as `context.clientContext`.
 */
export async function readClientContext(
  serviceDir: string,
  opts: { context?: string; contextPath?: string },
): Promise<string | undefined> {
  let text = opts.context;
  if (opts.contextPath !== undefined) {
    text = await readInput(serviceDir, opts.contextPath, '--contextPath');
  }
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError('--context must be JSON, e.g. --context \'{"custom":{"k":"v"}}\'');
  }
  return Buffer.from(JSON.stringify(value)).toString('base64');
}
