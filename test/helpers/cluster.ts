import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { awsClientConfig, makeKey } from './aws-platform.js';
import { connectTestNats, testNatsUrl, uniqueNatsPrefix } from './nats.js';
import { makeTestSchema } from './postgres.js';
import { type CliRun, runCli } from './run-cli.js';
import { type ServerProcess, startServerProcess } from './server-process.js';
import { makeTempDir } from './temp-dir.js';

/**
 * What the nodes of one test cluster share: a temp dir (each node's data dir is `<dir>/<name>`),
 * one PostgreSQL schema, the admin token and master key every node must agree on, and with
 * `nats` one NATS JetStream prefix (streams of their own, deleted at cleanup).
 */
export interface TestCluster {
  dir: string;
  /** `postgres://...?schema=<schema>`: what `--database-url` gets. */
  databaseUrl: string;
  /** The bare URL and schema, for a test that reads the store itself. */
  pgUrl: string;
  schema: string;
  /** NIMBUS_ADMIN_TOKEN, NIMBUS_MASTER_KEY (and NIMBUS_NATS_URL with `nats`). */
  env: Record<string, string>;
  token: string;
  natsPrefix: string | undefined;
  /** Kills every node started, deletes the streams, drops the schema, removes the temp dir. */
  close(): Promise<void>;
}

export async function makeTestCluster(opts: { nats?: boolean } = {}): Promise<TestCluster> {
  const tmp = await makeTempDir();
  const pg = await makeTestSchema();
  const natsPrefix = opts.nats ? uniqueNatsPrefix() : undefined;
  const token = randomBytes(24).toString('hex');
  const env: Record<string, string> = {
    NIMBUS_ADMIN_TOKEN: token,
    NIMBUS_MASTER_KEY: randomBytes(32).toString('base64'),
    // From the environment, as an operator's unit file would give it.
    ...(natsPrefix ? { NIMBUS_NATS_URL: testNatsUrl } : {}),
  };
  const cluster: TestCluster & { nodes: ServerProcess[] } = {
    dir: tmp.dir,
    databaseUrl: `${pg.url}?schema=${pg.schema}`,
    pgUrl: pg.url,
    schema: pg.schema,
    env,
    token,
    natsPrefix,
    nodes: [],
    async close() {
      for (const node of cluster.nodes) {
        node.child.kill('SIGKILL');
        await node.exited;
      }
      if (natsPrefix) {
        const nc = await connectTestNats();
        try {
          const jsm = await nc.jetstreamManager();
          for (const s of [`${natsPrefix}_WORK`, `${natsPrefix}_DEAD`]) {
            await jsm.streams.delete(s).catch(() => undefined);
          }
        } finally {
          await nc.close();
        }
      }
      await pg.drop();
      await tmp.cleanup();
    },
  };
  return cluster;
}

/**
 * One real `nimbus server` node of `cluster`, named `name` (`--node-name`), with its own data
 * dir and a free port. `args` add flags (say `--async-lease 2s`). Killed by `cluster.close()`.
 */
export async function startClusterNode(
  cluster: TestCluster,
  name: string,
  args: string[] = [],
): Promise<ServerProcess> {
  const node = await startServerProcess({
    dataDir: join(cluster.dir, name),
    home: cluster.dir,
    args: [
      '--database-url',
      cluster.databaseUrl,
      '--node-name',
      name,
      ...(cluster.natsPrefix ? ['--nats-prefix', cluster.natsPrefix] : []),
      ...args,
    ],
    env: cluster.env,
  });
  (cluster as TestCluster & { nodes: ServerProcess[] }).nodes.push(node);
  return node;
}

/** `startClusterNode` for each name, started together, in the order of `names`. */
export function startClusterNodes(
  cluster: TestCluster,
  names: string[],
  args: string[] = [],
): Promise<ServerProcess[]> {
  return Promise.all(names.map((name) => startClusterNode(cluster, name, args)));
}

/** A service directory of the cluster's and the CLI that deploys it through one node. */
export interface ClusterService {
  cwd: string;
  /** What `nimbus` needs to reach the node: HOME, NIMBUS_ENDPOINT, NIMBUS_TOKEN. */
  env: Record<string, string>;
  /** Writes (or rewrites) files of the service, by path relative to `cwd`. */
  write(files: Record<string, string>): Promise<void>;
  /** Runs `nimbus deploy` through the node. */
  deploy(): Promise<CliRun>;
}

/**
 * `<cluster.dir>/svc` with `serverless.yml` (its lines joined) and `files`, deployed through
 * `node`: every cluster test writes a service and deploys it through one node.
 */
export async function writeClusterService(
  cluster: TestCluster,
  node: ServerProcess,
  yml: string[],
  files: Record<string, string> = {},
): Promise<ClusterService> {
  const cwd = join(cluster.dir, 'svc');
  await mkdir(cwd, { recursive: true });
  const env = { HOME: cluster.dir, NIMBUS_ENDPOINT: node.url, NIMBUS_TOKEN: cluster.token };
  const write = async (more: Record<string, string>) => {
    for (const [path, text] of Object.entries(more)) await writeFile(join(cwd, path), text);
  };
  await write({ 'serverless.yml': [...yml, ''].join('\n'), ...files });
  return { cwd, env, write, deploy: () => runCli(['deploy'], { cwd, env }) };
}

/**
 * An access key made through the first of `nodes` (the store is shared, so every node knows it)
 * and a path-style S3 client of each node signed with it, in the order of `nodes`.
 */
export async function clusterS3Clients<N extends ServerProcess[]>(
  cluster: TestCluster,
  nodes: [...N],
  label: string,
): Promise<{ [I in keyof N]: S3Client }> {
  const key = await makeKey({ url: nodes[0]!.url, adminToken: cluster.token }, label);
  return nodes.map(
    (node) => new S3Client({ ...awsClientConfig(node.url, key), forcePathStyle: true }),
  ) as { [I in keyof N]: S3Client };
}
