import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { type RunningPlatform, startPlatform } from '../../src/platform/server.js';
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
export async function startCliPlatform(): Promise<CliPlatform> {
  const tmp = await makeTempDir();
  const root = tmp.dir;
  await mkdir(join(root, 'home'));
  const platform = await startPlatform({
    host: '127.0.0.1',
    port: 0,
    dataDir: join(root, 'data'),
    logger: pino({ level: 'silent' }),
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
