/**
 * The shared AWS test platform (test/helpers/aws-platform.ts) with S3 clients pointed at its
 * port.
 */
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { PlatformOptions } from '../../../src/platform/server.js';
import {
  type AwsPlatform,
  type AwsPlatformVariant,
  awsPlatformVariants,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';

export interface S3Platform extends AwsPlatform {
  client(config?: Partial<S3ClientConfig>): S3Client;
}

/**
 * SQLite with object bytes on local disk (ObjectFiles), and PostgreSQL, whose default
 * `--blobs postgres` keeps them as chunked rows of the store (PgObjectFiles).
 */
export const s3Variants = awsPlatformVariants;

export async function startS3Platform(
  variant: AwsPlatformVariant = awsPlatformVariants[0]!,
  opts: {
    clock?: { now(): number };
    options?: Partial<PlatformOptions>;
    runFunctions?: boolean;
  } = {},
): Promise<S3Platform> {
  const base = await startAwsPlatform(variant, { ...opts, label: 's3' });
  return withClient(base);
}

/**
 * A platform whose S3 objects' bytes live in a bucket of another Nimbus platform's S3 service
 * (`--blobs s3://...`, docs/cluster.md#blobs-on-s3): the same suites prove S3ObjectFiles.
 */
export async function startS3PlatformOnBucket(): Promise<S3Platform> {
  const host = await startS3Platform();
  const hostClient = host.client();
  try {
    await hostClient.send(new CreateBucketCommand({ Bucket: 'object-bytes' }));
    const base = await startAwsPlatform(awsPlatformVariants[0]!, {
      label: 's3',
      options: {
        blobs: {
          kind: 's3',
          bucket: 'object-bytes',
          prefix: 'p/',
          endpoint: host.platform.url,
          region: 'us-east-1',
          forcePathStyle: true,
          credentials: { accessKeyId: host.key.id, secretAccessKey: host.key.secret },
        },
      },
    });
    const platform = withClient(base);
    return {
      ...platform,
      close: async () => {
        await platform.close();
        await host.close();
      },
    };
  } catch (error) {
    await host.close();
    throw error;
  } finally {
    hostClient.destroy();
  }
}

function withClient(base: AwsPlatform): S3Platform {
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
