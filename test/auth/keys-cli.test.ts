/**
 * `/v1/keys` on the control plane, driven by `nimbus keys` in-process; then a key it created
 * signs a real AWS SDK call to the Invoke API, and a deleted key no longer does.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { keysRoutes } from '../../src/platform/auth/keys-routes.js';
import { KyselyAccessKeyStore } from '../../src/platform/auth/kysely-access-key-store.js';
import { createRequestVerifier } from '../../src/platform/auth/request-verifier.js';
import { MiB } from '../../src/platform/config.js';
import { type ControlApiDeps, createControlApi } from '../../src/platform/control/control-api.js';
import { sendError } from '../../src/platform/http/send.js';
import { createLambdaApi } from '../../src/platform/lambda-api/lambda-api.js';
import { openSqliteDatabase } from '../../src/store/sqlite.js';
import { type CliRun, runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { FakeInvoker } from '../lambda-api/fake-invoker.js';

describe('nimbus keys against the control plane', () => {
  const adminToken = `nimbus_${randomBytes(16).toString('hex')}`;
  let url: string;
  let cwd: string;
  let cleanup: () => Promise<void>;
  const cli = (args: string[], token: string | undefined = adminToken): Promise<CliRun> =>
    runCli(['keys', ...args], {
      cwd,
      env: { NIMBUS_ENDPOINT: url, NIMBUS_TOKEN: token, HOME: cwd },
    });

  before(async () => {
    const tmp = await makeTempDir();
    cwd = tmp.dir;
    const db = await openSqliteDatabase({ file: join(tmp.dir, 'nimbus.db') });
    const clock = { now: () => Date.now() };
    const keys = new KyselyAccessKeyStore(db, randomBytes(32), clock);
    // Only the key routes are exercised, so the deploy-side collaborators are left out.
    const control = createControlApi({
      adminToken,
      maxJsonBytes: MiB,
      extraRoutes: keysRoutes(keys),
    } as unknown as ControlApiDeps);
    const lambda = createLambdaApi({
      invoker: new FakeInvoker({ echo: () => ({}) }),
      verify: createRequestVerifier({ keys, adminToken, clock }),
      maxSyncPayloadBytes: 6 * MiB,
    });
    const server: Server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const handled = path.startsWith('/v1/') ? control(req, res, path) : lambda(req, res, path);
      handled.catch((e) => sendError(res, e, () => {}));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    cleanup = async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await db.destroy();
      await tmp.cleanup();
    };
  });
  after(() => cleanup());

  test('create (--json) shows the secret once; list never shows it; the key signs SDK calls', async () => {
    const created = await cli(['create', '--description', 'laptop', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const { key } = JSON.parse(created.stdout) as { key: { id: string; secret: string } };
    assert.match(key.id, /^NIMB[A-Z0-9]{16}$/);
    assert.equal(key.secret.length, 40);

    const listed = await cli(['list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const { keys } = JSON.parse(listed.stdout) as { keys: Record<string, unknown>[] };
    assert.deepEqual(
      keys.map((k) => [k.id, k.description]),
      [[key.id, 'laptop']],
    );
    assert.ok(!listed.stdout.includes(key.secret));

    const lambda = new LambdaClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
      maxAttempts: 1,
    });
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'echo', Payload: new TextEncoder().encode('[1]') }),
    );
    assert.equal(new TextDecoder().decode(out.Payload), '[1]');

    // Used just now: list shows when.
    const human = await cli(['list']);
    assert.match(human.stdout, /^ID\s+CREATED\s+LAST USED\s+SCOPE\s+DESCRIPTION$/m);
    assert.match(
      human.stdout,
      new RegExp(`^${key.id}\\s+\\S+\\s+\\d{4}-\\S+\\s+all\\s+laptop$`, 'm'),
    );

    const deleted = await cli(['delete', key.id]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stderr, new RegExp(`Access key ${key.id} deleted`));
    const err = await lambda.send(new InvokeCommand({ FunctionName: 'echo' })).catch((e) => e);
    assert.equal(err.name, 'UnrecognizedClientException');

    const again = await cli(['delete', key.id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /does not exist/);
  });

  test('human create output names both halves of the key', async () => {
    const run = await cli(['create']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^accessKeyId: NIMB[A-Z0-9]{16}\nsecretAccessKey: \S{40}\n$/);
    assert.match(run.stderr, /shown this once/);
  });

  test('the key routes need the admin token', async () => {
    const run = await cli(['list'], 'wrong');
    assert.equal(run.code, 1);
    assert.match(run.stderr, /missing or wrong admin token/);
    const res = await fetch(`${url}/v1/keys`, { method: 'POST' });
    assert.equal(res.status, 401);
  });

  test('bad create bodies are refused', async () => {
    const post = (body: string) =>
      fetch(`${url}/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body,
      });
    assert.equal((await post('{nope')).status, 400);
    const long = await post(JSON.stringify({ description: 'x'.repeat(300) }));
    assert.equal(long.status, 400);
    assert.equal(
      ((await long.json()) as { error: { code: string } }).error.code,
      'NIMBUS_AUTH_BAD_DESCRIPTION',
    );
    const ok = await post('');
    assert.equal(ok.status, 201);
    assert.equal(ok.headers.get('cache-control'), 'no-store');
  });
});
