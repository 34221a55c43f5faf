/**
 * A platform started in-process on a store variant, with an access key made through the control
 * API: what every AWS-compatible service's SDK tests start from (each adds its own clients).
 */
import pino from 'pino';
import {
  type PlatformOptions,
  type RunningPlatform,
  startPlatform,
} from '../../src/platform/server.js';
import { makeTestSchema } from './postgres.js';
import { makeTempDir } from './temp-dir.js';

export interface AwsPlatform {
  platform: RunningPlatform;
  dataDir: string;
  key: { id: string; secret: string };
  close(): Promise<void>;
}

export interface AwsPlatformVariant {
  name: string;
  databaseUrl: () => Promise<{ url?: string; drop(): Promise<void> }>;
}

/** Both dialects, so each service's suite proves the same thing on SQLite and PostgreSQL. */
export const awsPlatformVariants: AwsPlatformVariant[] = [
  { name: 'sqlite', databaseUrl: async () => ({ drop: async () => {} }) },
  {
    name: 'postgres',
    databaseUrl: async () => {
      const s = await makeTestSchema();
      return { url: `${s.url}?schema=${s.schema}`, drop: s.drop };
    },
  },
];

export async function startAwsPlatform(
  variant: AwsPlatformVariant = awsPlatformVariants[0]!,
  opts: {
    clock?: { now(): number };
    label?: string;
    /** Real function processes (deploys through the CLI), instead of none. */
    runFunctions?: boolean;
    platform?: Partial<PlatformOptions>;
  } = {},
): Promise<AwsPlatform> {
  const tmp = await makeTempDir();
  const db = await variant.databaseUrl();
  const platform = await startPlatform({
    ...(db.url ? { databaseUrl: db.url } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    host: '127.0.0.1',
    port: 0,
    dataDir: tmp.dir,
    logger: pino({ level: process.env.AWS_TEST_LOG ?? 'silent' }),
    ...(opts.runFunctions
      ? {}
      : {
          instanceFactory: async () => {
            throw new Error('these tests run no functions');
          },
        }),
    ...opts.platform,
  });
  const res = await fetch(`${platform.url}/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ description: `${opts.label ?? 'aws'} tests` }),
  });
  const { key } = (await res.json()) as { key: { id: string; secret: string } };
  return {
    platform,
    dataDir: tmp.dir,
    key,
    close: async () => {
      await platform.close();
      await db.drop();
      await tmp.cleanup();
    },
  };
}
