// The systems under test: Nimbus (a `nimbus server` child), serverless-offline (a Serverless
// Framework v3 child), and the bare in-process node:http server (the limit).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, start, stop, waitForText } from './proc.mjs';

export const BENCH = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = resolve(BENCH, '..');
// BENCH_NIMBUS_ROOT: benchmark another Nimbus build (a worktree, a snapshot) instead of this one.
export const NIMBUS_ROOT = process.env.BENCH_NIMBUS_ROOT
  ? resolve(process.env.BENCH_NIMBUS_ROOT)
  : ROOT;
export const NIMBUS_BIN = join(NIMBUS_ROOT, 'bin', 'nimbus.js');
export const PEERS = join(BENCH, 'peers');
export const SLS_BIN = join(PEERS, 'node_modules', 'serverless', 'bin', 'serverless.js');
export const DYNALITE_BIN = join(PEERS, 'node_modules', 'dynalite', 'cli.js');
const HANDLER_FIXTURE = join(BENCH, 'fixtures', 'hello', 'handler.js');

/** The environment without anything that would point a child elsewhere. */
/**
 * The environment every system under test gets: the bench's own, without Nimbus/AWS settings and
 * without NODE_EXTRA_CA_CERTS. A host that points it at the whole system bundle (this sandbox
 * does) makes Node 20 parse ~150 certificates at the start of every process (~50 ms of CPU),
 * which would be charged to every CLI run and function process but is not Nimbus's or a peer's
 * cost; `node -e 0`, the floor, runs without it as well.
 */
function baseEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('NIMBUS_') || k === 'NODE_OPTIONS' || k.startsWith('AWS_')) continue;
    if (k === 'NODE_EXTRA_CA_CERTS') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Writes a service: serverless.yml with `functions` (names), each an httpApi `GET /<name>` on
 * the same handler file, whose CODE marker is `code`.
 */
export async function writeService(dir, { functions = ['hello'], code = 'v0', offline = false }) {
  await mkdir(dir, { recursive: true });
  const fixture = await readFile(HANDLER_FIXTURE, 'utf8');
  await writeService.handler(dir, fixture, code);
  const lines = [
    'service: bench',
    "frameworkVersion: '3'",
    'provider:',
    '  name: aws',
    '  runtime: nodejs20.x',
    '  region: us-east-1',
  ];
  if (offline) lines.push('plugins:', '  - serverless-offline');
  lines.push('functions:');
  for (const name of functions) {
    lines.push(
      `  ${name}:`,
      '    handler: handler.hello',
      '    events:',
      `      - httpApi: GET /${name}`,
    );
  }
  await writeFile(join(dir, 'serverless.yml'), `${lines.join('\n')}\n`);
  if (offline && !existsSync(join(dir, 'node_modules'))) {
    await symlink(join(PEERS, 'node_modules'), join(dir, 'node_modules'), 'dir');
  }
  return dir;
}
writeService.handler = async (dir, fixture, code) => {
  const text = fixture.replace("const CODE = 'v0';", `const CODE = '${code}';`);
  await writeFile(join(dir, 'handler.js'), text);
};

export async function setCode(dir, code) {
  const fixture = await readFile(HANDLER_FIXTURE, 'utf8');
  await writeService.handler(dir, fixture, code);
}

export function handlerPath(dir) {
  return join(dir, 'handler.js');
}

export async function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

// ---------------------------------------------------------------- Nimbus

export async function startNimbus(
  work,
  { name, idleTimeout, nodeArgs = [], extraArgs = [], env = {} },
) {
  const dataDir = await mkdtemp(join(work, `${name}-data-`));
  const logFile = join(work, `${name}.log`);
  const args = [...nodeArgs, NIMBUS_BIN, 'server', '--host', '127.0.0.1', '--port', '0'];
  args.push('--data-dir', dataDir);
  if (idleTimeout) args.push('--idle-timeout', idleTimeout);
  args.push(...extraArgs);
  const t0 = performance.now();
  const child = start(process.execPath, args, { cwd: NIMBUS_ROOT, env: baseEnv(env), logFile });
  const m = await waitForText(logFile, /listening on (http:\/\/\S+)/, 30_000, child);
  const startMs = performance.now() - t0;
  // A token from the environment (a cluster's, shared by its nodes) is never written to disk.
  const token =
    env.NIMBUS_ADMIN_TOKEN ?? (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
  const url = m[1];
  return {
    kind: 'nimbus',
    url,
    token,
    child,
    pid: child.pid,
    dataDir,
    logFile,
    startMs,
    route: (fn = 'hello') => `${url}/bench-dev/${fn}`,
    stop: () => stop(child, 5000),
  };
}

/** `nimbus deploy` as a user runs it: a fresh CLI process. */
export async function nimbusDeploy(nimbus, serviceDir, extra = [], subcommand = []) {
  const r = await run(process.execPath, [NIMBUS_BIN, 'deploy', ...subcommand, ...extra], {
    cwd: serviceDir,
    env: baseEnv({ NIMBUS_ENDPOINT: nimbus.url, NIMBUS_TOKEN: nimbus.token }),
    timeoutMs: 120_000,
  });
  if (r.code !== 0) {
    throw new Error(`nimbus deploy failed (exit ${r.code}):\n${r.stderr}\n${r.stdout}`);
  }
  return { ms: r.ms, skipped: /No changes to deploy/.test(r.stderr + r.stdout), out: r };
}

// ---------------------------------------------------------------- bare node:http

let bareRuns = 0;
export async function startBare(work, serviceDir) {
  bareRuns += 1;
  // A fresh log file per start: an old 'listening on' line must never be taken for this one's.
  const logFile = join(work, `bare-${bareRuns}.log`);
  const child = start(
    process.execPath,
    [join(BENCH, 'fixtures', 'bare-server.mjs'), handlerPath(serviceDir)],
    { cwd: serviceDir, env: baseEnv(), logFile },
  );
  const m = await waitForText(logFile, /listening on (http:\/\/\S+)/, 10_000, child);
  return {
    kind: 'bare',
    url: m[1],
    child,
    pid: child.pid,
    route: () => `${m[1]}/hello`,
    stop: () => stop(child),
  };
}

// ---------------------------------------------------------------- serverless-offline

export function offlineEnv() {
  const env = baseEnv({
    SLS_TELEMETRY_DISABLED: '1',
    SLS_TRACKING_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    SLS_INTERACTIVE_SETUP_DISABLE: '1',
    SLS_DEPRECATION_DISABLE: '*',
    AWS_ACCESS_KEY_ID: 'AKIDBENCHDUMMY',
    AWS_SECRET_ACCESS_KEY: 'bench-dummy-secret',
    AWS_REGION: 'us-east-1',
    FORCE_COLOR: '0',
  });
  // Node 20.19+ loads serverless-offline 13 through require(esm); BENCH_OFFLINE_NODE_OPTIONS
  // lets a machine where that fails pass e.g. --no-experimental-require-module.
  if (process.env.BENCH_OFFLINE_NODE_OPTIONS)
    env.NODE_OPTIONS = process.env.BENCH_OFFLINE_NODE_OPTIONS;
  return env;
}

let offlineRuns = 0;
export async function startOffline(work, serviceDir) {
  const [httpPort, lambdaPort, websocketPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  offlineRuns += 1;
  const logFile = join(work, `offline-${offlineRuns}.log`);
  const args = [SLS_BIN, 'offline', 'start', '--host', '127.0.0.1', '--noPrependStageInUrl'];
  args.push('--httpPort', String(httpPort), '--lambdaPort', String(lambdaPort));
  args.push('--websocketPort', String(websocketPort));
  const t0 = performance.now();
  const child = start(process.execPath, args, { cwd: serviceDir, env: offlineEnv(), logFile });
  const m = await waitForText(logFile, /Server ready: (http:\/\/[0-9.:]+)/, 90_000, child);
  const readyMs = performance.now() - t0;
  return {
    kind: 'offline',
    url: m[1],
    child,
    pid: child.pid,
    logFile,
    t0,
    readyMs,
    route: (fn = 'hello') => `${m[1]}/${fn}`,
    stop: () => stop(child),
  };
}

export function peersInstalled() {
  return (
    existsSync(SLS_BIN) &&
    existsSync(join(PEERS, 'node_modules', 'serverless-offline', 'package.json')) &&
    existsSync(DYNALITE_BIN)
  );
}

export async function installPeers() {
  process.stderr.write(
    'bench: bench/peers is missing: installing serverless@3, serverless-offline@13 and dynalite@4 from npm into ' +
      'bench/peers (git-ignored, never a dependency of Nimbus). This takes a minute.\n',
  );
  await mkdir(PEERS, { recursive: true });
  if (!existsSync(join(PEERS, 'package.json'))) {
    await writeFile(
      join(PEERS, 'package.json'),
      '{ "name": "nimbus-bench-peers", "private": true }\n',
    );
  }
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = await run(
    npm,
    [
      'install',
      '--prefix',
      PEERS,
      '--no-audit',
      '--no-fund',
      'serverless@3',
      'serverless-offline@13',
      'dynalite@4',
    ],
    { cwd: PEERS, env: process.env, timeoutMs: 600_000 },
  );
  if (r.code !== 0) throw new Error(`npm install of the peers failed:\n${r.stderr}`);
  process.stderr.write('bench: peers installed\n');
}

export async function peerVersions() {
  const v = async (name) => {
    try {
      return JSON.parse(await readFile(join(PEERS, 'node_modules', name, 'package.json'), 'utf8'))
        .version;
    } catch {
      return undefined;
    }
  };
  return {
    serverless: await v('serverless'),
    'serverless-offline': await v('serverless-offline'),
    dynalite: await v('dynalite'),
  };
}

/** A fresh Nimbus access key of `nimbus` (admin token), as SDK credentials. */
export async function nimbusKey(nimbus, description = 'bench') {
  const res = await fetch(`${nimbus.url}/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${nimbus.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ description }),
  });
  const { key } = await res.json();
  return { accessKeyId: key.id, secretAccessKey: key.secret };
}
