import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import {
  guardScript,
  parseGuardedEndpoints,
  storeEndpoint,
} from '../../src/platform/isolation/network-guard.js';
import { type RunningPlatform, startPlatform } from '../../src/platform/server.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const asRoot = process.getuid?.() === 0;
const uids = { first: 300_000, last: 300_999 };

function hasNft(): boolean {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function tableExists(): boolean {
  try {
    execFileSync('nft', ['list', 'table', 'inet', `nimbus_guard_${uids.first}`], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

describe('network guard rules', () => {
  test('one reject rule per address, the table replaced atomically', () => {
    const script = guardScript('nimbus_guard_300000', uids, [
      { address: '127.0.0.1', port: 5432 },
      { address: '::1', port: 5432 },
    ]);
    assert.match(
      script,
      /^table inet nimbus_guard_300000 \{\}\ndelete table inet nimbus_guard_300000\n/,
    );
    assert.match(
      script,
      /meta skuid 300000-300999 ip daddr 127\.0\.0\.1 tcp dport 5432 reject with tcp reset/,
    );
    assert.match(script, /meta skuid 300000-300999 ip6 daddr ::1 tcp dport 5432 reject/);
  });

  test('--network-guard-deny takes host:port lists and refuses anything else', () => {
    assert.deepEqual(parseGuardedEndpoints('127.0.0.1:6379, redis.local:6380,[::1]:4222'), [
      { host: '127.0.0.1', port: 6379, what: '--network-guard-deny' },
      { host: 'redis.local', port: 6380, what: '--network-guard-deny' },
      { host: '[::1]', port: 4222, what: '--network-guard-deny' },
    ]);
    for (const bad of ['6379', 'host:0', 'host:70000', 'a b:1', 'h:1;drop']) {
      assert.throws(() => parseGuardedEndpoints(bad), { code: 'NIMBUS_ISOLATION_UNSAFE' }, bad);
    }
  });

  test('the store endpoint comes from a PostgreSQL URL only', () => {
    assert.deepEqual(storeEndpoint('postgres://u:p@db.internal/nimbus'), {
      host: 'db.internal',
      port: 5432,
      what: 'store',
    });
    assert.equal(storeEndpoint('postgres://127.0.0.1:6543/x')?.port, 6543);
    assert.equal(storeEndpoint('sqlite:'), undefined);
  });

  test('refused without per-stage uids: nothing could tell functions from the platform', async () => {
    const tmp = await makeTempDir();
    try {
      await assert.rejects(
        startPlatform({
          host: '127.0.0.1',
          port: 0,
          dataDir: join(tmp.dir, 'data'),
          logger: pino({ level: 'silent' }),
          isolation: 'none',
          networkGuard: { deny: [] },
        }),
        { code: 'NIMBUS_ISOLATION_UNSAFE', message: /needs the platform to run as root/ },
      );
    } finally {
      await tmp.cleanup();
    }
  });
});

describe('network guard in the kernel', { skip: !asRoot && 'needs root' }, () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let platform: RunningPlatform;
  let denied: Server;
  let allowed: Server;
  const portOf = (server: Server) => (server.address() as { port: number }).port;
  const listen = async () => {
    const server = createServer((socket) => socket.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  };

  before(async () => {
    assert.ok(hasNft(), 'the nft command is installed (.ci/run installs nftables)');
    tmp = await makeTempDir();
    denied = await listen();
    allowed = await listen();
    platform = await startPlatform({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(tmp.dir, 'data'),
      logger: pino({ level: 'silent' }),
      functionUids: uids,
      networkGuard: { deny: [{ host: '127.0.0.1', port: portOf(denied), what: 'test' }] },
    });
    const cwd = join(tmp.dir, 'svc');
    await mkdir(cwd);
    await writeFile(
      join(cwd, 'serverless.yml'),
      'service: guarded\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n  probe:\n    handler: handler.probe\n',
    );
    await writeFile(
      join(cwd, 'handler.js'),
      [
        "const net = require('node:net');",
        'const tryPort = (port) => new Promise((resolve) => {',
        "  const s = net.connect(port, '127.0.0.1');",
        "  s.on('data', () => { s.destroy(); resolve('connected'); });",
        "  s.on('error', (e) => resolve(e.code));",
        '});',
        'exports.probe = async (e) => ({ denied: await tryPort(e.denied), allowed: await tryPort(e.allowed) });',
      ].join('\n'),
    );
    const env = { HOME: tmp.dir, NIMBUS_ENDPOINT: platform.url, NIMBUS_TOKEN: platform.adminToken };
    const res = await runCli(['deploy'], { cwd, env });
    assert.equal(res.code, 0, res.stderr);
  });
  after(async () => {
    await platform?.close();
    denied?.close();
    allowed?.close();
    await tmp?.cleanup();
  });

  test('a function cannot connect to a denied endpoint; the platform and other ports still can', async () => {
    const res = await platform.invoker.invoke('guarded-dev-probe', undefined, {
      payload: JSON.stringify({ denied: portOf(denied), allowed: portOf(allowed) }),
    });
    const outcome = res.result.outcome;
    assert.equal(outcome.status, 'ok', JSON.stringify(outcome));
    assert.deepEqual(JSON.parse((outcome as { payload: string }).payload), {
      denied: 'ECONNREFUSED',
      allowed: 'connected',
    });
    // The platform's own user is not a function uid: the guard leaves it alone.
    const own = await new Promise<string>((resolve) => {
      const s = createConnection(portOf(denied), '127.0.0.1');
      s.on('data', () => {
        s.destroy();
        resolve('connected');
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(String(e.code)));
    });
    assert.equal(own, 'connected');
  });

  test('the rules go away with the platform', async () => {
    assert.equal(tableExists(), true);
    await platform.close();
    assert.equal(tableExists(), false);
  });
});
