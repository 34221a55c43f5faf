/**
 * A platform started in-process on a store variant, with an access key made through the control
 * API: what every AWS-compatible service's SDK tests start from (each adds its own clients).
 */
import pino from 'pino';
import { sha256Hex } from '../../src/model/canonical-hash.js';
import type { ServiceDefinition } from '../../src/model/service-definition.js';
import {
  type PlatformOptions,
  type RunningPlatform,
  startPlatform,
} from '../../src/platform/server.js';
import { makeTestSchema } from './postgres.js';
import { makeTempDir } from './temp-dir.js';
import { makeZip } from './zip.js';

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
  /** `runFunctions`: real function processes (deployed with `deployService`), not none. */
  opts: {
    clock?: { now(): number };
    label?: string;
    runFunctions?: boolean;
    options?: Partial<PlatformOptions>;
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
    ...opts.options,
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

/** Uploads `files` as the artifact of every function of `definition`, then deploys it. */
export async function deployService(
  platform: RunningPlatform,
  definition: ServiceDefinition,
  files: Record<string, string>,
): Promise<void> {
  const zip = await makeZip(files);
  const sha = sha256Hex(zip);
  const auth = { authorization: `Bearer ${platform.adminToken}` };
  const put = await fetch(`${platform.url}/v1/artifacts/${sha}`, {
    method: 'PUT',
    headers: auth,
    body: zip,
  });
  if (!put.ok) throw new Error(`artifact upload: ${put.status} ${await put.text()}`);
  const res = await fetch(
    `${platform.url}/v1/services/${definition.service}/stages/${definition.stage}/deployments`,
    {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        definition,
        functionArtifacts: Object.fromEntries(
          Object.keys(definition.functions).map((k) => [k, sha]),
        ),
      }),
    },
  );
  if (!res.ok) throw new Error(`deploy: ${res.status} ${await res.text()}`);
}
