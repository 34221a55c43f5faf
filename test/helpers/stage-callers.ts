/**
 * What every service's stage-ownership suite starts from: a platform with stages `a` and `b` of
 * service `svc` deployed (each with its own resources), and SDK clients of three callers: the
 * platform's unscoped key (admin), a key scoped to `--service svc --stage a` (what a function of
 * stage a holds as session credentials) and a `--read-only` key (docs/security.md).
 */
import {
  type AwsClientConfig,
  type AwsPlatform,
  type AwsPlatformVariant,
  awsClientConfig,
  deployStageResources,
  makeKey,
  startAwsPlatform,
} from './aws-platform.js';

type AccessKey = { id: string; secret: string };

export interface StageCallers<C extends { destroy(): void }, P extends AwsPlatform = AwsPlatform> {
  aws: P;
  /** The platform's own (unscoped) key: what makes shared resources. */
  admin: C;
  stageAKey: AccessKey;
  stageA: C;
  readOnly: C;
  /** The SDK config of a caller holding `key`. */
  configOf(key: AccessKey): AwsClientConfig;
  /** A client of a new key scoped to `stage` of `svc`. */
  stageClient(stage: string): Promise<C>;
  /** Hands `client` to close() (another service's client, an unsigned one...). */
  track<T extends { destroy(): void }>(client: T): T;
  /** Destroys every client, then closes the platform. */
  close(): Promise<void>;
}

export async function stageCallers<
  C extends { destroy(): void },
  P extends AwsPlatform = AwsPlatform,
>(
  variant: AwsPlatformVariant,
  opts: {
    /** The key description's prefix on the default platform (startAwsPlatform). */
    label?: string;
    /** Starts another kind of platform (e.g. one with a hand-driven clock). */
    start?: (variant: AwsPlatformVariant) => Promise<P>;
    /** The service's SDK client for a caller. */
    client: (config: AwsClientConfig, aws: P) => C;
    /** `resources.Resources` of the serverless.yml deployed as stage `stage`. */
    resources: (stage: 'a' | 'b') => Record<string, unknown>;
  },
): Promise<StageCallers<C, P>> {
  const aws = opts.start
    ? await opts.start(variant)
    : ((await startAwsPlatform(variant, { label: opts.label ?? 'stage-owners' })) as P);
  const clients: { destroy(): void }[] = [];
  const close = async () => {
    for (const c of clients) c.destroy();
    await aws.close();
  };
  const track = <T extends { destroy(): void }>(client: T): T => {
    clients.push(client);
    return client;
  };
  const configOf = (key: AccessKey) => awsClientConfig(aws.platform.url, key);
  const clientOf = (key: AccessKey) => track(opts.client(configOf(key), aws));
  const stageKey = (stage: string) =>
    makeKey(aws.platform, `stage ${stage}`, { service: 'svc', stage });
  try {
    for (const stage of ['a', 'b'] as const)
      await deployStageResources(aws.platform, stage, opts.resources(stage));
    const stageAKey = await stageKey('a');
    return {
      aws,
      admin: clientOf(aws.key),
      stageAKey,
      stageA: clientOf(stageAKey),
      readOnly: clientOf(await makeKey(aws.platform, 'read-only', { readOnly: true })),
      configOf,
      stageClient: async (stage) => clientOf(await stageKey(stage)),
      track,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
