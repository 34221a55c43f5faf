/**
 * A platform started in-process on a store variant, an access key made through the control API,
 * and S3 clients pointed at the platform port.
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import pino from 'pino';
import { type RunningPlatform, startPlatform } from '../../../src/platform/server.js';
import { makeTestSchema } from '../../helpers/postgres.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

export interface S3Platform {
  platform: RunningPlatform;
  dataDir: string;
  key: { id: string; secret: string };
  client(config?: Partial<S3ClientConfig>): S3Client;
  close(): Promise<void>;
}

export const s3Variants: {
  name: string;
  databaseUrl: () => Promise<{ url?: string; drop(): Promise<void> }>;
}[] = [
  { name: 'sqlite', databaseUrl: async () => ({ drop: async () => {} }) },
  {
    name: 'postgres',
    databaseUrl: async () => {
      const s = await makeTestSchema();
      return { url: `${s.url}?schema=${s.schema}`, drop: s.drop };
    },
  },
];

export async function startS3Platform(
  variant: (typeof s3Variants)[number] = s3Variants[0]!,
  opts: { clock?: { now(): number } } = {},
): Promise<S3Platform> {
  const tmp = await makeTempDir();
  const db = await variant.databaseUrl();
  const platform = await startPlatform({
    ...(db.url ? { databaseUrl: db.url } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    host: '127.0.0.1',
    port: 0,
    dataDir: tmp.dir,
    logger: pino({ level: process.env.S3_TEST_LOG ?? 'silent' }),
    instanceFactory: async () => {
      throw new Error('the S3 tests run no functions');
    },
  });
  const res = await fetch(`${platform.url}/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ description: 's3 tests' }),
  });
  const { key } = (await res.json()) as { key: { id: string; secret: string } };
  return {
    platform,
    dataDir: tmp.dir,
    key,
    client: (config = {}) =>
      new S3Client({
        endpoint: platform.url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
        maxAttempts: 1,
        ...config,
      }),
    close: async () => {
      await platform.close();
      await db.drop();
      await tmp.cleanup();
    },
  };
}

/** The rejection of `run`, which must reject. */
export async function failure(run: () => Promise<unknown>) {
  try {
    await run();
  } catch (error) {
    return error as Error & Record<string, unknown> & { $metadata: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}
