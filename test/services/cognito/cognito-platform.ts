/**
 * The shared AWS test platform with a hand-driven clock, Cognito clients pointed at its port
 * (signed with the platform's access key, and one with no credentials at all, as a browser app
 * has), and the outbox read through the control API.
 */
import {
  CognitoIdentityProviderClient,
  type CognitoIdentityProviderClientConfig,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  type AwsPlatform,
  type AwsPlatformVariant,
  awsPlatformVariants,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';

export const cognitoVariants = awsPlatformVariants;

export interface OutboxEntry {
  poolId: string;
  username: string;
  destination: string;
  kind: string;
  message: string;
}

export interface CognitoPlatform extends AwsPlatform {
  clock: { now(): number; advance(ms: number): void };
  client(config?: Partial<CognitoIdentityProviderClientConfig>): CognitoIdentityProviderClient;
  /** A client with no credentials: the SDK sends the public operations unsigned. */
  anonymous(): CognitoIdentityProviderClient;
  outbox(poolId: string): Promise<OutboxEntry[]>;
  /** The six-digit code in the newest message to `destination`. */
  lastCode(poolId: string, destination: string): Promise<string>;
}

export async function startCognitoPlatform(
  variant: AwsPlatformVariant = cognitoVariants[0]!,
  opts: Omit<Parameters<typeof startAwsPlatform>[1] & {}, 'clock' | 'label'> = {},
): Promise<CognitoPlatform> {
  let now = Date.now();
  const clock = {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
  const base = await startAwsPlatform(variant, { ...opts, clock, label: 'cognito' });
  const outbox = async (poolId: string) => {
    const res = await fetch(`${base.platform.url}/v1/userpools/outbox?pool=${poolId}`, {
      headers: { authorization: `Bearer ${base.platform.adminToken}` },
    });
    if (res.status !== 200) throw new Error(`outbox: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { messages: OutboxEntry[] }).messages;
  };
  return {
    ...base,
    clock,
    client: (config = {}) =>
      new CognitoIdentityProviderClient({
        ...base.clientConfig(),
        // The platform's clock may have been moved on: sign with its time.
        systemClockOffset: clock.now() - Date.now(),
        ...config,
      }),
    anonymous: () =>
      new CognitoIdentityProviderClient({
        endpoint: base.platform.url,
        region: 'us-east-1',
        credentials: async () => {
          throw new Error('the public operations must not need credentials');
        },
        maxAttempts: 1,
      }),
    outbox,
    lastCode: async (poolId, destination) => {
      const message = (await outbox(poolId)).find((m) => m.destination === destination);
      const code = message && /\b(\d{6})\b/.exec(message.message)?.[1];
      if (!code) throw new Error(`no code for ${destination} in the outbox`);
      return code;
    },
  };
}
