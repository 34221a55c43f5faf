import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ControlClient } from '../../client/control-client.js';
import { invokeFunction } from '../../client/invoke-client.js';
import { CliError } from '../cli-error.js';
import { readClientContext } from '../client-context.js';
import type { CliContext, ServiceOptions } from '../context.js';
import { resolveEndpoint } from '../endpoint.js';
import { loadForCli } from '../load-for-cli.js';
import { formatLogLine } from '../log-format.js';
import { Output } from '../output.js';
import { notDeployedError, pickFunction } from '../pick-function.js';

export interface InvokeOptions extends ServiceOptions {
  function?: string;
  data?: string;
  path?: string;
  type?: string;
  qualifier?: string;
  log?: boolean;
  raw?: boolean;
  context?: string;
  contextPath?: string;
}

const types = ['RequestResponse', 'DryRun', 'Event'] as const;

/** `nimbus invoke`: one synchronous call through the platform, printed as the Serverless Framework does. */
export async function invokeCommand(ctx: CliContext, opts: InvokeOptions): Promise<void> {
  const out = new Output(ctx, opts);
  const loaded = await loadForCli(ctx, opts, out);
  const { definition } = loaded;
  const { fn } = pickFunction(definition, opts.function);
  const type = (opts.type ?? 'RequestResponse') as (typeof types)[number];
  if (!types.includes(type))
    throw new CliError(`--type must be one of ${types.join(', ')}, not "${opts.type}"`);
  const payload = await eventPayload(ctx, opts);
  const clientContext = await readClientContext(loaded.serviceDir, opts);
  const endpoint = await resolveEndpoint(definition.region, ctx.env);
  const answer = await invokeFunction(endpoint, {
    functionName: fn.name,
    payload,
    type,
    ...(opts.qualifier ? { qualifier: opts.qualifier } : {}),
    tail: Boolean(opts.log) && type === 'RequestResponse',
    ...(clientContext ? { clientContext } : {}),
  });
  if (answer.errorType === 'ResourceNotFoundException') {
    // The Invoke API answers an ARN; say instead what is missing, in serverless.yml's terms.
    const details = opts.qualifier
      ? await new ControlClient(endpoint).getFunction(fn.name).catch(() => undefined)
      : undefined;
    if (!details) throw notDeployedError(definition, opts.function!);
    const versions = details.versions.map((v) => v.version).join(', ') || '(none)';
    const aliases = details.aliases.map((a) => a.name).join(', ') || '(none)';
    throw new CliError(
      `Function "${opts.function}" (${fn.name}) has no version or alias "${opts.qualifier}": ` +
        `its versions are ${versions}; its aliases ${aliases}`,
    );
  }
  if (answer.errorType) {
    throw new CliError(`${answer.errorType}: ${messageOf(answer.payload)} (HTTP ${answer.status})`);
  }
  if (type === 'Event') {
    const requestId = answer.requestId ?? '?';
    out.data({ requestId });
    out.success(`Accepted: request id ${requestId} (nimbus invocations show ${requestId})`);
    return;
  }
  out.data({
    payload: parseOr(answer.payload),
    executedVersion: answer.executedVersion,
    functionError: answer.functionError,
    log: answer.log,
  });
  if (type === 'DryRun') {
    const version = answer.executedVersion ? ` (version ${answer.executedVersion})` : '';
    out.success(`Function ${fn.name} can be invoked${version}`);
  } else {
    out.result(pretty(answer.payload));
    if (answer.log) {
      out.result('-'.repeat(68));
      const color = Boolean(ctx.stdout.isTTY) && !out.json;
      for (const line of answer.log.split('\n')) {
        if (!line) continue;
        const printed = formatLogLine(line, { color, platformLines: 'raw' });
        if (printed !== undefined) out.result(printed);
      }
    }
  }
  if (answer.functionError) throw new CliError('Invoked function failed');
}

/** The event: --data or --path, JSON-parsed unless --raw, re-serialized as the SDK would send it. */
async function eventPayload(ctx: CliContext, opts: InvokeOptions): Promise<string> {
  if (opts.data !== undefined && opts.path !== undefined)
    throw new CliError('Use --data or --path, not both');
  let text: string | undefined = opts.data;
  if (opts.path !== undefined) {
    try {
      text = await readFile(resolve(ctx.cwd, opts.path), 'utf8');
    } catch {
      throw new CliError(`The file you provided does not exist: ${opts.path}`);
    }
  }
  if (text === undefined) return '{}';
  if (opts.raw) return JSON.stringify(text);
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    // As the Serverless Framework: data that is not JSON is sent as a string.
    return JSON.stringify(text);
  }
}

function pretty(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 4);
  } catch {
    return payload;
  }
}

function parseOr(payload: string): unknown {
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}

function messageOf(payload: string): string {
  const parsed = parseOr(payload) as { message?: string; Message?: string } | string;
  if (typeof parsed === 'string') return parsed;
  return parsed?.message ?? parsed?.Message ?? payload;
}
