import { ControlClient, type DeployResponse } from '../../client/control-client.js';
import { CliError } from '../cli-error.js';
import type { CliContext, ServiceOptions } from '../context.js';
import { resolveEndpoint } from '../endpoint.js';
import { loadForCli } from '../load-for-cli.js';
import { Output, seconds } from '../output.js';
import { reportChanges } from './deploy.js';
import { deployListCommand } from './deploy-list.js';
import { printFunctions } from './info.js';

/** `rollback`: without -t, the retained deployments to pick from; with -t, restore one. */
export async function rollbackCommand(
  ctx: CliContext,
  opts: ServiceOptions & { timestamp?: string },
) {
  if (opts.timestamp === undefined) {
    const out = new Output(ctx, opts);
    out.log('Use a timestamp from the deploy list below to rollback to a specific version.');
    out.log('Run `nimbus rollback -t YourTimeStampHere`');
    return deployListCommand(ctx, opts);
  }
  const started = Date.now();
  const timestamp = parsePositiveInt(opts.timestamp, '--timestamp');
  const out = new Output(ctx, opts);
  const { definition } = await loadForCli(ctx, opts, out);
  const client = new ControlClient(await resolveEndpoint(definition.region, ctx.env));
  const res = await out.step('Rolling back', () =>
    client.rollback(definition.service, definition.stage, timestamp),
  );
  finish(out, res, `Service rolled back to timestamp ${timestamp}`, started);
  printFunctions(out, res.service);
}

/** `rollback function -f fn --function-version N`: the stage alias back on version N. */
export async function rollbackFunctionCommand(
  ctx: CliContext,
  opts: ServiceOptions & { function: string; functionVersion: string },
) {
  const started = Date.now();
  const version = parsePositiveInt(opts.functionVersion, '--function-version');
  const out = new Output(ctx, opts);
  const { definition } = await loadForCli(ctx, opts, out);
  const client = new ControlClient(await resolveEndpoint(definition.region, ctx.env));
  const res = await out.step('Rolling back', () =>
    client.rollbackFunction(definition.service, definition.stage, opts.function, version),
  );
  finish(out, res, `Function ${opts.function} rolled back to version ${version}`, started);
  const fn = res.service.functions.find((f) => f.key === opts.function);
  if (fn) out.result(`${fn.key}: ${fn.functionName} (version ${fn.version})`);
}

function finish(out: Output, res: DeployResponse, what: string, started: number): void {
  if (res.skipped) {
    out.log('Already deployed as asked. Rollback skipped.');
  } else {
    reportChanges(out, res);
    out.success(`${what} (${seconds(started, Date.now())})`);
  }
  out.data(res);
}

function parsePositiveInt(value: string, option: string): number {
  if (!/^\d{1,16}$/.test(value) || Number(value) < 1) {
    throw new CliError(`${option} must be a positive whole number, not "${value}"`);
  }
  return Number(value);
}
