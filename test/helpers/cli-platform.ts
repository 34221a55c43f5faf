import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pino from 'pino';
import {
  type PlatformOptions,
  type RunningPlatform,
  startPlatform,
} from '../../src/platform/server.js';
import { type CliRun, runCli } from './run-cli.js';
import { makeTempDir } from './temp-dir.js';

export interface CliPlatform {
  platform: RunningPlatform;
  /** A temp dir for services; `home/` in it is the CLI's HOME. */
  root: string;
  /** The environment a CLI run needs to reach the platform. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** A platform started in-process, and the environment that points the CLI at it. */
export async function startCliPlatform(
  opts: { options?: Partial<PlatformOptions> } = {},
): Promise<CliPlatform> {
  const tmp = await makeTempDir();
  const root = tmp.dir;
  await mkdir(join(root, 'home'));
  const platform = await startPlatform({
    host: '127.0.0.1',
    port: 0,
    dataDir: join(root, 'data'),
    logger: pino({ level: 'silent' }),
    ...opts.options,
  });
  return {
    platform,
    root,
    env: {
      HOME: join(root, 'home'),
      NIMBUS_ENDPOINT: platform.url,
      NIMBUS_TOKEN: platform.adminToken,
    },
    close: async () => {
      await platform.close();
      await tmp.cleanup();
    },
  };
}

export interface DeployedService extends CliPlatform {
  /** The service folder (serverless.yml and code). */
  dir: string;
  /** The CLI run in the service folder against this platform. */
  cli(...args: string[]): Promise<CliRun>;
}

/**
 * A platform with one service on it, deployed as a user does: `files` (serverless.yml and
 * code, by path) written to a folder and `nimbus deploy` run there.
 */
export async function startWithService(
  files: Record<string, string>,
  opts: { options?: Partial<PlatformOptions> } = {},
): Promise<DeployedService> {
  const p = await startCliPlatform(opts);
  const dir = join(p.root, 'svc');
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  const cli = (...args: string[]) => runCli(args, { cwd: dir, env: p.env });
  const deployed = await cli('deploy');
  if (deployed.code !== 0) {
    await p.close();
    throw new Error(`nimbus deploy failed (${deployed.code}): ${deployed.stderr}`);
  }
  return { ...p, dir, cli };
}
