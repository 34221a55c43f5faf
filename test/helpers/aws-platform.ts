/**
 * A platform started in-process on a store variant, with an access key made through the control
 * API: what every AWS-compatible service's SDK tests start from (each adds its own clients).
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { sha256Hex } from '../../src/model/canonical-hash.js';
import type { ServiceDefinition } from '../../src/model/service-definition.js';
import {
  type PlatformOptions,
  type RunningPlatform,
  startPlatform,
} from '../../src/platform/server.js';
import { fnDef, serviceDef } from './definitions.js';
import { makeTestSchema } from './postgres.js';
import { runCli } from './run-cli.js';
import { makeTempDir } from './temp-dir.js';
import { makeZip } from './zip.js';

export interface AwsPlatform {
  platform: RunningPlatform;
  dataDir: string;
  key: { id: string; secret: string };
  /** What an SDK client needs to reach the platform with `key`. */
  clientConfig(): AwsClientConfig;
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
  const platform = await launch(db, tmp.dir, {
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.runFunctions
      ? {}
      : {
          instanceFactory: async () => {
            throw new Error('these tests run no functions');
          },
        }),
    ...opts.options,
  });
  const key = await makeKey(platform, opts.label ?? 'aws');
  return {
    platform,
    dataDir: tmp.dir,
    key,
    clientConfig: () => awsClientConfig(platform.url, key),
    close: async () => {
      await platform.close();
      await db.drop();
      await tmp.cleanup();
    },
  };
}

/** What an SDK client needs to reach a platform with a key (one attempt: no hidden retries). */
export interface AwsClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
}

/** The config of an SDK client signing with `key` at `endpoint`. */
export function awsClientConfig(
  endpoint: string,
  key: { id: string; secret: string },
): AwsClientConfig {
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
    maxAttempts: 1,
  };
}

export interface RestartableAwsPlatform {
  /** The platform running now: another object after each restart. */
  readonly platform: RunningPlatform;
  /** The access key, made once; it survives restarts (it is in the store). */
  readonly key: { id: string; secret: string };
  /** A temp directory of the suite's own (mode 755, so function processes may enter it). */
  readonly dir: string;
  /** `<dir>/data`, kept across restarts. */
  readonly dataDir: string;
  clientConfig(): AwsClientConfig;
  /** Closes the platform, then starts another on the same data dir and database. */
  restart(): Promise<void>;
  /**
   * Writes `files` (serverless.yml, handlers) to `<dir>/<name>` and deploys them with the CLI's
   * `nimbus deploy` (HOME `<dir>/home`); rejects with the CLI's output when it fails.
   */
  deploy(files: Record<string, string>, name?: string): Promise<void>;
  /** Closes the clients and the platform, drops the database, removes `dir`, then `cleanup`. */
  close(): Promise<void>;
}

/**
 * A platform running real functions that a test may stop and start again on the same data dir
 * and database, to prove what survives a restart. `clients` makes the suite's SDK clients for
 * the platform running now (after the start and after each restart) and returns what closes them.
 */
export async function restartableAwsPlatform(
  variant: AwsPlatformVariant,
  opts: {
    label: string;
    options?: Partial<PlatformOptions>;
    clients?: (config: AwsClientConfig) => () => void;
    /** Runs last on close (e.g. deleting the NATS streams of a prefix given in `options`). */
    cleanup?: () => Promise<void>;
  },
): Promise<RestartableAwsPlatform> {
  const tmp = await makeTempDir();
  await chmod(tmp.dir, 0o755);
  const dataDir = join(tmp.dir, 'data');
  const db = await variant.databaseUrl();
  let platform: RunningPlatform | undefined;
  let key: { id: string; secret: string };
  try {
    platform = await launch(db, dataDir, opts.options ?? {});
    key = await makeKey(platform, opts.label);
  } catch (error) {
    await platform?.close();
    await db.drop();
    await tmp.cleanup();
    await opts.cleanup?.();
    throw error;
  }
  const running = () => {
    if (!platform) throw new Error('the platform is not running (a restart failed)');
    return platform;
  };
  const clientConfig = () => awsClientConfig(running().url, key);
  let closeClients = opts.clients?.(clientConfig());
  return {
    get platform() {
      return running();
    },
    key,
    dir: tmp.dir,
    dataDir,
    clientConfig,
    restart: async () => {
      await running().close();
      platform = undefined;
      platform = await launch(db, dataDir, opts.options ?? {});
      closeClients?.();
      closeClients = opts.clients?.(clientConfig());
    },
    deploy: async (files, name = 'svc') => {
      const svc = join(tmp.dir, name);
      await mkdir(svc, { recursive: true });
      await mkdir(join(tmp.dir, 'home'), { recursive: true });
      for (const [file, text] of Object.entries(files)) await writeFile(join(svc, file), text);
      const deployed = await runCli(['deploy'], {
        cwd: svc,
        env: {
          HOME: join(tmp.dir, 'home'),
          NIMBUS_ENDPOINT: running().url,
          NIMBUS_TOKEN: running().adminToken,
        },
      });
      if (deployed.code !== 0)
        throw new Error(`nimbus deploy: ${deployed.stderr}${deployed.stdout}`);
    },
    close: async () => {
      closeClients?.();
      await platform?.close();
      platform = undefined;
      await db.drop();
      await tmp.cleanup();
      await opts.cleanup?.();
    },
  };
}

/** Starts a platform on the variant's database and `dataDir`, on a port of its own. */
function launch(
  db: { url?: string },
  dataDir: string,
  options: Partial<PlatformOptions>,
): Promise<RunningPlatform> {
  return startPlatform({
    ...(db.url ? { databaseUrl: db.url } : {}),
    host: '127.0.0.1',
    port: 0,
    dataDir,
    logger: pino({ level: process.env.AWS_TEST_LOG ?? 'silent' }),
    ...options,
  });
}

/**
 * An access key made through the control API; `scope` as `nimbus keys create --service --stage
 * --read-only` gives it (docs/security.md).
 */
export async function makeKey(
  /** A platform, or any node of a cluster with the cluster's admin token. */
  platform: Pick<RunningPlatform, 'url' | 'adminToken'>,
  label: string,
  scope?: { service?: string; stage?: string; readOnly?: boolean },
): Promise<{ id: string; secret: string }> {
  const res = await fetch(`${platform.url}/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ description: `${label} tests`, ...(scope ? { scope } : {}) }),
  });
  if (!res.ok) throw new Error(`making a key: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { key: { id: string; secret: string } }).key;
}

/**
 * Deploys stage `stage` of service `svc` with one (never invoked) function and the given
 * serverless.yml `resources.Resources`: what the stage-ownership tests of each service need.
 */
export async function deployStageResources(
  platform: RunningPlatform,
  stage: string,
  resources: Record<string, unknown>,
): Promise<void> {
  await deployService(
    platform,
    serviceDef([fnDef('noop', { name: `svc-${stage}-noop` })], {
      stage,
      resources: { Resources: resources },
    }),
    { 'handler.js': 'exports.handler = async () => ({});' },
  );
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
