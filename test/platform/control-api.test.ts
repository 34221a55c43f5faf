import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { deploymentHash, sha256Hex } from '../../src/model/canonical-hash.js';
import { packageVersion } from '../../src/package-root.js';
import { type RunningPlatform, startPlatform } from '../../src/platform/server.js';
import { fnDef, serviceDef } from '../helpers/definitions.js';
import { makeTestSchema } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { makeHostileZip, makeZip } from '../helpers/zip.js';

// The platform on each store: the embedded default, and PostgreSQL in a schema of its own.
const variants: {
  name: string;
  database: () => Promise<{ url?: string; drop: () => Promise<void> }>;
}[] = [
  { name: 'sqlite', database: async () => ({ drop: async () => {} }) },
  {
    name: 'postgres',
    database: async () => {
      const s = await makeTestSchema();
      return { url: `${s.url}?schema=${s.schema}`, drop: s.drop };
    },
  },
];

for (const variant of variants)
  describe(`control-plane HTTP API on ${variant.name}`, () => {
    let platform: RunningPlatform;
    let cleanup: () => Promise<void>;
    const call = (
      method: string,
      path: string,
      init: { token?: string | null; body?: unknown; raw?: Buffer } = {},
    ) => {
      const headers: Record<string, string> = {};
      const token = init.token === undefined ? platform.adminToken : init.token;
      if (token !== null) headers.authorization = `Bearer ${token}`;
      let body: string | Buffer | undefined;
      if (init.raw) body = init.raw;
      else if (init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers['content-type'] = 'application/json';
      }
      return fetch(`${platform.url}${path}`, { method, headers, body });
    };
    const upload = async (zip: Buffer) =>
      call('PUT', `/v1/artifacts/${sha256Hex(zip)}`, { raw: zip });

    before(async () => {
      const tmp = await makeTempDir();
      const db = await variant.database();
      platform = await startPlatform({
        ...(db.url ? { databaseUrl: db.url } : {}),
        host: '127.0.0.1',
        port: 0,
        dataDir: tmp.dir,
        logger: pino({ level: 'silent' }),
        // Small caps so the limit tests need only small bodies.
        zipLimits: { maxZippedBytes: 4096, maxUnzippedBytes: 64 * 1024 },
      });
      cleanup = async () => {
        await platform.close();
        await db.drop();
        await tmp.cleanup();
      };
    });
    after(() => cleanup());

    test('health needs no token', async () => {
      const res = await call('GET', '/health', { token: null });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ok', version: packageVersion });
    });

    test('missing or wrong token: 401 with a JSON error, nothing stored', async () => {
      const zip = await makeZip({ 'handler.js': 'exports.x = 1' });
      for (const token of [null, 'wrong', `${platform.adminToken}x`]) {
        const res = await call('PUT', `/v1/artifacts/${sha256Hex(zip)}`, { token, raw: zip });
        assert.equal(res.status, 401);
        const body = (await res.json()) as { error: { code: string } };
        assert.equal(body.error.code, 'NIMBUS_AUTH_REQUIRED');
      }
      assert.equal((await call('HEAD', `/v1/artifacts/${sha256Hex(zip)}`)).status, 404);
      assert.equal((await call('GET', '/v1/services', { token: 'nope' })).status, 401);
    });

    test('artifact upload: stored once, hash checked, size capped, zip-slip refused', async () => {
      const zip = await makeZip({ 'handler.js': 'exports.hello = async () => 1' });
      assert.equal((await upload(zip)).status, 201);
      assert.equal((await upload(zip)).status, 200, 'second upload of the same bytes is a no-op');
      assert.equal((await call('HEAD', `/v1/artifacts/${sha256Hex(zip)}`)).status, 200);

      const other = await makeZip({ 'a.js': '1' });
      const mismatch = await call('PUT', `/v1/artifacts/${'0'.repeat(64)}`, { raw: other });
      assert.equal(mismatch.status, 400);
      assert.equal(
        ((await mismatch.json()) as { error: { code: string } }).error.code,
        'NIMBUS_ARTIFACT_HASH_MISMATCH',
      );

      const big = Buffer.alloc(5000, 1);
      assert.equal(
        (await call('PUT', `/v1/artifacts/${sha256Hex(big)}`, { raw: big })).status,
        413,
      );

      const bomb = await makeZip({ 'big.txt': 'x'.repeat(100 * 1024) });
      const bombRes = await upload(bomb);
      assert.equal(bombRes.status, 413, 'unzipped size over the cap');

      for (const hostile of ['../../../etc/x', '/abs/olute/xx']) {
        const evil = await makeHostileZip('safe/pathname', hostile.slice(0, 13).padEnd(13, 'x'));
        const res = await upload(evil);
        assert.equal(res.status, 400, hostile);
        assert.equal(
          ((await res.json()) as { error: { code: string } }).error.code,
          'NIMBUS_ARTIFACT_UNSAFE_PATH',
        );
        assert.equal(
          (await call('HEAD', `/v1/artifacts/${sha256Hex(evil)}`)).status,
          404,
          'nothing stored',
        );
      }

      assert.equal((await call('PUT', '/v1/artifacts/..%2F..%2Fetc', { raw: zip })).status, 400);
      assert.equal((await call('PUT', '/v1/artifacts/not-a-hash', { raw: zip })).status, 400);
    });

    test('deploy, read back, list, remove', async () => {
      const zip = await makeZip({ 'handler.js': 'exports.one = async () => 1' });
      await upload(zip);
      const sha = sha256Hex(zip);
      const definition = serviceDef([fnDef('one')]);
      const res = await call('POST', '/v1/services/svc/stages/dev/deployments', {
        body: { definition, functionArtifacts: { one: sha } },
      });
      assert.equal(res.status, 201);
      const body = (await res.json()) as {
        deployment: { hash: string };
        service: { functions: unknown[] };
      };
      assert.equal(body.deployment.hash, deploymentHash(definition, { one: sha }));
      assert.equal(body.service.functions.length, 1);

      const again = await call('POST', '/v1/services/svc/stages/dev/deployments', {
        body: { definition, functionArtifacts: { one: sha } },
      });
      assert.equal(again.status, 200);
      assert.equal(((await again.json()) as { skipped: boolean }).skipped, true);

      const stage = (await (await call('GET', '/v1/services/svc/stages/dev')).json()) as {
        functions: { functionName: string; version: number }[];
      };
      assert.deepEqual(
        stage.functions.map((f) => [f.functionName, f.version]),
        [['svc-dev-one', 1]],
      );
      const fn = (await (await call('GET', '/v1/functions/svc-dev-one')).json()) as {
        versions: unknown[];
      };
      assert.equal(fn.versions.length, 1);
      const list = (await (
        await call('GET', '/v1/services/svc/stages/dev/deployments')
      ).json()) as {
        deployments: unknown[];
      };
      assert.equal(list.deployments.length, 1);

      assert.equal((await call('DELETE', '/v1/services/svc/stages/dev')).status, 200);
      assert.equal((await call('GET', '/v1/services/svc/stages/dev')).status, 404);
      assert.equal((await call('DELETE', '/v1/services/svc/stages/dev')).status, 404);
      assert.equal((await call('GET', '/v1/functions/svc-dev-one')).status, 404);
    });

    test('bad deploy requests are refused with 400 and change nothing', async () => {
      const zip = await makeZip({ 'handler.js': 'exports.one = 1' });
      await upload(zip);
      const sha = sha256Hex(zip);
      const cases: [unknown, string][] = [
        [
          { definition: serviceDef([fnDef('one')]), functionArtifacts: { one: 'f'.repeat(64) } },
          'not uploaded',
        ],
        [{ definition: serviceDef([fnDef('one')]), functionArtifacts: {} }, 'no artifact'],
        [
          {
            definition: serviceDef([fnDef('one', { timeout: 5000 })]),
            functionArtifacts: { one: sha },
          },
          'timeout',
        ],
        [
          {
            definition: serviceDef([fnDef('one', { name: '../../x' })]),
            functionArtifacts: { one: sha },
          },
          'name',
        ],
        [
          {
            definition: serviceDef([fnDef('one')], { stage: 'prod' }),
            functionArtifacts: { one: sha },
          },
          'not svc/dev',
        ],
        [
          {
            definition: serviceDef([
              fnDef('one', {
                events: [{ kind: 'schedule', rate: ['cron(0 12 * * * *)'], enabled: true }],
              }),
            ]),
            functionArtifacts: { one: sha },
          },
          'events\\[0\\]\\.schedule: .*day-of-week',
        ],
        [
          {
            definition: serviceDef([
              fnDef('one', {
                events: [
                  { kind: 'httpApi', method: 'GET', path: '/open' },
                  { kind: 'httpApi', method: 'GET', path: '/x', authorizer: { name: 'jwt' } },
                ],
              }),
            ]),
            functionArtifacts: { one: sha },
          },
          'events\\[1\\]\\.httpApi\\.authorizer: "jwt" is not in provider.httpApi.authorizers',
        ],
        [
          {
            definition: serviceDef([
              fnDef('one', {
                events: [{ kind: 'http', method: 'GET', path: 'x', authorizer: 'nope' }],
              }),
            ]),
            functionArtifacts: { one: sha },
          },
          'events\\[0\\]\\.http\\.authorizer: authorizer function "nope" is not defined',
        ],
        ['just a string', '(body)'],
      ];
      for (const [body, expected] of cases) {
        const res = await call('POST', '/v1/services/svc/stages/dev/deployments', { body });
        assert.equal(res.status, 400, expected);
        const err = (await res.json()) as { error: { message: string } };
        assert.match(err.error.message, new RegExp(expected.replace(/[()]/g, '\\$&')));
      }
      const broken = await fetch(`${platform.url}/v1/services/svc/stages/dev/deployments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${platform.adminToken}` },
        body: '{not json',
      });
      assert.equal(broken.status, 400);
      assert.equal((await call('GET', '/v1/services/svc/stages/dev')).status, 404);
    });

    test('unknown routes and methods', async () => {
      assert.equal((await call('GET', '/v1/nothing')).status, 404);
      assert.equal((await call('PATCH', '/v1/services')).status, 405);
      assert.equal((await call('GET', '/elsewhere', { token: null })).status, 404);
    });
  });
