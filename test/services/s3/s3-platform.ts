/**
 * The shared AWS test platform (test/helpers/aws-platform.ts) with S3 clients pointed at its
 * port.
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import {
  type AwsPlatform,
  type AwsPlatformVariant,
  awsPlatformVariants,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';

export interface S3Platform extends AwsPlatform {
  client(config?: Partial<S3ClientConfig>): S3Client;
}

export const s3Variants = awsPlatformVariants;

export async function startS3Platform(
  variant: AwsPlatformVariant = awsPlatformVariants[0]!,
  opts: { clock?: { now(): number }; runFunctions?: boolean } = {},
): Promise<S3Platform> {
  const base = await startAwsPlatform(variant, { ...opts, label: 's3' });
  return {
    ...base,
    client: (config = {}) =>
      new S3Client({
        endpoint: base.platform.url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: base.key.id, secretAccessKey: base.key.secret },
        maxAttempts: 1,
        ...config,
      }),
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
