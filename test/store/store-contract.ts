/**
 * The Store contract: every adapter runs this suite from its own few-line test file. Each test
 * gets a fresh, empty store from `open` and releases it with `cleanup`.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Store, StoreReader } from '../../src/store/store.js';
import { deploymentRow, functionConfig, serviceDefinition, versionRow } from './store-fixtures.js';

export type OpenStore = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

const t0 = '2025-01-01T00:00:00.000Z';
const t1 = '2025-01-02T00:00:00.000Z';
const ms = 1_750_000_000_000;

export function runStoreContract(name: string, open: OpenStore): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });
    afterEach(async () => {
      await cleanup();
    });

    /** A stage with one function `hello` at versions 1 and 2, alias `dev` -> 2, one deployment. */
    async function seed(service = 'svc', stage = 'dev') {
      return store.transaction(async (tx) => {
        const s = await tx.upsertStage({ service, stage, region: 'local', now: t0 });
        const fn = await tx.insertFunction({
          stageId: s.id,
          key: 'hello',
          name: `${service}-${stage}-hello`,
        });
        await tx.insertVersion(versionRow(fn.id, 1));
        await tx.insertVersion(versionRow(fn.id, 2));
        await tx.setAlias({ functionId: fn.id, name: 'dev', version: 2 });
        await tx.insertDeployment(deploymentRow(`${service}-${stage}-d1`, s.id, ms));
        return { stage: s, fn };
      });
    }

    describe('stages', () => {
      it('creates a stage, then refreshes region and updatedAt keeping id and createdAt', async () => {
        const created = await store.transaction((tx) =>
          tx.upsertStage({ service: 'svc', stage: 'dev', region: 'local', now: t0 }),
        );
        assert.equal(typeof created.id, 'number');
        assert.deepEqual(created, {
          id: created.id,
          service: 'svc',
          stage: 'dev',
          region: 'local',
          createdAt: t0,
          updatedAt: t0,
        });

        const refreshed = await store.transaction((tx) =>
          tx.upsertStage({ service: 'svc', stage: 'dev', region: 'eu', now: t1 }),
        );
        assert.deepEqual(refreshed, { ...created, region: 'eu', updatedAt: t1 });
        assert.deepEqual(await store.findStage('svc', 'dev'), refreshed);
        assert.deepEqual(await store.listStages(), [refreshed]);
      });

      it('finds nothing for an unknown stage and lists stages by service then stage', async () => {
        assert.equal(await store.findStage('svc', 'nope'), undefined);
        await store.transaction(async (tx) => {
          await tx.upsertStage({ service: 'b', stage: 'dev', region: 'r', now: t0 });
          await tx.upsertStage({ service: 'a', stage: 'prod', region: 'r', now: t0 });
          await tx.upsertStage({ service: 'a', stage: 'dev', region: 'r', now: t0 });
        });
        const listed = (await store.listStages()).map((s) => `${s.service}/${s.stage}`);
        assert.deepEqual(listed, ['a/dev', 'a/prod', 'b/dev']);
      });
    });

    describe('functions', () => {
      it('inserts, lists by key and finds by name', async () => {
        const { stage, fn } = await seed();
        const other = await store.transaction((tx) =>
          tx.insertFunction({ stageId: stage.id, key: 'abc', name: 'svc-dev-abc' }),
        );
        assert.deepEqual(fn, { id: fn.id, stageId: stage.id, key: 'hello', name: 'svc-dev-hello' });
        assert.deepEqual(await store.listFunctions(stage.id), [other, fn]);
        assert.deepEqual(await store.findFunctionByName('svc-dev-hello'), fn);
        assert.equal(await store.findFunctionByName('missing'), undefined);
        assert.deepEqual(await store.listFunctions(stage.id + 1000), []);
      });

      it('rejects a function name already used by any stage', async () => {
        await seed('svc', 'dev');
        const prod = await store.transaction((tx) =>
          tx.upsertStage({ service: 'svc', stage: 'prod', region: 'r', now: t0 }),
        );
        await assert.rejects(
          store.transaction((tx) =>
            tx.insertFunction({ stageId: prod.id, key: 'other', name: 'svc-dev-hello' }),
          ),
          { code: 'NIMBUS_STORE_CONFLICT' },
        );
      });

      it('rejects a function of a missing stage', async () => {
        await assert.rejects(
          store.transaction((tx) => tx.insertFunction({ stageId: 999, key: 'k', name: 'n' })),
          { code: 'NIMBUS_STORE_MISSING_REFERENCE' },
        );
      });
    });

    describe('versions and aliases', () => {
      it('lists versions oldest first and round-trips their config', async () => {
        const { fn } = await seed();
        await store.transaction(async (tx) => {
          await tx.insertVersion(versionRow(fn.id, 4));
          await tx.insertVersion(versionRow(fn.id, 3));
        });
        const listed = await store.listVersions(fn.id);
        assert.deepEqual(
          listed.map((v) => v.version),
          [1, 2, 3, 4],
        );
        assert.deepEqual(listed[2], versionRow(fn.id, 3));
        assert.deepEqual(await store.getVersion(fn.id, 2), versionRow(fn.id, 2));
        assert.deepEqual((await store.getVersion(fn.id, 2))?.config, functionConfig('hello', 256));
        assert.equal(await store.getVersion(fn.id, 9), undefined);
      });

      it('rejects a duplicate version', async () => {
        const { fn } = await seed();
        await assert.rejects(
          store.transaction((tx) => tx.insertVersion(versionRow(fn.id, 1))),
          { code: 'NIMBUS_STORE_CONFLICT' },
        );
      });

      it('sets an alias by inserting it or moving it', async () => {
        const { fn } = await seed();
        assert.deepEqual(await store.listAliases(fn.id), [
          { functionId: fn.id, name: 'dev', version: 2 },
        ]);
        await store.transaction(async (tx) => {
          await tx.setAlias({ functionId: fn.id, name: 'dev', version: 1 });
          await tx.setAlias({ functionId: fn.id, name: 'canary', version: 2 });
        });
        assert.deepEqual(await store.listAliases(fn.id), [
          { functionId: fn.id, name: 'canary', version: 2 },
          { functionId: fn.id, name: 'dev', version: 1 },
        ]);
      });

      it('rejects an alias to a version that does not exist', async () => {
        const { fn } = await seed();
        await assert.rejects(
          store.transaction((tx) => tx.setAlias({ functionId: fn.id, name: 'dev', version: 7 })),
          { code: 'NIMBUS_STORE_MISSING_REFERENCE' },
        );
      });
    });

    describe('deployments', () => {
      it('lists newest first and round-trips the JSON payloads and BIGINT timestamp', async () => {
        const { stage } = await seed();
        await store.transaction(async (tx) => {
          await tx.insertDeployment(deploymentRow('d3', stage.id, ms + 2000));
          await tx.insertDeployment(deploymentRow('d2', stage.id, ms + 1000));
        });
        const listed = await store.listDeployments(stage.id);
        assert.deepEqual(
          listed.map((d) => d.id),
          ['d3', 'd2', 'svc-dev-d1'],
        );
        assert.deepEqual(listed[0], deploymentRow('d3', stage.id, ms + 2000));
        assert.equal(typeof listed[0]?.timestamp, 'number');
        assert.deepEqual(listed[0]?.definition, serviceDefinition());
      });

      it('deletes by ids, ignoring unknown ids and an empty list', async () => {
        const { stage } = await seed();
        await store.transaction(async (tx) => {
          await tx.insertDeployment(deploymentRow('d2', stage.id, ms + 1000));
          await tx.insertDeployment(deploymentRow('d3', stage.id, ms + 2000));
        });
        await store.transaction(async (tx) => {
          await tx.deleteDeployments([]);
          await tx.deleteDeployments(['d2', 'svc-dev-d1', 'unknown']);
        });
        assert.deepEqual(
          (await store.listDeployments(stage.id)).map((d) => d.id),
          ['d3'],
        );
      });

      it('rejects a duplicate deployment id', async () => {
        const { stage } = await seed();
        await assert.rejects(
          store.transaction((tx) =>
            tx.insertDeployment(deploymentRow('svc-dev-d1', stage.id, ms + 5)),
          ),
          { code: 'NIMBUS_STORE_CONFLICT' },
        );
      });
    });

    describe('deletes', () => {
      it('deleteFunction removes its versions and aliases and nothing else', async () => {
        const { stage, fn } = await seed();
        const kept = await store.transaction(async (tx) => {
          const f = await tx.insertFunction({ stageId: stage.id, key: 'kept', name: 'kept' });
          await tx.insertVersion(versionRow(f.id, 1));
          await tx.setAlias({ functionId: f.id, name: 'dev', version: 1 });
          return f;
        });
        await store.transaction((tx) => tx.deleteFunction(fn.id));

        assert.deepEqual(await store.listFunctions(stage.id), [kept]);
        assert.equal(await store.findFunctionByName(fn.name), undefined);
        assert.deepEqual(await store.listVersions(fn.id), []);
        assert.deepEqual(await store.listAliases(fn.id), []);
        assert.equal((await store.listVersions(kept.id)).length, 1);
        assert.equal((await store.listAliases(kept.id)).length, 1);
        assert.equal((await store.listDeployments(stage.id)).length, 1);
      });

      it('deleteStage removes functions, versions, aliases and deployments, and nothing else', async () => {
        const dev = await seed('svc', 'dev');
        const prod = await seed('svc', 'prod');
        await store.transaction((tx) => tx.deleteStage(dev.stage.id));

        assert.equal(await store.findStage('svc', 'dev'), undefined);
        assert.deepEqual(await store.listFunctions(dev.stage.id), []);
        assert.equal(await store.findFunctionByName(dev.fn.name), undefined);
        assert.deepEqual(await store.listVersions(dev.fn.id), []);
        assert.deepEqual(await store.listAliases(dev.fn.id), []);
        assert.deepEqual(await store.listDeployments(dev.stage.id), []);

        assert.deepEqual(await store.listStages(), [prod.stage]);
        assert.equal((await store.listVersions(prod.fn.id)).length, 2);
        assert.equal((await store.listAliases(prod.fn.id)).length, 1);
        assert.equal((await store.listDeployments(prod.stage.id)).length, 1);
      });

      it('a stage deleted and created again gets a new id', async () => {
        const first = await seed();
        await store.transaction((tx) => tx.deleteStage(first.stage.id));
        const again = await seed();
        assert.notEqual(again.stage.id, first.stage.id);
        assert.notEqual(again.fn.id, first.fn.id);
      });
    });

    describe('transactions', () => {
      it('a transaction that throws leaves nothing behind', async () => {
        const { stage, fn } = await seed();
        const before = await snapshot(store, stage.id, fn.id);
        const boom = new Error('boom');

        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.upsertStage({ service: 'svc', stage: 'dev', region: 'moved', now: t1 });
            const s2 = await tx.upsertStage({ service: 'new', stage: 'dev', region: 'r', now: t1 });
            const f2 = await tx.insertFunction({ stageId: stage.id, key: 'f2', name: 'f2' });
            await tx.insertVersion(versionRow(fn.id, 3));
            await tx.insertVersion(versionRow(f2.id, 1));
            await tx.setAlias({ functionId: fn.id, name: 'dev', version: 1 });
            await tx.insertDeployment(deploymentRow('d9', stage.id, ms + 9));
            await tx.insertDeployment(deploymentRow('d10', s2.id, ms + 10));
            await tx.deleteDeployments(['svc-dev-d1']);
            throw boom;
          }),
          (err) => err === boom,
        );

        assert.deepEqual(await snapshot(store, stage.id, fn.id), before);
        assert.equal(await store.findStage('new', 'dev'), undefined);
        assert.equal(await store.findFunctionByName('f2'), undefined);
      });

      it('a transaction rolled back by a cascade delete restores every child', async () => {
        const { stage, fn } = await seed();
        const before = await snapshot(store, stage.id, fn.id);
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.deleteStage(stage.id);
            throw new Error('undo');
          }),
          /undo/,
        );
        assert.deepEqual(await snapshot(store, stage.id, fn.id), before);
      });

      it('reads inside a transaction see its writes; a committed transaction is visible after', async () => {
        const result = await store.transaction(async (tx) => {
          const s = await tx.upsertStage({ service: 'svc', stage: 'dev', region: 'r', now: t0 });
          const f = await tx.insertFunction({ stageId: s.id, key: 'hello', name: 'h' });
          await tx.insertVersion(versionRow(f.id, 1));
          await tx.setAlias({ functionId: f.id, name: 'dev', version: 1 });
          await tx.insertDeployment(deploymentRow('d1', s.id, ms));

          assert.deepEqual(await tx.findStage('svc', 'dev'), s);
          assert.deepEqual(await tx.listFunctions(s.id), [f]);
          assert.deepEqual(await tx.findFunctionByName('h'), f);
          assert.deepEqual(await tx.getVersion(f.id, 1), versionRow(f.id, 1));
          assert.equal((await tx.listAliases(f.id)).length, 1);
          assert.equal((await tx.listDeployments(s.id)).length, 1);
          return { s, f, inside: await snapshot(tx, s.id, f.id) };
        });

        assert.deepEqual(await snapshot(store, result.s.id, result.f.id), result.inside);
      });

      it('returns the value fn resolves with', async () => {
        assert.equal(await store.transaction(async () => 42), 42);
      });
    });

    describe('layer versions', () => {
      const layer = (name: string, sha: string, owner?: string) => ({
        name,
        codeSha256: sha.repeat(64),
        codeSize: 10,
        unzippedSize: 30,
        settings: { description: 'd', compatibleRuntimes: ['nodejs20.x'] },
        configSha256: 'c'.repeat(64),
        ...(owner ? { owner } : {}),
        createdAt: t0,
      });

      it('numbers versions per name from 1, never reusing a deleted number', async () => {
        const a1 = await store.transaction((tx) => tx.insertLayerVersion(layer('a', '1')));
        const a2 = await store.transaction((tx) =>
          tx.insertLayerVersion(layer('a', '2', 'svc/dev')),
        );
        const b1 = await store.transaction((tx) => tx.insertLayerVersion(layer('b', '3')));
        assert.deepEqual([a1.version, a2.version, b1.version], [1, 2, 1]);
        assert.deepEqual(await store.getLayerVersion('a', 2), {
          ...layer('a', '2', 'svc/dev'),
          version: 2,
        });
        assert.equal(await store.transaction((tx) => tx.deleteLayerVersion('a', 2)), true);
        assert.equal(await store.transaction((tx) => tx.deleteLayerVersion('a', 2)), false);
        const a3 = await store.transaction((tx) => tx.insertLayerVersion(layer('a', '4')));
        assert.equal(a3.version, 3);
        assert.deepEqual(
          (await store.listLayerVersions()).map((v) => `${v.name}:${v.version}`),
          ['a:1', 'a:3', 'b:1'],
        );
        assert.deepEqual(
          (await store.listLayerVersions('a')).map((v) => v.version),
          [1, 3],
        );
        assert.equal(await store.getLayerVersion('a', 2), undefined);
      });

      it('rolls a published version back with its transaction, number included', async () => {
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.insertLayerVersion(layer('c', '5'));
            throw new Error('abort');
          }),
        );
        assert.deepEqual(await store.listLayerVersions('c'), []);
        const c1 = await store.transaction((tx) => tx.insertLayerVersion(layer('c', '6')));
        assert.equal(c1.version, 1);
      });
    });
  });
}

/** Everything the reads can tell about one stage and one function. */
async function snapshot(reader: StoreReader, stageId: number, functionId: number) {
  return {
    stages: await reader.listStages(),
    functions: await reader.listFunctions(stageId),
    versions: await reader.listVersions(functionId),
    aliases: await reader.listAliases(functionId),
    deployments: await reader.listDeployments(stageId),
  };
}
