/**
 * The shared AWS test platform (test/helpers/aws-platform.ts) with a hand-driven clock and SQS
 * clients pointed at its port.
 */
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import {
  type AwsPlatform,
  type AwsPlatformVariant,
  awsPlatformVariants,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';

export const sqsVariants = awsPlatformVariants;

export interface SqsPlatform extends AwsPlatform {
  clock: { now(): number; advance(ms: number): void };
  client(config?: Partial<SQSClientConfig>): SQSClient;
}

export async function startSqsPlatform(
  variant: AwsPlatformVariant = sqsVariants[0]!,
): Promise<SqsPlatform> {
  let now = Date.now();
  const clock = {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
  const base = await startAwsPlatform(variant, { clock, label: 'sqs' });
  return {
    ...base,
    clock,
    client: (config = {}) =>
      new SQSClient({
        ...base.clientConfig(),
        ...config,
      }),
  };
}
