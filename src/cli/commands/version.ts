import { bufferedRequest } from '../../client/buffered-request.js';
import { packageVersion } from '../../package-root.js';
import type { CliContext } from '../context.js';
import { defaultRegion, resolveEndpoint } from '../endpoint.js';
import { Output } from '../output.js';

export interface VersionOptions {
  region?: string;
  json?: boolean;
}

/** How long `nimbus version` waits for the platform: an answer is local or it is not there. */
const healthTimeoutMs = 2000;

/**
 * `nimbus version`: the CLI's version, and the platform's when it answers. (`nimbus --version`
 * prints the CLI's alone, without asking anything: see main.ts.)
 */
export async function versionCommand(ctx: CliContext, opts: VersionOptions): Promise<void> {
  const out = new Output(ctx, opts);
  const target = await resolveEndpoint(opts.region ?? defaultRegion, ctx.env);
  const platform = await platformVersion(target.endpoint);
  out.data({ cli: packageVersion, platform: { endpoint: target.endpoint, ...platform } });
  out.result(`Nimbus CLI ${packageVersion}`);
  out.result(
    platform.version
      ? `Nimbus platform ${platform.version} at ${target.endpoint}`
      : `Nimbus platform: ${platform.problem} at ${target.endpoint}`,
  );
}

async function platformVersion(endpoint: string): Promise<{ version?: string; problem?: string }> {
  try {
    // node:http, not fetch: fetch's first use loads undici, the larger part of this command's time.
    const res = await bufferedRequest(`${endpoint}/health`, {
      method: 'GET',
      headers: { accept: 'application/json' },
      timeoutMs: healthTimeoutMs,
    });
    if (res.status < 200 || res.status > 299) return { problem: `answered HTTP ${res.status}` };
    let body: { version?: unknown } = {};
    try {
      body = JSON.parse(res.body.toString('utf8')) as { version?: unknown };
    } catch {
      // Not JSON: something else listens there; the version stays unknown.
    }
    return typeof body.version === 'string'
      ? { version: body.version }
      : { problem: 'version unknown (older than 0.1.0)' };
  } catch {
    return { problem: 'not reachable' };
  }
}
