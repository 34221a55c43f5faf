/**
 * A platform started in-process on a store variant with a hand-driven clock, an access key made
 * through the control API, and SQS clients pointed at the platform port.
 */
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { type RunningPlatform, startPlatform } from '../../../src/platform/server.js';
import { makeTempDir } from '../../helpers/temp-dir.js';
import { s3Variants } from '../s3/s3-platform.js';

export const sqsVariants = s3Variants;

export interface SqsPlatform {
  platform: RunningPlatform;
  key: { id: string; secret: string };
  clock: { now(): number; advance(ms: number): void };
  client(config?: Partial<SQSClientConfig>): SQSClient;
  close(): Promise<void>;
}

export async function startSqsPlatform(
  variant: (typeof sqsVariants)[number] = sqsVariants[0]!,
): Promise<SqsPlatform> {
  const tmp = await makeTempDir();
  const db = await variant.databaseUrl();
  let now = Date.now();
  const clock = {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
  const platform = await startPlatform({
    ...(db.url ? { databaseUrl: db.url } : {}),
    clock,
    host: '127.0.0.1',
    port: 0,
    dataDir: tmp.dir,
    logger: pino({ level: process.env.SQS_TEST_LOG ?? 'silent' }),
    instanceFactory: async () => {
      throw new Error('the SQS tests run no functions');
    },
  });
  const res = await fetch(`${platform.url}/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ description: 'sqs tests' }),
  });
  const { key } = (await res.json()) as { key: { id: string; secret: string } };
  return {
    platform,
    key,
    clock,
    client: (config = {}) =>
      new SQSClient({
        endpoint: platform.url,
        region: 'us-east-1',
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
