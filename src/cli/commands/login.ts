import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { ApiError, ControlClient } from '../../client/control-client.js';
import { defaultDataDir } from '../../platform/config.js';
import { adminTokenFileName } from '../../platform/control/admin-token.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { cliConfigFile, defaultRegion, normalizeEndpoint, readLocalToken } from '../endpoint.js';
import { Output } from '../output.js';

export interface LoginOptions {
  endpoint?: string;
  token?: string;
  dataDir?: string;
  region?: string;
}

/**
 * `nimbus login --endpoint URL`: checks the endpoint and token against the platform, then saves
 * them as a region entry in ~/.nimbus/config.yml (mode 0600), so that no command needs
 * NIMBUS_ENDPOINT or NIMBUS_TOKEN afterwards. The token is --token, else NIMBUS_TOKEN, else the
 * admin token in --data-dir (default: the local data dir), read once.
 */
export async function loginCommand(ctx: CliContext, opts: LoginOptions): Promise<void> {
  const out = new Output(ctx, {});
  if (!opts.endpoint) throw new CliError('Missing --endpoint <url>, e.g. http://127.0.0.1:9000');
  const endpoint = normalizeEndpoint(opts.endpoint, '--endpoint');
  const region = opts.region ?? defaultRegion;
  const dataDir = resolve(ctx.cwd, opts.dataDir ?? defaultDataDir(ctx.env));
  const token = opts.token ?? ctx.env.NIMBUS_TOKEN ?? (await readLocalToken(ctx.env, dataDir));
  if (!token) {
    throw new CliError(
      `No token: pass --token <token>, or --data-dir <dir> of the platform ` +
        `(its token is in <dir>/${adminTokenFileName}; looked in ${dataDir})`,
    );
  }
  try {
    await new ControlClient({ endpoint, token }).listServices();
  } catch (error) {
    if (error instanceof ApiError && error.code === 'NIMBUS_AUTH_REQUIRED') {
      throw new CliError(
        `The platform at ${endpoint} refused the token` +
          `${opts.token || ctx.env.NIMBUS_TOKEN ? '' : ` from ${dataDir}/${adminTokenFileName}`}: ` +
          `pass --data-dir <dir> of that platform, or --token <token>`,
      );
    }
    throw error;
  }
  const file = cliConfigFile(ctx.env);
  await saveRegion(file, region, { endpoint, token });
  out.success(`Logged in to ${endpoint}: saved as region "${region}" in ${file}`);
  if (region !== defaultRegion) {
    out.log(`Services with provider.region: ${region} (or -r ${region}) now use it.`);
  }
}

/** Sets regions.<region> in the CLI config, keeping every other entry and comment. */
async function saveRegion(
  file: string,
  region: string,
  entry: { endpoint: string; token: string },
): Promise<void> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new CliError(`${file}: ${doc.errors[0]!.message}`);
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new CliError(`${file}: must be a map with a "regions" key`);
  }
  doc.setIn(['regions', region], doc.createNode(entry));
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // The token is a secret: the file is the user's alone, also when it existed before.
  await writeFile(file, doc.toString(), { mode: 0o600 });
  await chmod(file, 0o600);
}
