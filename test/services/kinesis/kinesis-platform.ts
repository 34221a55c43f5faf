/**
 * The shared AWS test platform (test/helpers/aws-platform.ts) with a hand-driven clock and
 * Kinesis clients pointed at its port; on SQLite, PostgreSQL, or SQLite with the records (and
 * the async queue) on the real NATS JetStream server (`--nats-url`, a prefix of its own whose
 * streams are deleted on close).
 */
import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  type AwsPlatform,
  type AwsPlatformVariant,
  awsPlatformVariants,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { connectTestNats, testNatsUrl, uniqueNatsPrefix } from '../../helpers/nats.js';

export interface KinesisVariant extends AwsPlatformVariant {
  /** Kinesis records in JetStream (the platform started with --nats-url). */
  nats?: boolean;
}

/** The store variants, then SQLite with the records on NATS JetStream. */
export const kinesisVariants: KinesisVariant[] = [
  ...awsPlatformVariants,
  { ...awsPlatformVariants[0]!, name: 'sqlite with NATS JetStream', nats: true },
];

/** Deletes every JetStream stream of a test's prefix. */
export async function dropNatsPrefix(prefix: string): Promise<void> {
  const nc = await connectTestNats();
  try {
    const jsm = await nc.jetstreamManager();
    for await (const name of jsm.streams.names(`${prefix}.>`)) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

/**
 * HTTP/1.1, without the responses' Date header: the platform's clock is injected (and moved on
 * by the tests) while Node writes the real time there, which the SDK would take for clock skew
 * and "correct" its signing time to after any error.
 */
class PlatformTimeHandler extends NodeHttpHandler {
  override async handle(...args: Parameters<NodeHttpHandler['handle']>) {
    const out = await super.handle(...args);
    delete out.response.headers.date;
    delete out.response.headers.Date;
    return out;
  }
}

export interface KinesisPlatform extends AwsPlatform {
  clock: { now(): number; advance(ms: number): void };
  client(config?: Partial<KinesisClientConfig>): KinesisClient;
}

export async function startKinesisPlatform(
  variant: KinesisVariant = awsPlatformVariants[0]!,
): Promise<KinesisPlatform> {
  let now = Date.now();
  const clock = {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
  const prefix = variant.nats ? uniqueNatsPrefix() : undefined;
  const base = await startAwsPlatform(variant, {
    clock,
    label: 'kinesis',
    ...(prefix ? { options: { natsUrl: testNatsUrl, natsPrefix: prefix } } : {}),
  });
  return {
    ...base,
    close: async () => {
      await base.close();
      if (prefix) await dropNatsPrefix(prefix);
    },
    clock,
    client: (config = {}) =>
      new KinesisClient({
        ...base.clientConfig(),
        // HTTP/1.1 here (the HTTP/2 default is tested on its own in kinesis-sdk.test.ts).
        requestHandler: new PlatformTimeHandler(),
        // Signed at the platform's time, which the tests move on.
        systemClockOffset: clock.now() - Date.now(),
        ...config,
      }),
  };
}
