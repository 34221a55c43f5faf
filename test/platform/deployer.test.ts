import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BlobStore } from '../../src/blob/blob-store.js';
import { FsBlobStore } from '../../src/blob/fs-blob-store.js';
import { deploymentHash } from '../../src/model/canonical-hash.js';
import type { ServiceDefinition } from '../../src/model/service-definition.js';
import { lambdaZipLimits, ZipRejectedError } from '../../src/packaging/zip-safety.js';
import { Deployer } from '../../src/platform/control/deployer.js';
import { CodeCache } from '../../src/platform/invoker/code-cache.js';
import type { Store, StoreWriter } from '../../src/store/store.js';
import { fnDef, serviceDef } from '../helpers/definitions.js';
import { storeVariants } from '../helpers/store-variants.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { makeZip } from '../helpers/zip.js';

const codeA = 'a'.repeat(64);
const codeB = 'b'.repeat(64);

/** Every artifact "exists": the deployer only asks has() and size(). */
const blobs = {
  has: async () => true,
  size: async () => 123,
} as unknown as BlobStore;

function input(definition: ServiceDefinition, artifacts: Record<string, string>, force = false) {
  return {
    definition,
    functionArtifacts: artifacts,
    hash: deploymentHash(definition, artifacts),
    force,
  };
}

async function snapshot(store: Store) {
  const stage = await store.findStage('svc', 'dev');
  if (!stage) return undefined;
  const fns = await store.listFunctions(stage.id);
  const out: Record<string, unknown> = { deployments: await store.listDeployments(stage.id) };
  for (const fn of fns) {
    out[fn.name] = {
      versions: await store.listVersions(fn.id),
      aliases: await store.listAliases(fn.id),
    };
  }
  return out;
}

for (const variant of storeVariants) {
  describe(`Deployer on ${variant.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let now = 1_700_000_000_000;
    const clock = { now: () => now };
    before(async () => {
      ({ store, cleanup } = await variant.open());
    });
    after(() => cleanup());

    test('versions: first deploy is 1, unchanged keeps, changed code or config gets the next', async () => {
      const deployer = new Deployer({ store, blobs, clock, retainDeployments: 5 });
      const v1 = serviceDef([fnDef('one'), fnDef('two')]);
      const first = await deployer.deploy(input(v1, { one: codeA, two: codeA }));
      assert.equal(first.skipped, false);
      assert.deepEqual(first.deployment.functions, { one: 1, two: 1 });

      now += 1000;
      const same = await deployer.deploy(input(v1, { one: codeA, two: codeA }));
      assert.equal(same.skipped, true);

      now += 1000;
      const forced = await deployer.deploy(input(v1, { one: codeA, two: codeA }, true));
      assert.equal(forced.skipped, false);
      assert.deepEqual(
        forced.deployment.functions,
        { one: 1, two: 1 },
        'force publishes no new version',
      );

      now += 1000;
      const v2 = serviceDef([fnDef('one'), fnDef('two', { timeout: 30 })]);
      const second = await deployer.deploy(input(v2, { one: codeB, two: codeA }));
      assert.deepEqual(second.deployment.functions, { one: 2, two: 2 });

      const stage = (await store.findStage('svc', 'dev'))!;
      for (const fn of await store.listFunctions(stage.id)) {
        assert.deepEqual(
          (await store.listVersions(fn.id)).map((v) => v.version),
          [1, 2],
        );
        assert.deepEqual(await store.listAliases(fn.id), [
          { functionId: fn.id, name: 'dev', version: 2 },
        ]);
      }
      const version1 = await store.getVersion(
        (await store.findFunctionByName('svc-dev-two'))!.id,
        1,
      );
      assert.equal(version1?.config.timeout, 6, 'old versions are immutable');
    });

    test('a function dropped from the definition is removed; concurrency changes publish nothing', async () => {
      const deployer = new Deployer({ store, blobs, clock, retainDeployments: 5 });
      now += 1000;
      const def = serviceDef([fnDef('one', { reservedConcurrency: 5 })]);
      const res = await deployer.deploy(input(def, { one: codeB }));
      assert.equal(res.skipped, false);
      if (!res.skipped) {
        assert.deepEqual(res.removed, ['two']);
        assert.deepEqual(
          res.changes.map((c) => c.kind),
          ['unchanged'],
        );
      }
      assert.equal(await store.findFunctionByName('svc-dev-two'), undefined);
    });

    test('only the newest N deployments are retained', async () => {
      const deployer = new Deployer({ store, blobs, clock, retainDeployments: 2 });
      for (let i = 0; i < 3; i++) {
        now += 1000;
        await deployer.deploy(
          input(serviceDef([fnDef('one', { memorySize: 256 + i })]), { one: codeA }),
        );
      }
      const stage = (await store.findStage('svc', 'dev'))!;
      const rows = await store.listDeployments(stage.id);
      assert.equal(rows.length, 2);
      assert.ok(rows[0]!.timestamp > rows[1]!.timestamp, 'newest first');
    });

    test('a deployment that fails part-way leaves the previous one fully in place', async () => {
      const before = await snapshot(store);
      // The store fails on the last write of the transaction, after versions and aliases were written.
      const failing: Store = {
        ...bindAll(store),
        transaction: (fn) =>
          store.transaction((tx) =>
            fn({
              ...bindAll(tx),
              insertDeployment: async () => {
                throw new Error('injected failure');
              },
            } as StoreWriter),
          ),
      };
      const deployer = new Deployer({ store: failing, blobs, clock, retainDeployments: 5 });
      now += 1000;
      const def = serviceDef([fnDef('one', { timeout: 99 }), fnDef('three')]);
      await assert.rejects(
        deployer.deploy(input(def, { one: codeB, three: codeB })),
        /injected failure/,
      );
      assert.deepEqual(await snapshot(store), before);
    });

    test('code that cannot be extracted refuses the deploy before anything is recorded', async () => {
      const before = await snapshot(store);
      const broken = new Deployer({
        store,
        blobs,
        clock,
        retainDeployments: 5,
        prepareCode: async () => {
          throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        },
      });
      now += 1000;
      const def = serviceDef([fnDef('one', { timeout: 77 })]);
      await assert.rejects(broken.deploy(input(def, { one: codeB })), {
        code: 'NIMBUS_DEPLOY_CODE_UNAVAILABLE',
        status: 503,
      });
      await assert.rejects(
        broken.deployFunction({
          service: 'svc',
          stage: 'dev',
          key: 'one',
          artifact: codeA,
          force: false,
        }),
        { code: 'NIMBUS_DEPLOY_CODE_UNAVAILABLE' },
      );
      assert.deepEqual(await snapshot(store), before);

      const refused = new ZipRejectedError('NIMBUS_ARTIFACT_INVALID', 'duplicate entry a.js');
      const rejecting = new Deployer({
        store,
        blobs,
        clock,
        retainDeployments: 5,
        prepareCode: async () => {
          throw refused;
        },
      });
      await assert.rejects(rejecting.deploy(input(def, { one: codeB })), refused);
      assert.deepEqual(await snapshot(store), before);
    });

    test('a real code cache on a broken disk refuses the deploy with 503', async () => {
      const tmp = await makeTempDir();
      try {
        const fsBlobs = new FsBlobStore(join(tmp.dir, 'blobs'));
        const zip = await makeZip({ 'handler.js': 'exports.hello = async () => 1;' });
        const sha = createHash('sha256').update(zip).digest('hex');
        await fsBlobs.put(sha, zip);
        // The cache's root is a plain file: every mkdir under it fails, even for root.
        const root = join(tmp.dir, 'code');
        await writeFile(root, 'not a directory');
        const cache = new CodeCache({ root, blobs: fsBlobs, limits: lambdaZipLimits });
        const deployer = new Deployer({
          store,
          blobs: fsBlobs,
          clock,
          retainDeployments: 5,
          prepareCode: async (artifact) => {
            await cache.dir(artifact);
          },
        });
        const before = await snapshot(store);
        now += 1000;
        await assert.rejects(deployer.deploy(input(serviceDef([fnDef('one')]), { one: sha })), {
          code: 'NIMBUS_DEPLOY_CODE_UNAVAILABLE',
        });
        assert.deepEqual(await snapshot(store), before);
      } finally {
        await tmp.cleanup();
      }
    });

    test('a name owned by another stage is refused', async () => {
      const deployer = new Deployer({ store, blobs, clock, retainDeployments: 5 });
      const other = serviceDef([fnDef('one')], { stage: 'prod' });
      await assert.rejects(deployer.deploy(input(other, { one: codeA })), {
        code: 'NIMBUS_DEPLOY_NAME_TAKEN',
      });
      assert.equal(await store.findStage('svc', 'prod'), undefined);
    });
  });
}

/** Copies an object's methods bound to it, so a test can override one and keep the rest. */
function bindAll<T extends object>(obj: T): T {
  const out: Record<string, unknown> = {};
  let proto: object | null = obj;
  while (proto && proto !== Object.prototype) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const value = (obj as Record<string, unknown>)[key];
      if (key !== 'constructor' && typeof value === 'function' && !(key in out)) {
        out[key] = (value as (...a: unknown[]) => unknown).bind(obj);
      }
    }
    proto = Object.getPrototypeOf(proto);
  }
  return out as T;
}
